"""
Hostile clients (issue 14): slow clients that trickle their requests, bodies that make a parser
work hard, NUL bytes and malformed UTF-8 in names and values, duplicated framing headers, the
modes of the files spmigd creates, privilege on /_emu, and readers racing writers. Each test
runs a bounded attack against the real spmigd and checks that ordinary requests keep working.
"""
import base64
import email.utils
import http.client
import json
import os
import socket
import stat
import threading
import time
import unittest
import urllib.parse

import harness
from harness import Server, ServerTestCase, request, unique_name


def sp_request(server, method, path, token, body=None, headers=None, timeout=15):
    h = {'Accept': 'application/json'}
    if token is not None:
        h['Authorization'] = 'Bearer ' + token
    if body is not None:
        h['Content-Type'] = 'application/json'
        body = json.dumps(body).encode() if not isinstance(body, bytes) else body
    h.update(headers or {})
    return request(method, server.sp + path, headers=h, body=body, auth=None, timeout=timeout,
                   version=None)


def admin_token(server):
    with open(os.path.join(server.data_dir, 'admin-token')) as f:
        return f.read().strip()


def host_port(url):
    u = urllib.parse.urlsplit(url)
    return u.hostname, u.port


class ContainerTestCase(ServerTestCase):
    """A server with one container of its own, at cls.base."""

    PREFIX = 'c'

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.c = unique_name(cls.PREFIX)
        cls.base = '%s/%s' % (cls.server.blob_account_url, cls.c)
        r = request('PUT', cls.base + '?restype=container', auth='sharedkey', body=b'')
        assert r.status == 201, r


class SlowClientTests(unittest.TestCase):
    """A listener keeps answering while hundreds of connections trickle their headers."""

    ATTACKERS = 300
    DURATION = 12.0  # seconds the attack runs

    def setUp(self):
        self.server = Server(['--header-timeout', '3'])
        self.addCleanup(self.server.cleanup)

    def test_trickling_connections_do_not_take_the_listener(self):
        host, port = host_port(self.server.sp)
        stop = time.monotonic() + self.DURATION
        socks, closed_early = [], [0]

        def attack():
            # Attackers come from another loopback address, as a remote client would.
            while time.monotonic() < stop:
                while len(socks) < self.ATTACKERS and time.monotonic() < stop:
                    s = socket.socket()
                    s.setblocking(False)
                    try:
                        s.bind(('127.0.0.2', 0))
                        s.connect_ex((host, port))
                    except OSError:
                        s.close()
                        break
                    socks.append([s, b'GET /_emu/health HTTP/1.1\r\nHost: x\r\nX-Slow: ' +
                                  b'a' * 100, 0])
                for entry in list(socks):
                    s, data, pos = entry
                    try:
                        s.send(data[pos:pos + 1])
                        entry[2] = min(pos + 1, len(data) - 1)
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError:
                        closed_early[0] += 1
                        s.close()
                        socks.remove(entry)
                time.sleep(1.0)

        t = threading.Thread(target=attack)
        t.start()
        try:
            time.sleep(2.0)  # let the attack fill what it can
            ok = failed = 0
            while time.monotonic() < stop - 0.5:
                try:
                    r = sp_request(self.server, 'GET', '/_emu/health', None, timeout=5)
                    ok += r.status == 200
                    failed += r.status != 200
                except OSError:
                    failed += 1
                time.sleep(0.2)
        finally:
            t.join()
            for s, _, _ in socks:
                s.close()
        self.assertGreater(ok, 10)
        self.assertEqual(failed, 0, 'ordinary requests failed during the attack')
        # The server cut the tricklers that outlived the header deadline.
        self.assertGreater(closed_early[0], 0)


class HostileXmlTests(ContainerTestCase):
    """Bodies shaped to make the XML parser's cost grow faster than their size."""

    CEILING = 2.0  # seconds; the attack took 17 s of CPU before the bound

    PREFIX = 'xml'

    def put_block_list(self, body, name='b'):
        t = time.monotonic()
        r = request('PUT', self.base + '/' + name + '?comp=blocklist', auth='sharedkey', body=body,
                    timeout=60)
        return r, time.monotonic() - t

    def test_many_attributes_are_refused_quickly(self):
        attrs = ''.join(' a%d="x"' % i for i in range(100000))
        r, took = self.put_block_list('<?xml version="1.0"?><BlockList%s/>' % attrs)
        self.assertAzureError(r, 400, 'InvalidXmlDocument')
        self.assertLess(took, self.CEILING)

    def test_deep_and_long_names_are_refused(self):
        deep = '<BlockList>' + '<a>' * 5000 + '</a>' * 5000 + '</BlockList>'
        r, took = self.put_block_list(deep)
        self.assertAzureError(r, 400, 'InvalidXmlDocument')
        long_name = '<BlockList><%s/></BlockList>' % ('n' * 40000)
        r, took = self.put_block_list(long_name)
        self.assertAzureError(r, 400, 'InvalidXmlDocument')
        self.assertLess(took, self.CEILING)

    def test_doctype_with_many_attributes_is_refused_quickly(self):
        attrs = ''.join(' a%d="x"' % i for i in range(100000))
        r, took = self.put_block_list('<!DOCTYPE BlockList><BlockList%s/>' % attrs)
        self.assertAzureError(r, 400, 'InvalidXmlDocument')
        self.assertLess(took, self.CEILING)

    def test_queue_message_with_many_attributes(self):
        q = unique_name('q')
        url = '%s/%s' % (self.server.queue_account_url, q)
        r = request('PUT', url, auth='sharedkey', body=b'')
        self.assertIn(r.status, (201, 204))
        attrs = ''.join(' a%d="x"' % i for i in range(9000))
        t = time.monotonic()
        r = request('POST', url + '/messages', auth='sharedkey',
                    body='<QueueMessage%s><MessageText>x</MessageText></QueueMessage>' % attrs)
        self.assertAzureError(r, 400, 'InvalidXmlDocument')
        self.assertLess(time.monotonic() - t, self.CEILING)

    def test_ordinary_block_list_still_works(self):
        bid = 'YmxvY2sx'
        r = request('PUT', self.base + '/ok?comp=block&blockid=' + bid, auth='sharedkey',
                    body=b'hello')
        self.assertEqual(r.status, 201, r)
        r, _ = self.put_block_list('<?xml version="1.0" encoding="utf-8"?><!-- c -->'
                                   '<BlockList><Latest>%s</Latest></BlockList>' % bid, 'ok')
        self.assertEqual(r.status, 201, r)


class EmuPrivilegeTests(ServerTestCase):
    """/_emu: nobody grants a role above their own; the clock and faults are GlobalAdmin's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = admin_token(cls.server)
        r = sp_request(cls.server, 'POST', '/_emu/users', cls.admin,
                       {'login': 'spadmin@contoso.onmicrosoft.com', 'role': 'SharePointAdmin'})
        assert r.status == 201, r
        cls.spadmin = json.loads(r.body)['token']

    def test_sharepoint_admin_cannot_grant_global_admin(self):
        r = sp_request(self.server, 'POST', '/_emu/users', self.spadmin,
                       {'login': 'boss@contoso.onmicrosoft.com', 'role': 'GlobalAdmin'})
        self.assertEqual(r.status, 403, r)
        self.assertIn('error', json.loads(r.body))
        # What the SharePoint admin holds, or less, it may grant.
        for i, role in enumerate(('SharePointAdmin', 'SiteOwner', 'Member')):
            r = sp_request(self.server, 'POST', '/_emu/users', self.spadmin,
                           {'login': 'u%d@contoso.onmicrosoft.com' % i, 'role': role})
            self.assertEqual(r.status, 201, r)

    def test_sharepoint_admin_cannot_move_the_clock_or_inject_faults(self):
        r = sp_request(self.server, 'POST', '/_emu/clock', self.spadmin, {'advance': 'P1D'})
        self.assertEqual(r.status, 403, r)
        r = sp_request(self.server, 'GET', '/_emu/clock', self.spadmin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(json.loads(r.body)['offsetMs'], 0)
        r = sp_request(self.server, 'POST', '/_emu/faults', self.spadmin, {'status': 503})
        self.assertEqual(r.status, 403, r)
        r = sp_request(self.server, 'DELETE', '/_emu/faults', self.spadmin)
        self.assertEqual(r.status, 403, r)
        # Reading is every admin's.
        for what in ('sites', 'faults', 'containers', 'audit'):
            r = sp_request(self.server, 'GET', '/_emu/' + what, self.spadmin)
            self.assertEqual(r.status, 200, (what, r))

    def test_global_admin_may_do_all(self):
        r = sp_request(self.server, 'POST', '/_emu/users', self.admin,
                       {'login': 'ga2@contoso.onmicrosoft.com', 'role': 'GlobalAdmin'})
        self.assertEqual(r.status, 201, r)
        r = sp_request(self.server, 'POST', '/_emu/faults', self.admin,
                       {'status': 503, 'path': '/nowhere-at-all', 'count': 1})
        self.assertIn(r.status, (201, 400), r)
        r = sp_request(self.server, 'DELETE', '/_emu/faults', self.admin)
        self.assertEqual(r.status, 204, r)


def raw_exchange(url, data, timeout=10):
    """Sends data as is on a fresh connection and returns (status, headers, body bytes) of the
    first answer."""
    host, port = host_port(url)
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall(data)
        buf = b''
        while b'\r\n\r\n' not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        head, _, rest = buf.partition(b'\r\n\r\n')
        lines = head.decode('latin-1').split('\r\n')
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(':')
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get('content-length', '0'))
        while len(rest) < n:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
        return status, headers, rest[:n]
    finally:
        s.close()


class NulTests(ServerTestCase):
    """A NUL byte is refused wherever a value is kept or compared, never cut short at."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = admin_token(cls.server)

    def test_nul_in_authorization_header(self):
        host, port = host_port(self.server.sp)
        for value in (b'Bearer ' + self.admin.encode() + b'\0anything',
                      b'Bearer ' + self.admin.encode() + b'\0'):
            status, headers, body = raw_exchange(
                self.server.sp, b'GET /_emu/sites HTTP/1.1\r\nHost: x\r\nAccept: application/json'
                b'\r\nAuthorization: ' + value + b'\r\nConnection: close\r\n\r\n')
            self.assertEqual(status, 400, body)
            self.assertIn('error', json.loads(body))
        status, _, _ = raw_exchange(
            self.server.sp, b'GET /_emu/sites HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ' +
            self.admin.encode() + b'\r\nConnection: close\r\n\r\n')
        self.assertEqual(status, 200)

    def test_nul_in_the_request_target(self):
        for target in (b'/_emu/sites\0/x', b'/_emu/sites?a=b\0c', b'/_emu/sites\0'):
            status, _, body = raw_exchange(
                self.server.sp, b'GET ' + target + b' HTTP/1.1\r\nHost: x\r\nAuthorization: '
                b'Bearer ' + self.admin.encode() + b'\r\nConnection: close\r\n\r\n')
            self.assertEqual(status, 400, (target, body))
            self.assertIn('error', json.loads(body))
        status, _, _ = raw_exchange(
            self.server.sp, b'GET /_emu/sites?a=%20b HTTP/1.1\r\nHost: x\r\nAuthorization: '
            b'Bearer ' + self.admin.encode() + b'\r\nConnection: close\r\n\r\n')
        self.assertEqual(status, 200)

    def test_nul_in_an_azure_header(self):
        status, headers, body = raw_exchange(
            self.server.blob, b'GET /devstoreaccount1?comp=list HTTP/1.1\r\nHost: x\r\n'
            b'x-ms-version: 2021-12-02\0x\r\nConnection: close\r\n\r\n')
        self.assertEqual(status, 400, body)
        self.assertIn(b'<Error>', body)

    def test_nul_in_json_strings(self):
        r = sp_request(self.server, 'POST', '/_emu/users', self.admin,
                       b'{"login":"boss@x\\u0000.evil","role":"Member"}')
        self.assertEqual(r.status, 400, r)
        self.assertIn('error', json.loads(r.body))
        r = sp_request(self.server, 'POST', '/_emu/users', self.admin,
                       b'{"login":"boss@x\\u0000.evil","role":"Member"}'.replace(b'\\u0000',
                                                                                  b'\0'))
        self.assertEqual(r.status, 400, r)
        r = sp_request(self.server, 'POST', '/_api/web/lists', self.admin,
                       b'{"Title":"a\\u0000b","BaseTemplate":101}')
        self.assertEqual(r.status, 400, r)
        r = sp_request(self.server, 'GET', "/_api/web/lists/getbytitle('a')", self.admin)
        self.assertEqual(r.status, 404, r)
        # An escaped backslash before u0000 is text, not a NUL.
        r = sp_request(self.server, 'POST', '/_emu/users', self.admin,
                       b'{"login":"x\\\\u0000@contoso.onmicrosoft.com","role":"Member"}')
        self.assertNotEqual(r.status, 500, r)
        self.assertNotIn(b'NUL', r.body)

    def test_nul_in_migration_manager_json(self):
        r = sp_request(self.server, 'POST', '/api/mm/groups', self.admin,
                       b'{"name":"g\\u0000x"}')
        self.assertEqual(r.status, 400, r)

    def test_json_with_trailing_garbage(self):
        """One JSON document per body: what follows it refuses the request, nothing is made."""
        for path, body, check in (
                ('/_api/web/lists', b'{"Title":"tail","BaseTemplate":101}x',
                 "/_api/web/lists/getbytitle('tail')"),
                ('/_emu/users', b'{"login":"tail@x","role":"Member"}{"role":"GlobalAdmin"}', None),
                ('/api/mm/groups', b'{"name":"tail"} ]', '/api/mm/groups')):
            r = sp_request(self.server, 'POST', path, self.admin, body)
            self.assertEqual(r.status, 400, (path, r))
            self.assertIn('error', json.loads(r.body), path)
            if check:
                r = sp_request(self.server, 'GET', check, self.admin)
                self.assertNotIn(b'"tail"', r.body if r.status == 200 else b'', check)
        # White space after the document is fine.
        r = sp_request(self.server, 'POST', '/api/mm/groups', self.admin, b'{"name":"tail2"}\r\n ')
        self.assertIn(r.status, (200, 201), r)


class Utf8Tests(ContainerTestCase):
    """Names and values that are not UTF-8 text XML can carry are refused, so every list stays
    well-formed XML."""

    BAD = ('%ff%fe', '%C0%AE', 'a%ED%A0%80b', 'x%e2%82', '%F4%90%80%80', '%EF%BF%BE', 'a%01')

    PREFIX = 'utf'

    def list_is_well_formed(self):
        r = request('GET', self.base + '?restype=container&comp=list&include=metadata',
                    auth='sharedkey')
        self.assertEqual(r.status, 200, r)
        r.xml()  # raises when not well-formed

    def test_blob_names(self):
        for bad in self.BAD:
            r = request('PUT', '%s/%s' % (self.base, bad), auth='sharedkey', body=b'x',
                        headers={'x-ms-blob-type': 'BlockBlob'})
            self.assertAzureError(r, 400, 'InvalidUri')
        r = request('PUT', '%s/ok%%E2%%82%%AC%%C3%%A9%%F0%%9F%%98%%80' % self.base,
                    auth='sharedkey', body=b'x', headers={'x-ms-blob-type': 'BlockBlob'})
        self.assertEqual(r.status, 201, r)
        self.list_is_well_formed()

    def test_queue_and_container_names(self):
        for bad in self.BAD:
            r = request('PUT', '%s/q%s' % (self.server.queue_account_url, bad),
                        auth='sharedkey', body=b'')
            self.assertEqual(r.status, 400, r)
            r = request('PUT', '%s/c%s?restype=container' % (self.server.blob_account_url, bad),
                        auth='sharedkey', body=b'')
            self.assertEqual(r.status, 400, r)

    def test_query_values_echoed_in_lists(self):
        for bad in self.BAD:
            r = request('GET', self.base + '?restype=container&comp=list&prefix=' + bad,
                        auth='sharedkey')
            self.assertAzureError(r, 400, 'InvalidQueryParameterValue')

    def test_metadata_values(self):
        r = request('PUT', self.base + '/meta', auth='sharedkey', body=b'x',
                    headers={'x-ms-blob-type': 'BlockBlob', 'x-ms-meta-k': 'caf\xe9'})
        self.assertEqual(r.status, 400, r)
        self.list_is_well_formed()

    def test_sharepoint_paths(self):
        admin = admin_token(self.server)
        r = sp_request(self.server, 'GET',
                       "/_api/web/GetFolderByServerRelativeUrl('/Shared%20Documents/%ff')",
                       admin)
        self.assertEqual(r.status, 400, r)
        self.assertIn('error', json.loads(r.body))


class FileModeTests(unittest.TestCase):
    """Every file and folder spmigd creates is private to its user, whatever the mode of the
    data directory it was given."""

    def test_files_are_private(self):
        server = Server(start=False)
        self.addCleanup(server.cleanup)
        os.makedirs(server.data_dir)
        os.chmod(server.data_dir, 0o755)
        old = os.umask(0o022)
        try:
            server.start()
        finally:
            os.umask(old)
        c = unique_name('modes')
        base = '%s/%s' % (server.blob_account_url, c)
        self.assertEqual(request('PUT', base + '?restype=container', auth='sharedkey',
                                 body=b'').status, 201)
        for name, size in (('small', 1000), ('large', 300 * 1024)):
            r = request('PUT', '%s/%s' % (base, name), auth='sharedkey', body=b'x' * size,
                        headers={'x-ms-blob-type': 'BlockBlob'})
            self.assertEqual(r.status, 201, r)
        server.stop()
        server.start()  # a restart rewrites what it keeps
        seen = 0
        for root, dirs, files in os.walk(server.data_dir):
            for d in dirs:
                mode = stat.S_IMODE(os.stat(os.path.join(root, d)).st_mode)
                self.assertEqual(mode & 0o077, 0, '%s/%s is %o' % (root, d, mode))
            for f in files:
                mode = stat.S_IMODE(os.stat(os.path.join(root, f)).st_mode)
                self.assertEqual(mode & 0o077, 0, '%s/%s is %o' % (root, f, mode))
                seen += 1
        self.assertGreater(seen, 3)


class FramingTests(ServerTestCase):
    """Headers that frame a request two ways are refused, and the connection closed, so nothing
    in front of spmigd can be smuggled past it."""

    def exchange_all(self, url, data):
        host, port = host_port(url)
        s = socket.create_connection((host, port), timeout=10)
        try:
            s.sendall(data)
            buf = b''
            while True:
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    break
                if not chunk:
                    break
                buf += chunk
            return buf
        finally:
            s.close()

    def test_two_content_lengths(self):
        token = admin_token(self.server).encode()
        smuggled = b'GET /_emu/health HTTP/1.1\r\nHost: x\r\n\r\n'
        body = b'{"url":"/sites/smuggle"}'
        data = (b'POST /_emu/sites HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ' + token +
                b'\r\nContent-Type: application/json\r\nContent-Length: %d\r\n'
                b'Content-Length: %d\r\n\r\n' % (len(body), len(body) + len(smuggled)) +
                body + smuggled)
        out = self.exchange_all(self.server.sp, data)
        self.assertTrue(out.startswith(b'HTTP/1.1 400'), out[:200])
        self.assertIn(b'"error"', out)
        self.assertEqual(out.count(b'HTTP/1.1 '), 1, out)  # no answer to a smuggled request
        r = sp_request(self.server, 'GET', '/_emu/sites', admin_token(self.server))
        self.assertNotIn(b'/sites/smuggle', r.body)

    def test_long_headers_answered_in_the_listeners_dialect(self):
        """Headers too long for the server get Azure's XML or SharePoint's JSON, not HTML."""
        big = b'X-Filler: ' + b'a' * 30000 + b'\r\n'
        out = self.exchange_all(self.server.blob, b'GET /devstoreaccount1?comp=list HTTP/1.1\r\n'
                                b'Host: x\r\n' + big + b'Connection: close\r\n\r\n')
        self.assertTrue(out.startswith(b'HTTP/1.1 431'), out[:200])
        self.assertIn(b'<Code>RequestHeaderFieldsTooLarge</Code>', out)
        out = self.exchange_all(self.server.sp, b'GET /_api/web HTTP/1.1\r\nHost: x\r\n' + big +
                                b'Connection: close\r\n\r\n')
        self.assertTrue(out.startswith(b'HTTP/1.1 431'), out[:200])
        self.assertIn(b'"error"', out)
        # A long URI is 414 in the dialect too.
        out = self.exchange_all(self.server.queue, b'GET /devstoreaccount1/' + b'q' * 20000 +
                                b' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
        self.assertTrue(out.startswith(b'HTTP/1.1 414'), out[:200])
        self.assertIn(b'<Error>', out)

    def test_length_and_chunked(self):
        data = (b'PUT /devstoreaccount1/c HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n'
                b'Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n')
        out = self.exchange_all(self.server.blob, data)
        self.assertTrue(out.startswith(b'HTTP/1.1 400'), out[:200])
        self.assertIn(b'<Error>', out)

    def test_same_length_twice_is_one_length(self):
        token = admin_token(self.server).encode()
        body = b'{"url":"/sites/twice"}'
        data = (b'POST /_emu/sites HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ' + token +
                b'\r\nContent-Type: application/json\r\nContent-Length: %d\r\n'
                b'Content-Length: %d\r\nConnection: close\r\n\r\n' % (len(body), len(body)) +
                body)
        out = self.exchange_all(self.server.sp, data)
        self.assertTrue(out.startswith(b'HTTP/1.1 201'), out[:200])

    def test_two_authorizations(self):
        token = admin_token(self.server).encode()
        data = (b'GET /_emu/sites HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ' + token +
                b'\r\nAuthorization: Bearer other\r\nConnection: close\r\n\r\n')
        out = self.exchange_all(self.server.sp, data)
        self.assertTrue(out.startswith(b'HTTP/1.1 400'), out[:200])


class ReaderRaceTests(ContainerTestCase):
    """A GET that started finishes with the bytes it started with, whatever writers do to the
    blob meanwhile (overwrite, delete)."""

    DURATION = 8.0
    FILE_BLOCK = 256 * 1024  # past the small-extent limit: a file of its own
    PACKED_BLOCK = 48 * 1024  # a range of a pack

    PREFIX = 'race'

    def write_version(self, url, v):
        ids = []
        for i in range(12):
            size = self.FILE_BLOCK if i % 2 == 0 else self.PACKED_BLOCK
            bid = base64.b64encode(b'%08d-%04d' % (v, i)).decode()
            r = request('PUT', url + '?comp=block&blockid=' + urllib.parse.quote(bid),
                        auth='sharedkey', body=bytes([v % 251 + 1]) * size)
            if r.status != 201:
                return False
            ids.append(bid)
        body = '<BlockList>%s</BlockList>' % ''.join('<Latest>%s</Latest>' % b for b in ids)
        return request('PUT', url + '?comp=blocklist', auth='sharedkey', body=body).status == 201

    def slow_get(self, url):
        u = urllib.parse.urlsplit(url)
        headers = {'x-ms-date': email.utils.formatdate(usegmt=True), 'x-ms-version': '2021-12-02'}
        headers['Authorization'] = harness.shared_key_authorization('GET', url, headers)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=15)
        conn.connect()
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
        try:
            conn.request('GET', u.path, headers=headers)
            resp = conn.getresponse()
            if resp.status == 404:
                resp.read()
                return None
            if resp.status != 200:
                raise AssertionError('GET answered %d' % resp.status)
            length = int(resp.getheader('Content-Length'))
            data = b''
            while True:
                chunk = resp.read(32768)
                if not chunk:
                    break
                data += chunk
                time.sleep(0.01)
            return length, data
        finally:
            conn.close()

    def test_readers_finish_while_writers_replace(self):
        url = self.base + '/many'
        self.assertTrue(self.write_version(url, 0))
        stop = time.monotonic() + self.DURATION
        failures, reads, writes = [], [0], [0]

        def writer(k):
            v = k
            while time.monotonic() < stop:
                v += 2
                if v % 10 == 0:
                    request('DELETE', url, auth='sharedkey')
                if self.write_version(url, v):
                    writes[0] += 1

        def reader():
            while time.monotonic() < stop:
                try:
                    got = self.slow_get(url)
                except Exception as e:  # a body cut short surfaces here
                    failures.append(repr(e))
                    continue
                if got is None:
                    continue
                length, data = got
                reads[0] += 1
                if len(data) != length or data.count(data[:1]) != len(data):
                    failures.append('torn read: %d of %d bytes' % (len(data), length))

        threads = [threading.Thread(target=writer, args=(k,)) for k in (1, 2)]
        threads += [threading.Thread(target=reader) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(failures[:3] if failures else [], [],
                         '%d failed of %d reads, %d writes' % (len(failures), reads[0], writes[0]))
        self.assertGreater(writes[0], 5)
        self.assertGreater(reads[0], 10)
        self.assertEqual(failures, [], '%d failed of %d reads' % (len(failures), reads[0]))
