"""
Raw-HTTP checks of exact error answers: status, x-ms-error-code, x-ms-request-id, x-ms-version
and the XML <Error> body, for the cases where an SDK would hide the details. Also hostile input
(malformed SAS, XML bombs, odd names, oversized bodies, too many headers, slow clients).
"""
import base64
import hashlib
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

    # -- not found -----------------------------------------------------------------------------

    def test_missing_blob_exact_error(self):
        r = self.get('no-such-blob.txt')
        root = self.assertAzureError(r, 404, 'BlobNotFound')
        msg = root.findtext('Message')
        self.assertTrue(msg.startswith('The specified blob does not exist.\nRequestId:'), msg)
        self.assertEqual(r.header('x-ms-version'), harness.RAW_VERSION,
                         'x-ms-version echoes the request')
        self.assertTrue(r.body.lstrip(b'\xef\xbb\xbf').startswith(b'<?xml'), r.body[:60])
        # HEAD: same status and code in headers, no body.
        h = request('HEAD', '%s/no-such-blob.txt' % self.base, auth='sharedkey')
        self.assertAzureError(h, 404, 'BlobNotFound', head=True)
        # Two requests never share an id.
        r2 = self.get('no-such-blob.txt')
        self.assertNotEqual(r.header('x-ms-request-id'), r2.header('x-ms-request-id'))

    def test_unknown_container(self):
        other = '%s/%s' % (self.server.blob_account_url, unique_name('absent'))
        self.assertAzureError(self.get(other + '/blob.txt'), 404, 'ContainerNotFound')
        self.assertAzureError(self.get(other + '?restype=container'), 404, 'ContainerNotFound')
        self.assertAzureError(self.get(other + '?restype=container&comp=list'), 404,
                              'ContainerNotFound')
        r = request('PUT', other + '/blob.txt', auth='sharedkey', body=b'x',
                    headers={'x-ms-blob-type': 'BlockBlob'})
        self.assertAzureError(r, 404, 'ContainerNotFound')
        r = request('DELETE', other + '?restype=container', auth='sharedkey')
        self.assertAzureError(r, 404, 'ContainerNotFound')

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

    # -- authentication ------------------------------------------------------------------------

    def test_bad_shared_key(self):
        url = '%s/exists.bin' % self.base
        headers = {'x-ms-date': harness.email.utils.formatdate(usegmt=True),
                   'x-ms-version': harness.RAW_VERSION}
        wrong_key = base64.b64encode(b'not the account key at all......').decode()
        headers['Authorization'] = harness.shared_key_authorization('GET', url, headers,
                                                                    key=wrong_key)
        r = request('GET', url, headers=headers)
        root = self.assertAzureError(r, 403, 'AuthenticationFailed')
        self.assertTrue(root.findtext('AuthenticationErrorDetail'))

    def sas_variants(self):
        good, _ = harness.blob_service_sas('2021-12-02', self.c, permissions='rl')
        fields = urllib.parse.parse_qsl(good)

        def rebuild(f):
            return '&'.join('%s=%s' % (k, urllib.parse.quote(v, safe='')) for k, v in f)
        yield 'duplicate sp', good + '&sp=r'
        yield 'duplicate sp (conflicting)', good + '&sp=rwdl'
        yield 'bad base64 sig', rebuild([(k, '!!not*base64!!' if k == 'sig' else v)
                                         for k, v in fields])
        yield 'empty sig', rebuild([(k, '' if k == 'sig' else v) for k, v in fields])
        yield 'short sig', rebuild([(k, b64(b'short') if k == 'sig' else v) for k, v in fields])
        yield 'no se', rebuild([(k, v) for k, v in fields if k != 'se'])
        yield 'bad se date', rebuild([(k, 'yesterday' if k == 'se' else v) for k, v in fields])
        yield 'bad sv', rebuild([(k, 'banana' if k == 'sv' else v) for k, v in fields])
        # Well signed, but with a letter no permission table knows.
        odd, _ = harness.blob_service_sas('2021-12-02', self.c, permissions='rZ')
        yield 'unknown permission letter', odd
        odd, _ = harness.blob_service_sas('2021-12-02', self.c, permissions='r', resource='q')
        yield 'unknown sr', odd

    def test_malformed_sas_is_authentication_failed(self):
        for what, q in self.sas_variants():
            with self.subTest(what):
                r = request('GET', '%s/exists.bin?%s' % (self.base, q))
                self.assertAzureError(r, 403, 'AuthenticationFailed')
        # The well-formed original works (the failures above are about the damage).
        good, _ = harness.blob_service_sas('2021-12-02', self.c, permissions='rl')
        r = request('GET', '%s/exists.bin?%s' % (self.base, good))
        self.assertEqual(r.status, 200, r)

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

    def test_range_past_end_is_416(self):
        n = len(self.data)
        for rng in ('bytes=%d-' % n, 'bytes=%d-%d' % (n + 10, n + 20)):
            with self.subTest(rng):
                r = self.get('exists.bin', {'x-ms-range': rng})
                self.assertAzureError(r, 416, 'InvalidRange')
                self.assertEqual(r.header('Content-Range'), 'bytes */%d' % n)
        self.assertServing()

    def test_unparseable_range_is_ignored(self):
        # HTTP (RFC 9110 14.2) lets a server ignore a Range it cannot parse or does not
        # support; the whole blob is then served with 200 and no Content-Range.
        for rng in ('bytes=abc', 'pages=0-10', 'bytes=5-2', 'bytes=-'):
            with self.subTest(rng):
                r = self.get('exists.bin', {'Range': rng})
                self.assertEqual((r.status, r.body), (200, self.data), r)
                self.assertIsNone(r.header('Content-Range'))

    # -- Put Block List XML --------------------------------------------------------------------

    def stage(self, blob, block_id, data):
        return request('PUT', '%s/%s?comp=block&blockid=%s' % (
            self.base, blob, urllib.parse.quote(block_id, safe='')), auth='sharedkey', body=data)

    def put_block_list(self, blob, xml):
        return request('PUT', '%s/%s?comp=blocklist' % (self.base, blob), auth='sharedkey',
                       body=xml, headers={'Content-Type': 'application/xml'})

    def test_put_block_list_malformed_xml(self):
        self.assertEqual(self.stage('bl-bad.bin', b64('blk-0001'), b'abc').status, 201)
        for what, xml in (
                ('truncated', '<?xml version="1.0"?><BlockList><Latest>%s</Latest>'
                 % b64('blk-0001')),
                ('not xml', 'this is not xml'),
                ('mismatched tags', '<BlockList><Latest>x</Committed></BlockList>'),
                ('empty body', '')):
            with self.subTest(what):
                r = self.put_block_list('bl-bad.bin', xml)
                self.assertAzureError(r, 400, 'InvalidXmlDocument')
        r = request('HEAD', '%s/bl-bad.bin' % self.base, auth='sharedkey')
        self.assertEqual(r.status, 404, 'no blob was committed')
        ok = self.put_block_list('bl-bad.bin', '<?xml version="1.0" encoding="utf-8"?>'
                                 '<BlockList><Latest>%s</Latest></BlockList>' % b64('blk-0001'))
        self.assertEqual(ok.status, 201, ok)
        self.assertEqual(self.get('bl-bad.bin').body, b'abc')

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

    def test_block_id_rules(self):
        r = self.stage('ids.bin', 'not base64!', b'x')
        self.assertAzureError(r, 400, 'InvalidQueryParameterValue')
        r = self.stage('ids.bin', b64(b'x' * 65), b'x')
        self.assertAzureError(r, 400, 'InvalidQueryParameterValue')
        r = request('PUT', '%s/ids.bin?comp=block' % self.base, auth='sharedkey', body=b'x')
        self.assertEqual(r.status, 400, r)
        self.assertIn(r.header('x-ms-error-code'),
                      ('MissingRequiredQueryParameter', 'InvalidQueryParameterValue'))
        self.assertAzureError(r, 400, r.header('x-ms-error-code'))

    def test_unknown_block_in_list(self):
        r = self.put_block_list('unknown-block.bin',
                                '<BlockList><Latest>%s</Latest></BlockList>' % b64('nope-001'))
        self.assertAzureError(r, 400, 'InvalidBlockList')

    # -- checksums -----------------------------------------------------------------------------

    def test_put_blob_wrong_content_md5(self):
        data = b'checksummed content'
        wrong = b64(hashlib.md5(b'something else').digest())
        r = self.put_blob('md5.bin', data, {'Content-MD5': wrong})
        self.assertAzureError(r, 400, 'Md5Mismatch')
        self.assertEqual(request('HEAD', '%s/md5.bin' % self.base, auth='sharedkey').status, 404)
        r = self.put_blob('md5.bin', data, {'Content-MD5': b64(hashlib.md5(data).digest())})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.header('Content-MD5'), b64(hashlib.md5(data).digest()))
        r = self.stage('md5-block.bin', b64('b-01'), data)
        self.assertEqual(r.status, 201)
        r = request('PUT', '%s/md5-block.bin?comp=block&blockid=%s' % (self.base, b64('b-02')),
                    auth='sharedkey', body=data, headers={'Content-MD5': wrong})
        self.assertAzureError(r, 400, 'Md5Mismatch')
        r = self.put_blob('md5-bad-header.bin', data, {'Content-MD5': 'not-base64!'})
        self.assertEqual(r.status, 400, r)

    def test_put_blob_wrong_crc64(self):
        r = self.put_blob('crc.bin', b'crc checked', {'x-ms-content-crc64': b64(b'\0' * 8)})
        self.assertAzureError(r, 400, 'Crc64Mismatch')
        self.assertEqual(request('HEAD', '%s/crc.bin' % self.base, auth='sharedkey').status, 404)

    # -- names ---------------------------------------------------------------------------------

    def test_names_that_escape_the_store_are_refused(self):
        for name in ('a/../b.txt', '../escape.txt', 'a/./b.txt', '%2e%2e/x.txt',
                     'a/%2E%2E/b.txt', 'nul%00byte.txt', '/abs.txt', 'ctl%01.txt'):
            with self.subTest(name):
                r = self.put_blob(name, b'x')
                self.assertEqual(r.status, 400, r)
                self.assertAzureError(r, 400, r.header('x-ms-error-code'))
                self.assertIn(r.header('x-ms-error-code'),
                              ('InvalidResourceName', 'InvalidUri'))
        self.assertServing()

    def test_encoded_slash_is_a_plain_name(self):
        # Choice (docs/decisions.md): %2F in a blob name decodes to '/', a plain name.
        r = self.put_blob('dir%2Ffile.txt', b'slashed')
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.get('dir/file.txt').body, b'slashed')
        r = self.get('?restype=container&comp=list&prefix=dir')
        self.assertEqual(r.status, 200)
        self.assertIn(b'<Name>dir/file.txt</Name>', r.body)

    def test_long_names(self):
        self.assertEqual(self.put_blob('n' * 1024, b'x').status, 201)
        r = self.put_blob('n' * 1025, b'x')
        self.assertEqual(r.status, 400, r)
        r = request('PUT', '%s/%s?restype=container' % (self.server.blob_account_url, 'c' * 64),
                    auth='sharedkey', body=b'')
        self.assertAzureError(r, 400, 'InvalidResourceName')
        r = request('PUT', '%s/%s?restype=container' % (self.server.blob_account_url, 'ab'),
                    auth='sharedkey', body=b'')
        self.assertAzureError(r, 400, 'InvalidResourceName')
        r = request('PUT', '%s/%s?restype=container' % (self.server.blob_account_url, 'Upper'),
                    auth='sharedkey', body=b'')
        self.assertAzureError(r, 400, 'InvalidResourceName')

    # -- sizes and headers ---------------------------------------------------------------------

    def test_body_larger_than_allowed_is_413(self):
        # Announced sizes over the limits are refused from the headers alone.
        url = '%s/huge-block.bin?comp=block&blockid=%s' % (self.base,
                                                           urllib.parse.quote(b64('huge-001')))
        r = harness.send_raw('PUT', url, {'Content-Length': str(4000 * 1024 * 1024 + 1)},
                             auth='sharedkey')
        self.assertAzureError(r, 413, 'RequestBodyTooLarge')
        r = harness.send_raw('PUT', '%s/huge-blob.bin' % self.base,
                             {'Content-Length': str(5000 * 1024 * 1024 + 1),
                              'x-ms-blob-type': 'BlockBlob'}, auth='sharedkey')
        self.assertAzureError(r, 413, 'RequestBodyTooLarge')
        # A real oversized body where a bounded one is parsed (Put Block List XML).
        big = ('<BlockList>' + ('<Latest>%s</Latest>' % b64('x-01')) * 400_000 +
               '</BlockList>').encode()
        r = harness.send_raw('PUT', '%s/huge-list.bin?comp=blocklist' % self.base, {}, big,
                             auth='sharedkey')
        self.assertAzureError(r, 413, 'RequestBodyTooLarge')
        # Queue: a Put Message body far over 64 KiB.
        q = unique_name('bigmsg')
        qurl = '%s/%s' % (self.server.queue_account_url, q)
        self.assertEqual(request('PUT', qurl, auth='sharedkey', body=b'').status, 201)
        body = ('<QueueMessage><MessageText>%s</MessageText></QueueMessage>'
                % ('m' * 300_000)).encode()
        r = harness.send_raw('POST', qurl + '/messages', {}, body, auth='sharedkey')
        self.assertAzureError(r, 413, 'RequestBodyTooLarge')
        self.assertServing()

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
