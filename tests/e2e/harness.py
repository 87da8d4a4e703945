"""
harness.py: runs the real spmigd binary for the end-to-end tests.

Server starts `spmigd --data-dir <tmp>/data --sp-port 0 --blob-port 0 --queue-port 0 [extra]`,
waits (with a deadline, never a sleep) for the one JSON ready line on stdout, and exposes the
three endpoints. stop() sends SIGTERM and fails unless the exit code is 0; kill9() is the crash;
restart() starts again on the same data directory. ServerTestCase gives every test class its own
server. Also here: the development account constants, SDK connection strings, hand-built SAS
tokens (every signed-version layout), SharedKey signing for raw requests, and a raw http.client
helper whose answers the tests check byte for byte.

The binary comes from $SPMIGD (meson sets it). Run the tests with /usr/bin/python3, which sees
Debian's python3-azure-storage.
"""
import base64
import datetime
import email.utils
import hashlib
import hmac
import http.client
import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid
import warnings
import xml.etree.ElementTree as ET

ACCOUNT = 'devstoreaccount1'
ACCOUNT_KEY = ('Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/'
               'K1SZFPTOtr/KBHBeksoGMGw==')
RAW_VERSION = '2021-12-02'  # x-ms-version the raw helper sends unless told otherwise

READY_TIMEOUT = 30.0  # seconds to wait for the ready line
STOP_TIMEOUT = 30.0   # seconds SIGTERM may take

_HERE = os.path.dirname(os.path.abspath(__file__))


def spmigd_path():
    """The spmigd binary: $SPMIGD, or (for running a file by hand) a build under the repo."""
    p = os.environ.get('SPMIGD')
    if p:
        return p
    repo = os.path.dirname(os.path.dirname(_HERE))
    for d in ('build-e2e', 'build'):
        cand = os.path.join(repo, d, 'server', 'spmigd')
        if os.access(cand, os.X_OK):
            return cand
    raise RuntimeError('SPMIGD is not set and no built spmigd was found (run through meson test)')


def spmig_path():
    """The spmig binary: $SPMIG, or a build under the repo."""
    p = os.environ.get('SPMIG')
    if p:
        return p
    return os.path.join(os.path.dirname(os.path.dirname(_HERE)), 'build', 'client', 'spmig')


class ServerError(AssertionError):
    pass


class Server:
    """One spmigd process on a private temporary data directory."""

    def __init__(self, extra_args=(), start=True):
        self.binary = spmigd_path()
        self.extra_args = [str(a) for a in extra_args]
        self.tmp = tempfile.mkdtemp(prefix='spmigd-e2e-')
        self.data_dir = os.path.join(self.tmp, 'data')
        self.proc = None
        self.ready = None
        self.ready_line = None
        self.starts = 0
        self._drain = None
        if start:
            self.start()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self):
        if self.running():
            raise ServerError('spmigd is already running')
        self.starts += 1
        self.stderr_path = os.path.join(self.tmp, 'stderr-%d.log' % self.starts)
        self.stdout_path = os.path.join(self.tmp, 'stdout-%d.log' % self.starts)
        env = {k: v for k, v in os.environ.items() if not k.startswith('SPMIG_')}
        args = [self.binary, '--data-dir', self.data_dir, '--sp-port', '0', '--blob-port', '0',
                '--queue-port', '0'] + self.extra_args
        with open(self.stderr_path, 'wb') as err:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=err, cwd=self.tmp, env=env)
        try:
            line, rest = self._read_ready_line(READY_TIMEOUT)
        except BaseException:
            self._reap_after_failure()
            raise
        self.ready_line = line
        try:
            self.ready = json.loads(line)
        except ValueError:
            self._reap_after_failure()
            raise ServerError('spmigd ready line is not JSON: %r' % line)
        if self.ready.get('ready') is not True:
            self._reap_after_failure()
            raise ServerError('spmigd ready line lacks "ready":true: %r' % line)
        for k in ('sp', 'blob', 'queue'):
            if not isinstance(self.ready.get(k), str) or not self.ready[k].startswith('http://'):
                self._reap_after_failure()
                raise ServerError('spmigd ready line lacks a "%s" URL: %r' % (k, line))
        # Keep reading stdout so that later output can never block the server on a full pipe.
        self._drain = threading.Thread(target=self._drain_stdout, args=(self.proc, rest),
                                       daemon=True)
        self._drain.start()
        return self.ready

    def _read_ready_line(self, timeout):
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        buf = b''
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b'\n' not in buf:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ServerError('spmigd printed no ready line within %.0f s; stderr:\n%s'
                                      % (timeout, self.stderr_tail()))
                if not sel.select(left):
                    continue
                chunk = os.read(fd, 4096)
                if not chunk:
                    rc = self.proc.wait(timeout=5)
                    raise ServerError('spmigd exited (%s) before its ready line; stdout %r; '
                                      'stderr:\n%s' % (rc, buf, self.stderr_tail()))
                buf += chunk
        line, _, rest = buf.partition(b'\n')
        return line.decode('utf-8', 'replace').strip(), rest

    def _drain_stdout(self, proc, rest):
        with open(self.stdout_path, 'ab') as out:
            out.write(rest)
            try:
                for chunk in iter(lambda: os.read(proc.stdout.fileno(), 65536), b''):
                    out.write(chunk)
            except (OSError, ValueError):
                pass

    def _reap_after_failure(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            self.proc.wait(timeout=10)
            self._close_pipes()

    def _close_pipes(self):
        if self._drain:
            self._drain.join(timeout=5)
            self._drain = None
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, wait, and fail unless spmigd exits 0."""
        if not self.proc:
            raise ServerError('spmigd was never started')
        if self.proc.poll() is not None:
            rc = self.proc.returncode
            self._close_pipes()
            raise ServerError('spmigd had already exited with %s; stderr:\n%s'
                              % (rc, self.stderr_tail()))
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self._close_pipes()
            raise ServerError('spmigd did not exit within %.0f s of SIGTERM; stderr:\n%s'
                              % (timeout, self.stderr_tail()))
        self._close_pipes()
        if rc != 0:
            raise ServerError('spmigd exited with %s after SIGTERM (expected 0); stderr:\n%s'
                              % (rc, self.stderr_tail()))
        return rc

    def kill9(self):
        """SIGKILL: the crash. Returns the exit status (-9)."""
        if not self.running():
            raise ServerError('spmigd is not running')
        self.proc.send_signal(signal.SIGKILL)
        rc = self.proc.wait(timeout=10)
        self._close_pipes()
        return rc

    def restart(self):
        """Start again on the same data directory (stopping cleanly first if still running)."""
        if self.running():
            self.stop()
        return self.start()

    def cleanup(self):
        """Kill if still running, and remove the temporary directory."""
        if self.running():
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self.proc:
            self._close_pipes()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def stderr_tail(self, n=4000):
        try:
            with open(self.stderr_path, 'rb') as f:
                data = f.read()
        except OSError:
            return '(no stderr)'
        return data[-n:].decode('utf-8', 'replace')

    # -- endpoints ---------------------------------------------------------------------------

    @property
    def blob(self):
        return self.ready['blob']

    @property
    def queue(self):
        return self.ready['queue']

    @property
    def sp(self):
        return self.ready['sp']

    @property
    def blob_account_url(self):
        return '%s/%s' % (self.blob, ACCOUNT)

    @property
    def queue_account_url(self):
        return '%s/%s' % (self.queue, ACCOUNT)

    def connection_string(self):
        return connection_string(self.blob, self.queue)


def connection_string(blob, queue):
    return ('DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;'
            'BlobEndpoint=%s/%s;QueueEndpoint=%s/%s;'
            % (ACCOUNT, ACCOUNT_KEY, blob, ACCOUNT, queue, ACCOUNT))


# -- SDK clients --------------------------------------------------------------------------------

# No retries (a failure must show at once) and short timeouts (every test stays bounded).
SDK_KW = {'retry_total': 0, 'connection_timeout': 10, 'read_timeout': 30}


def blob_service(server, **kw):
    from azure.storage.blob import BlobServiceClient
    args = dict(SDK_KW)
    args.update(kw)
    return BlobServiceClient.from_connection_string(server.connection_string(), **args)


def queue_service(server, **kw):
    from azure.storage.queue import QueueServiceClient
    args = dict(SDK_KW)
    args.update(kw)
    return QueueServiceClient.from_connection_string(server.connection_string(), **args)


def unique_name(prefix='t'):
    """A container/queue name: lowercase letters, digits and hyphens, unique per call."""
    prefix = re.sub(r'[^a-z0-9]+', '-', prefix.lower())[:40].strip('-') or 't'
    return '%s-%s' % (prefix, uuid.uuid4().hex[:12])


# -- time ---------------------------------------------------------------------------------------

def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def iso(t):
    return t.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


# -- SAS built by hand, per signed version ----------------------------------------------------

def _sign(string_to_sign, key=ACCOUNT_KEY):
    mac = hmac.new(base64.b64decode(key), string_to_sign.encode('utf-8'), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode('ascii')


def _encode(fields):
    return '&'.join('%s=%s' % (k, urllib.parse.quote(v, safe='')) for k, v in fields
                    if v is not None and v != '')


def blob_service_sas(version, container, blob=None, permissions='r', start=None, expiry=None,
                     resource=None, ip='', protocol='', snapshot='', key=ACCOUNT_KEY,
                     rscc='', rscd='', rsce='', rscl='', rsct=''):
    """A blob service SAS (sr=c or sr=b) with the string-to-sign of `version`, as Microsoft's
    'Create a service SAS' page lays it out:
      2015-04-05 .. 2018-11-08: sp st se res si sip spr sv rscc rscd rsce rscl rsct
      2018-11-09 .. 2020-12-05: ... sv sr snapshot rscc ...
      2020-12-06 and later:     ... sv sr snapshot ses rscc ...
    Returns (query string, string-to-sign)."""
    now = utcnow()
    start = start if start is not None else now - datetime.timedelta(minutes=5)
    expiry = expiry if expiry is not None else now + datetime.timedelta(hours=1)
    st, se = (iso(start) if start else ''), iso(expiry)
    sr = resource or ('b' if blob else 'c')
    canon = '/blob/%s/%s' % (ACCOUNT, container)
    if sr in ('b', 'bs'):
        canon += '/' + blob
    fields = [permissions, st, se, canon, '', ip, protocol, version]
    if version >= '2018-11-09':
        fields += [sr, snapshot]
    if version >= '2020-12-06':
        fields += ['']  # ses
    fields += [rscc, rscd, rsce, rscl, rsct]
    sts = '\n'.join(fields)
    q = _encode([('sv', version), ('sr', sr), ('st', st), ('se', se), ('sp', permissions),
                 ('sip', ip), ('spr', protocol), ('rscc', rscc), ('rscd', rscd), ('rsce', rsce),
                 ('rscl', rscl), ('rsct', rsct), ('sig', _sign(sts, key))])
    return q, sts


def queue_service_sas(version, queue, permissions='raup', start=None, expiry=None, key=ACCOUNT_KEY):
    """A queue service SAS: sp st se /queue/<account>/<queue> si sip spr sv (all versions)."""
    now = utcnow()
    start = start if start is not None else now - datetime.timedelta(minutes=5)
    expiry = expiry if expiry is not None else now + datetime.timedelta(hours=1)
    st, se = (iso(start) if start else ''), iso(expiry)
    sts = '\n'.join([permissions, st, se, '/queue/%s/%s' % (ACCOUNT, queue), '', '', '', version])
    q = _encode([('sv', version), ('st', st), ('se', se), ('sp', permissions),
                 ('sig', _sign(sts, key))])
    return q, sts


def account_sas(version, services='bq', resource_types='sco', permissions='rwdlacup', start=None,
                expiry=None, key=ACCOUNT_KEY):
    """An account SAS: account sp ss srt st se sip spr sv \\n (+ ses \\n from 2020-12-06)."""
    now = utcnow()
    start = start if start is not None else now - datetime.timedelta(minutes=5)
    expiry = expiry if expiry is not None else now + datetime.timedelta(hours=1)
    st, se = (iso(start) if start else ''), iso(expiry)
    sts = '\n'.join([ACCOUNT, permissions, services, resource_types, st, se, '', '', version]) + '\n'
    if version >= '2020-12-06':
        sts += '\n'
    q = _encode([('sv', version), ('ss', services), ('srt', resource_types), ('st', st),
                 ('se', se), ('sp', permissions), ('sig', _sign(sts, key))])
    return q, sts


def tamper_sig(query):
    """The same SAS with one bit of its signature flipped (still valid base64)."""
    parts = urllib.parse.parse_qsl(query, keep_blank_values=True)
    out = []
    for k, v in parts:
        if k == 'sig':
            raw = bytearray(base64.b64decode(v))
            raw[0] ^= 0x01
            v = base64.b64encode(bytes(raw)).decode('ascii')
        out.append((k, v))
    return _encode(out)


# -- SharedKey for raw requests ----------------------------------------------------------------

def shared_key_authorization(method, url, headers, key=ACCOUNT_KEY):
    """The Authorization value of Microsoft's 'Authorize with Shared Key' (2009-09-19 layout)."""
    h = {k.lower(): str(v) for k, v in headers.items() if v is not None}
    length = h.get('content-length', '')
    if length == '0':
        length = ''
    parts = [method.upper(), h.get('content-encoding', ''), h.get('content-language', ''), length,
             h.get('content-md5', ''), h.get('content-type', ''), h.get('date', ''),
             h.get('if-modified-since', ''), h.get('if-match', ''), h.get('if-none-match', ''),
             h.get('if-unmodified-since', ''), h.get('range', '')]
    canon_headers = ''.join('%s:%s\n' % (k, h[k].strip()) for k in sorted(h)
                            if k.startswith('x-ms-'))
    u = urllib.parse.urlsplit(url)
    resource = '/%s%s' % (ACCOUNT, u.path or '/')
    params = {}
    for k, v in urllib.parse.parse_qsl(u.query, keep_blank_values=True):
        params.setdefault(k.lower(), []).append(v)
    for k in sorted(params):
        resource += '\n%s:%s' % (k, ','.join(sorted(params[k])))
    sts = '\n'.join(parts) + '\n' + canon_headers + resource
    return 'SharedKey %s:%s' % (ACCOUNT, _sign(sts, key))


# -- raw HTTP -----------------------------------------------------------------------------------

class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # http.client.HTTPMessage: case-insensitive get()
        self.body = body

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def xml(self):
        data = self.body
        if data.startswith(b'\xef\xbb\xbf'):
            data = data[3:]
        return ET.fromstring(data)

    def __repr__(self):
        return '<Response %d %s %s>' % (self.status, self.header('x-ms-error-code', ''),
                                        self.body[:300])


def request(method, url, headers=None, body=None, auth=None, timeout=15, version=RAW_VERSION):
    """One HTTP/1.1 request on a fresh connection. auth='sharedkey' signs it with the dev key
    (adding x-ms-date and x-ms-version); otherwise the request goes as given. `url` is sent as
    written (no re-encoding), so tests can put %00, %2F or .. in a path."""
    headers = dict(headers or {})
    if isinstance(body, str):
        body = body.encode('utf-8')
    u = urllib.parse.urlsplit(url)
    target = u.path + ('?' + u.query if u.query else '')
    if auth == 'sharedkey':
        if not any(k.lower() == 'x-ms-date' for k in headers):
            headers['x-ms-date'] = email.utils.formatdate(usegmt=True)
        if version and not any(k.lower() == 'x-ms-version' for k in headers):
            headers['x-ms-version'] = version
        if body is not None and not any(k.lower() == 'content-length' for k in headers):
            headers['Content-Length'] = str(len(body))
        headers['Authorization'] = shared_key_authorization(method, url, headers)
    elif version and not any(k.lower() == 'x-ms-version' for k in headers):
        headers['x-ms-version'] = version
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request(method, target, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        return Response(resp.status, resp.reason, resp.msg, data)
    finally:
        conn.close()


def send_raw(method, url, headers, body=b'', auth=None, timeout=15, version=RAW_VERSION):
    """Like request(), but on a plain socket that stops sending the body as soon as the server
    answers (an early 413 must not turn into a broken pipe). headers must give Content-Length
    when it should differ from len(body) (e.g. announce a body that is never sent), or None
    to send none at all."""
    headers = dict(headers or {})
    u = urllib.parse.urlsplit(url)
    target = u.path + ('?' + u.query if u.query else '')
    if not any(k.lower() == 'content-length' for k in headers):
        headers['Content-Length'] = str(len(body))
    if version and not any(k.lower() == 'x-ms-version' for k in headers):
        headers['x-ms-version'] = version
    if auth == 'sharedkey':
        if not any(k.lower() == 'x-ms-date' for k in headers):
            headers['x-ms-date'] = email.utils.formatdate(usegmt=True)
        headers['Authorization'] = shared_key_authorization(method, url, headers)
    head = '%s %s HTTP/1.1\r\nHost: %s:%d\r\n' % (method, target, u.hostname, u.port)
    head += ''.join('%s: %s\r\n' % (k, v) for k, v in headers.items() if v is not None) + '\r\n'
    sock = socket.create_connection((u.hostname, u.port), timeout=timeout)
    try:
        sock.sendall(head.encode('latin-1'))
        view, off = memoryview(body), 0
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
            while off < len(view) and time.monotonic() < deadline:
                events = sel.select(1.0)
                if any(ev & selectors.EVENT_READ for _, ev in events):
                    break  # the server answered before the whole body went out
                if any(ev & selectors.EVENT_WRITE for _, ev in events):
                    try:
                        off += sock.send(view[off:off + 65536])
                    except (BrokenPipeError, ConnectionResetError):
                        break
        resp = http.client.HTTPResponse(sock, method=method)
        resp.begin()
        data = resp.read()
        return Response(resp.status, resp.reason, resp.msg, data)
    finally:
        sock.close()


# -- assertions ---------------------------------------------------------------------------------

_TIME_LINE = re.compile(r'^Time:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$')


class AzureAsserts:
    """Mixin for TestCase: checks of Azure's error shape."""

    def assertAzureError(self, resp, status, code, head=False):
        """status, x-ms-error-code, x-ms-request-id, x-ms-version and (unless HEAD) the XML body
        <Error><Code>code</Code><Message>text\\nRequestId:<id>\\nTime:<iso></Message>."""
        self.assertEqual(resp.status, status, resp)
        self.assertEqual(resp.header('x-ms-error-code'), code, resp)
        rid = resp.header('x-ms-request-id')
        self.assertTrue(rid, 'no x-ms-request-id header: %r' % resp)
        self.assertTrue(resp.header('x-ms-version'), 'no x-ms-version header: %r' % resp)
        if head:
            self.assertEqual(resp.body, b'')
            return None
        self.assertIn('xml', (resp.header('Content-Type') or '').lower(), resp)
        root = resp.xml()
        self.assertEqual(root.tag, 'Error')
        self.assertEqual(root.findtext('Code'), code)
        msg = root.findtext('Message')
        self.assertIsNotNone(msg, resp)
        lines = msg.replace('\r\n', '\n').split('\n')
        self.assertGreaterEqual(len(lines), 3, 'message %r lacks RequestId/Time lines' % msg)
        self.assertTrue(lines[0].strip(), 'empty message text: %r' % msg)
        self.assertEqual(lines[-2], 'RequestId:' + rid, msg)
        self.assertRegex(lines[-1], _TIME_LINE)
        return root

    def assertSdkError(self, ctx_exc, status, code):
        self.assertEqual(getattr(ctx_exc, 'status_code', None), status, ctx_exc)
        got = getattr(ctx_exc, 'error_code', None)
        self.assertEqual(getattr(got, 'value', got), code, ctx_exc)


class ServerTestCase(unittest.TestCase, AzureAsserts):
    """Starts one spmigd per test class (extra flags in server_args); tearDownClass stops it
    with SIGTERM and fails the class unless it exits 0."""
    server_args = ()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The SDK leaves pooled sockets to the garbage collector; that is not our finding.
        warnings.simplefilter('ignore', ResourceWarning)
        cls.server = Server(cls.server_args)
        cls.addClassCleanup(cls.server.cleanup)

    @classmethod
    def tearDownClass(cls):
        if cls.server.running():
            cls.server.stop()
        super().tearDownClass()
