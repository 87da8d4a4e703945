"""
Raw-HTTP checks that need more than a table: the headers of a success, ranges served byte for
byte, hostile input (XML bombs, block ids of mixed length, encoded slashes, too many headers,
slow clients). The exact error answers (status, x-ms-error-code, x-ms-request-id, x-ms-version,
the XML <Error> body) of single requests are data: tests/cases/*.json, run by test_cases.py.
"""
import base64
import socket
import time
import unittest
import urllib.parse

import harness
from harness import ServerTestCase, request, unique_name


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


class RawErrorTests(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.c = unique_name('raw')
        cls.base = '%s/%s' % (cls.server.blob_account_url, cls.c)
        cls.data = bytes(range(256)) * 4 + b'0123456789' * 10 + b'tail'  # 1128 bytes
        r = request('PUT', cls.base + '?restype=container', auth='sharedkey', body=b'')
        assert r.status == 201, r
        r = request('PUT', cls.base + '/exists.bin', auth='sharedkey', body=cls.data,
                    headers={'x-ms-blob-type': 'BlockBlob'})
        assert r.status == 201, r

    def put_blob(self, name, data, headers=None):
        h = {'x-ms-blob-type': 'BlockBlob'}
        h.update(headers or {})
        return request('PUT', '%s/%s' % (self.base, name), auth='sharedkey', body=data,
                       headers=h)

    def get(self, path, headers=None):
        return request('GET', path if path.startswith('http') else '%s/%s' % (self.base, path),
                       auth='sharedkey', headers=headers)

    def assertServing(self):
        r = self.get('exists.bin')
        self.assertEqual((r.status, r.body), (200, self.data), 'server no longer serves: %r' % r)

    # -- success -------------------------------------------------------------------------------

    def test_success_headers(self):
        r = self.get('exists.bin')
        self.assertEqual(r.status, 200)
        for h in ('ETag', 'Last-Modified', 'x-ms-request-id', 'x-ms-version', 'Content-Length',
                  'x-ms-blob-type', 'Date'):
            self.assertTrue(r.header(h), 'missing %s: %s' % (h, r.headers.items()))
        self.assertEqual(r.header('x-ms-blob-type'), 'BlockBlob')
        self.assertEqual(int(r.header('Content-Length')), len(self.data))
        h = request('HEAD', '%s/exists.bin' % self.base, auth='sharedkey')
        self.assertEqual(h.status, 200)
        self.assertEqual(h.header('ETag'), r.header('ETag'))
        self.assertEqual(int(h.header('Content-Length')), len(self.data))

    # -- ranges --------------------------------------------------------------------------------

    def test_ranges(self):
        n = len(self.data)
        r = self.get('exists.bin', {'Range': 'bytes=10-19'})
        self.assertEqual((r.status, r.body), (206, self.data[10:20]))
        self.assertEqual(r.header('Content-Range'), 'bytes 10-19/%d' % n)
        r = self.get('exists.bin', {'x-ms-range': 'bytes=100-'})
        self.assertEqual((r.status, r.body), (206, self.data[100:]))
        self.assertEqual(r.header('Content-Range'), 'bytes 100-%d/%d' % (n - 1, n))
        # x-ms-range wins over Range.
        r = self.get('exists.bin', {'Range': 'bytes=0-0', 'x-ms-range': 'bytes=1-2'})
        self.assertEqual((r.status, r.body), (206, self.data[1:3]))
        # An end past the blob is clamped.
        r = self.get('exists.bin', {'Range': 'bytes=%d-%d' % (n - 4, n + 1000)})
        self.assertEqual((r.status, r.body), (206, self.data[-4:]))
        self.assertEqual(r.header('Content-Range'), 'bytes %d-%d/%d' % (n - 4, n - 1, n))

    # -- hostile bodies and names --------------------------------------------------------------

    def stage(self, blob, block_id, data):
        return request('PUT', '%s/%s?comp=block&blockid=%s' % (
            self.base, blob, urllib.parse.quote(block_id, safe='')), auth='sharedkey', body=data)

    def put_block_list(self, blob, xml):
        return request('PUT', '%s/%s?comp=blocklist' % (self.base, blob), auth='sharedkey',
                       body=xml, headers={'Content-Type': 'application/xml'})

    def test_put_block_list_entity_bomb_and_external_entity(self):
        bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                '<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
                '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">'
                '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
                '<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">'
                '<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">'
                '<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">'
                '<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">'
                '<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">'
                '<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">'
                ']><BlockList><Latest>&lol9;</Latest></BlockList>')
        xxe = ('<?xml version="1.0"?><!DOCTYPE b [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
               '<BlockList><Latest>&xxe;</Latest></BlockList>')
        dtd = ('<?xml version="1.0"?><!DOCTYPE b SYSTEM "http://127.0.0.1:9/evil.dtd">'
               '<BlockList><Latest>%s</Latest></BlockList>' % b64('blk-0001'))
        for what, xml in (('billion laughs', bomb), ('external entity', xxe),
                          ('external dtd', dtd)):
            with self.subTest(what):
                t0 = time.monotonic()
                r = self.put_block_list('bomb.bin', xml)
                self.assertLess(time.monotonic() - t0, 5.0, 'the parser must not expand it')
                self.assertEqual(r.status, 400, r)
                self.assertEqual(r.header('x-ms-error-code'), 'InvalidXmlDocument', r)
                self.assertNotIn(b'root:', r.body)
                self.assertServing()

    def test_block_ids_of_mixed_length(self):
        a, b = b64('id-001'), b64('id-0000002')
        self.assertNotEqual(len(a), len(b))
        self.assertEqual(self.stage('mixed.bin', a, b'first').status, 201)
        r = self.stage('mixed.bin', b, b'second')
        if r.status == 201:
            # Accepted at Put Block: then Put Block List naming both must refuse it.
            r = self.put_block_list('mixed.bin', '<BlockList><Latest>%s</Latest>'
                                    '<Latest>%s</Latest></BlockList>' % (a, b))
        self.assertAzureError(r, 400, 'InvalidBlobOrBlock')
        h = request('HEAD', '%s/mixed.bin' % self.base, auth='sharedkey')
        self.assertEqual(h.status, 404)

    def test_encoded_slash_is_a_plain_name(self):
        # Choice (docs/decisions.md): %2F in a blob name decodes to '/', a plain name.
        r = self.put_blob('dir%2Ffile.txt', b'slashed')
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.get('dir/file.txt').body, b'slashed')
        r = self.get('?restype=container&comp=list&prefix=dir')
        self.assertEqual(r.status, 200)
        self.assertIn(b'<Name>dir/file.txt</Name>', r.body)

    # -- headers -------------------------------------------------------------------------------

    def test_too_many_headers(self):
        headers = {'x-filler-%03d' % i: 'v' for i in range(150)}
        r = request('GET', '%s/exists.bin' % self.base, auth='sharedkey', headers=headers)
        self.assertIn(r.status, (400, 431), r)
        self.assertEqual(r.status, 431, 'docs/decisions.md: over 100 headers is 431')
        self.assertServing()
        # 90 headers is fine.
        headers = {'x-filler-%03d' % i: 'v' for i in range(90)}
        r = request('GET', '%s/exists.bin' % self.base, auth='sharedkey', headers=headers)
        self.assertEqual(r.status, 200, r)


class SlowClientTests(ServerTestCase):
    """A client that stalls mid-request is cut off by --connection-timeout while the server
    keeps answering everyone else."""
    server_args = ('--connection-timeout', '2')

    def open_and_stall(self, payload):
        host, port = self.server.blob.split('//')[1].split(':')
        s = socket.create_connection((host, int(port)), timeout=15)
        s.sendall(payload)
        return s, time.monotonic()

    def wait_closed(self, s, limit, since=None):
        """Seconds (from `since`, default now) until the server closes the connection (EOF or
        reset), or None if it is still open after `limit` seconds."""
        since = time.monotonic() if since is None else since
        s.settimeout(limit)
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    return time.monotonic() - since
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - since
        except socket.timeout:
            return None
        finally:
            s.close()

    def test_stalled_clients_are_disconnected(self):
        path = '/%s/%s' % (harness.ACCOUNT, unique_name('slow'))
        partial_headers = ('GET %s/x HTTP/1.1\r\nHost: 127.0.0.1\r\nx-ms-version: 2021-12-02\r\n'
                           % path).encode()
        partial_body = ('PUT %s/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n'
                        'x-ms-blob-type: BlockBlob\r\n\r\n0123456789' % path).encode()
        stalled = [self.open_and_stall(partial_headers), self.open_and_stall(partial_body),
                   self.open_and_stall(b'')]
        t0 = time.monotonic()
        # While they stall, others are served.
        cname = unique_name('live')
        r = request('PUT', '%s/%s?restype=container' % (self.server.blob_account_url, cname),
                    auth='sharedkey', body=b'')
        self.assertEqual(r.status, 201, r)
        r = request('GET', '%s/%s?restype=container' % (self.server.blob_account_url, cname),
                    auth='sharedkey')
        self.assertEqual(r.status, 200, r)
        for what, (s, opened) in zip(('partial headers', 'partial body', 'nothing sent'),
                                     stalled):
            left = max(0.5, 12 - (time.monotonic() - t0))
            took = self.wait_closed(s, left, since=opened)
            self.assertIsNotNone(took, '%s: connection still open after 12 s (connection '
                                       'timeout is 2 s)' % what)
            self.assertGreater(took, 1.0, '%s: closed before the 2 s timeout' % what)
        self.assertLess(time.monotonic() - t0, 12)
        r = request('GET', '%s/%s?restype=container' % (self.server.blob_account_url, cname),
                    auth='sharedkey')
        self.assertEqual(r.status, 200, r)

    def test_idle_keep_alive_connection_is_closed(self):
        cname = unique_name('idle')
        url = '%s/%s?restype=container' % (self.server.blob_account_url, cname)
        self.assertEqual(request('PUT', url, auth='sharedkey', body=b'').status, 201)
        host, port = self.server.blob.split('//')[1].split(':')
        conn = harness.http.client.HTTPConnection(host, int(port), timeout=10)
        headers = {'x-ms-date': harness.email.utils.formatdate(usegmt=True),
                   'x-ms-version': harness.RAW_VERSION}
        headers['Authorization'] = harness.shared_key_authorization('GET', url, headers)
        conn.request('GET', '/%s/%s?restype=container' % (harness.ACCOUNT, cname),
                     headers=headers)
        resp = conn.getresponse()
        resp.read()
        self.assertEqual(resp.status, 200)
        sock = conn.sock
        self.assertIsNotNone(sock, 'the server closed a keep-alive connection at once')
        took = self.wait_closed(sock, 12)
        self.assertIsNotNone(took, 'idle connection still open after 12 s')
        self.assertGreater(took, 1.0, 'closed before the 2 s timeout')

if __name__ == '__main__':
    unittest.main()
