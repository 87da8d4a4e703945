"""
test_cases.py: runs the table-driven HTTP cases of tests/cases/*.json against the real spmigd,
one server per file, one test per case (the format is in tests/cases/README.md). Requests go
out raw (http.client, or a plain socket for announced bodies), signed with SharedKey, a
service SAS (damaged on purpose where a case says so) or a bearer token; answers are checked
for their status, headers, and the Azure <Error> or SharePoint error body in full.

Run with /usr/bin/python3 (meson sets $SPMIGD).
"""
import base64
import datetime
import hashlib
import json
import os
import re
import sys
import unittest
import urllib.parse

import harness
import migration_tool as mt
from harness import ServerTestCase, request, send_raw, unique_name

ADMIN = 'cases-admin'
CASES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'cases')
BLOB_DATA = bytes(range(256)) * 4 + b'0123456789' * 10 + b'tail'  # {blob}: 1128 bytes
WRONG_KEY = base64.b64encode(b'not the account key at all......').decode()
ACCEPT = {'verbose': mt.VERBOSE, 'nometadata': mt.NOMETADATA,
          'minimal': 'application/json;odata=minimalmetadata', 'none': None}
ODATA_MODE = {'verbose': 'odata=verbose', 'nometadata': 'odata=nometadata',
              'minimal': 'odata=minimalmetadata', 'none': 'odata=minimalmetadata'}
PLACEHOLDER = re.compile(r'\{(account|container|queue|blob|absent|b64|b64q|md5)(?::([^{}]*))?\}')


def offset(text):
    """'-2h', '+30m', '+1d' from now (UTC)."""
    m = re.fullmatch(r'([+-]\d+)([smhd])', text)
    if not m:
        raise ValueError('bad time offset %r' % text)
    unit = {'s': 'seconds', 'm': 'minutes', 'h': 'hours', 'd': 'days'}[m.group(2)]
    return harness.utcnow() + datetime.timedelta(**{unit: int(m.group(1))})


def matches(test, got, want, what):
    """want: a value (equal), {"match": regex} (searched), or None (got must be None)."""
    if isinstance(want, dict) and set(want) == {'match'}:
        test.assertIsNotNone(got, what)
        test.assertRegex(got, want['match'], what)
    else:
        test.assertEqual(got, want, what)


class CaseRunner(ServerTestCase):
    """One file of cases; the subclasses are made from the files below."""
    server_args = ('--admin-token', ADMIN)
    cases_file = None
    listener = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.names = {'account': harness.ACCOUNT, 'container': unique_name('cases'),
                     'queue': unique_name('cases'), 'blob': 'exists.bin',
                     'absent': unique_name('absent')}
        cls.request_ids = set()
        base = cls.server.blob_account_url + '/' + cls.names['container']
        for method, url, body, headers in (
                ('PUT', base + '?restype=container', b'', {}),
                ('PUT', base + '/exists.bin', BLOB_DATA, {'x-ms-blob-type': 'BlockBlob'}),
                ('PUT', '%s/%s' % (cls.server.queue_account_url, cls.names['queue']), b'', {})):
            r = request(method, url, auth='sharedkey', body=body, headers=headers)
            assert r.status == 201, r
        cls.member = mt.emu(cls.server.sp, ADMIN, 'POST', 'users',
                            {'login': 'member@contoso.com', 'role': 'Member', 'site': '/'})['token']

    # -- requests -----------------------------------------------------------------------------

    def subst(self, text):
        def one(m):
            name, arg = m.group(1), m.group(2)
            if name == 'b64':
                return base64.b64encode(arg.encode()).decode()
            if name == 'b64q':
                return urllib.parse.quote(base64.b64encode(arg.encode()).decode(), safe='')
            if name == 'md5':
                return base64.b64encode(hashlib.md5(arg.encode()).digest()).decode()
            return self.names[name]
        return PLACEHOLDER.sub(one, text)

    def body(self, spec):
        if spec is None:
            return None
        if isinstance(spec, str):
            return self.subst(spec).encode('utf-8')
        if 'json' in spec:
            return json.dumps(spec['json']).encode('utf-8')
        return (spec.get('prefix', '') + spec['repeat'] * spec['times'] +
                spec.get('suffix', '')).encode('utf-8')

    def sas(self, spec):
        kind = spec['sas']
        start = offset(spec['start']) if 'start' in spec else None
        expiry = offset(spec['expiry']) if 'expiry' in spec else None
        sv = spec.get('sv', harness.RAW_VERSION)
        if kind == 'blob':
            q, _ = harness.blob_service_sas(sv, self.names['container'],
                                            permissions=spec.get('permissions', 'r'),
                                            start=start, expiry=expiry,
                                            resource=spec.get('resource'))
        else:
            q, _ = harness.queue_service_sas(sv, self.names['queue'],
                                             permissions=spec.get('permissions', 'r'),
                                             start=start, expiry=expiry)
        if spec.get('tamper'):
            q = harness.tamper_sig(q)
        if 'set' in spec or 'drop' in spec:
            fields = [(k, spec.get('set', {}).get(k, v))
                      for k, v in urllib.parse.parse_qsl(q, keep_blank_values=True)
                      if k not in spec.get('drop', ())]
            q = '&'.join('%s=%s' % (k, urllib.parse.quote(v, safe='')) for k, v in fields)
        return q + spec.get('append', '')

    def send(self, req):
        method, path = req['method'], self.subst(req['path'])
        headers = {k: None if v is None else self.subst(v)
                   for k, v in req.get('headers', {}).items()}
        body = self.body(req.get('body'))
        auth = req.get('auth')
        if self.listener == 'sp':
            accept = ACCEPT[req.get('accept', 'nometadata')]
            if accept:
                headers.setdefault('Accept', accept)
            token = {'admin': ADMIN, 'member': self.member}.get(auth) if isinstance(auth, str) \
                else (auth or {}).get('bearer')
            if token:
                headers['Authorization'] = 'Bearer ' + token
            if body is not None:
                headers.setdefault('Content-Type', 'application/json')
            return request(method, self.server.sp + path, headers, body, version=None)
        base = self.server.blob if self.listener == 'blob' else self.server.queue
        url = base + path
        version = req.get('version', harness.RAW_VERSION)
        signed = None
        if auth == 'sharedkey':
            signed = 'sharedkey'
        elif isinstance(auth, dict) and 'sas' in auth:
            url += ('&' if '?' in url else '?') + self.sas(auth)
        elif isinstance(auth, dict) and 'sharedkey' in auth:
            headers['x-ms-date'] = harness.email.utils.formatdate(usegmt=True)
            if version:
                headers['x-ms-version'] = version
            if body is not None:
                headers.setdefault('Content-Length', str(len(body)))
            headers['Authorization'] = harness.shared_key_authorization(method, url, headers,
                                                                        key=WRONG_KEY)
        if req.get('send') == 'raw':
            return send_raw(method, url, headers, body or b'', auth=signed, version=version)
        return request(method, url, headers, body, auth=signed, version=version)

    # -- checks -------------------------------------------------------------------------------

    def check(self, req, want, r):
        self.assertEqual(r.status, want['status'], r)
        if self.listener != 'sp':
            rid = r.header('x-ms-request-id')
            self.assertTrue(rid, 'no x-ms-request-id: %r' % r)
            self.assertNotIn(rid, self.request_ids, 'x-ms-request-id used twice')
            self.request_ids.add(rid)
            self.assertTrue(r.header('x-ms-version'), 'no x-ms-version: %r' % r)
        code = want.get('error')
        if 'error_in' in want:
            code = r.header('x-ms-error-code')
            self.assertIn(code, want['error_in'], r)
        if code:
            head = req['method'] == 'HEAD'
            root = self.assertAzureError(r, want['status'], code, head=head)
            if not head:
                self.assertTrue(r.body.lstrip(b'\xef\xbb\xbf').startswith(b'<?xml'), r.body[:60])
                if 'message' in want:
                    matches(self, root.findtext('Message').split('\n')[0], want['message'],
                            'message')
                for name, value in want.get('details', {}).items():
                    matches(self, root.findtext(name), value, 'detail %s' % name)
        elif 'details' in want or 'message' in want:
            self.fail('message and details need an error code')
        if 'sp_error' in want:
            self.assertSpError(req, want['sp_error'], r)
        for name, value in want.get('headers', {}).items():
            value = self.subst(value) if isinstance(value, str) else value
            matches(self, r.header(name), value, 'header %s' % name)
        if 'body' in want:
            matches(self, r.body.decode('utf-8', 'replace'), want['body'], 'body')
        if 'body_length' in want:
            self.assertEqual(len(r.body), want['body_length'])
        if 'body_sha256' in want:
            self.assertEqual(hashlib.sha256(r.body).hexdigest(), want['body_sha256'])

    def assertSpError(self, req, want, r):
        mode = ODATA_MODE[req.get('accept', 'nometadata')]
        ctype = r.header('Content-Type') or ''
        self.assertTrue(ctype.startswith('application/json'), ctype)
        self.assertIn(mode, ctype)
        body = json.loads(r.body)
        self.assertEqual(list(body), ['error'], body)
        err = body['error']
        self.assertEqual(sorted(err), ['code', 'message'], err)
        self.assertEqual(err['code'], '%d, %s' % (want['hresult'], want['type']))
        self.assertEqual(sorted(err['message']), ['lang', 'value'], err)
        self.assertEqual(err['message']['lang'], 'en-US')
        self.assertIsInstance(err['message']['value'], str)
        self.assertTrue(err['message']['value'])
        if 'message' in want:
            matches(self, err['message']['value'], want['message'], 'error message')

    def run_case(self, case):
        for i, step in enumerate(case.get('steps') or [case]):
            with self.subTest(step=i, request='%s %s' % (step['request']['method'],
                                                         step['request']['path'][:80])):
                r = self.send(step['request'])
                self.check(step['request'], step['expect'], r)


def slug(text):
    return re.sub(r'[^a-z0-9]+', '_', text.lower()).strip('_')


def make_class(path):
    with open(path, encoding='utf-8') as fh:
        data = json.load(fh)
    file_name = os.path.basename(path)
    attrs = {'cases_file': file_name, 'listener': data['listener'],
             '__doc__': '%s: %s' % (file_name, data['area'])}
    for i, case in enumerate(data['cases']):
        def test(self, case=case):
            self.run_case(case)
        test.__doc__ = case['name']
        attrs['test_%03d_%s' % (i, slug(case['name'])[:60])] = test
    name = 'Cases_' + slug(os.path.splitext(file_name)[0])
    return name, type(name, (CaseRunner,), attrs)


def add_classes():
    module = sys.modules[__name__]
    for f in sorted(os.listdir(CASES_DIR)):
        if f.endswith('.json'):
            name, cls = make_class(os.path.join(CASES_DIR, f))
            setattr(module, name, cls)


add_classes()

if __name__ == '__main__':
    unittest.main()
