"""
Crash safety and lifecycle (SPEC section 1): every acknowledged write survives kill -9; SIGTERM
exits 0; the ready line and <data-dir>/endpoints.json carry the same endpoints. Small bodies
(up to 128 KiB with a Content-Length) are kept in the database instead of extent files: the
boundary, ranges, block lists mixing both kinds, snapshots, and kill -9 with --durability fsync.
"""
import base64
import hashlib
import http.client
import json
import os
import re
import unittest
import urllib.parse

from azure.storage.blob import BlobServiceClient

import harness
from harness import SDK_KW, ServerTestCase, unique_name


class KillNineTests(ServerTestCase):

    def test_acknowledged_writes_survive_kill9(self):
        svc = harness.blob_service(self.server)
        qsvc = harness.queue_service(self.server)
        cname = unique_name('crash')
        cc = svc.create_container(cname, metadata={'kept': 'yes'})
        blobs = {}
        for i in range(40):
            data = os.urandom(37 * i + 1)
            name = 'dir%d/blob-%03d.bin' % (i % 3, i)
            cc.upload_blob(name, data, metadata={'i': str(i)})
            blobs[name] = hashlib.sha256(data).hexdigest()
        # Two blobs through Put Block + Put Block List.
        big_svc = BlobServiceClient.from_connection_string(
            self.server.connection_string(), max_single_put_size=32 * 1024,
            max_block_size=32 * 1024, **SDK_KW)
        for i in range(2):
            data = os.urandom(200 * 1024 + i)
            big_svc.get_blob_client(cname, 'big-%d.bin' % i).upload_blob(data)
            blobs['big-%d.bin' % i] = hashlib.sha256(data).hexdigest()
        # A snapshot, an overwrite, a delete, a staged (uncommitted) block.
        cc.get_blob_client('dir0/blob-000.bin').create_snapshot()
        over = os.urandom(999)
        cc.upload_blob('dir1/blob-001.bin', over, overwrite=True)
        blobs['dir1/blob-001.bin'] = hashlib.sha256(over).hexdigest()
        cc.delete_blob('dir2/blob-002.bin')
        del blobs['dir2/blob-002.bin']
        cc.get_blob_client('staged.bin').stage_block('stage-01', b'staged bytes')

        qname = unique_name('crashq')
        q = qsvc.create_queue(qname, metadata={'q': 'kept'})
        sent = ['message %03d' % i for i in range(30)]
        for m in sent:
            q.send_message(m)
        # Consume and delete five.
        got = list(q.receive_messages(max_messages=5, messages_per_page=5,
                                      visibility_timeout=60))
        self.assertEqual(len(got), 5)
        for m in got:
            q.delete_message(m)
        remaining = sorted(set(sent) - {m.content for m in got})

        self.assertEqual(self.server.kill9(), -9)
        self.server.restart()

        svc = harness.blob_service(self.server)
        qsvc = harness.queue_service(self.server)
        cc = svc.get_container_client(cname)
        self.assertEqual(dict(cc.get_container_properties().metadata), {'kept': 'yes'})
        listed = {b.name: b for b in cc.list_blobs(include=['metadata'])}
        self.assertEqual(sorted(listed), sorted(blobs))
        for name, digest in blobs.items():
            data = cc.download_blob(name).readall()
            self.assertEqual(hashlib.sha256(data).hexdigest(), digest, name)
        self.assertEqual(dict(listed['dir0/blob-003.bin'].metadata), {'i': '3'})
        snaps = [b for b in cc.list_blobs(name_starts_with='dir0/blob-000.bin',
                                          include=['snapshots']) if b.snapshot]
        self.assertEqual(len(snaps), 1)
        staged = cc.get_blob_client('staged.bin')
        self.assertEqual([b.id for b in staged.get_block_list('uncommitted')[1]], ['stage-01'])
        staged.commit_block_list(['stage-01'])
        self.assertEqual(staged.download_blob().readall(), b'staged bytes')

        q = qsvc.get_queue_client(qname)
        props = q.get_queue_properties()
        self.assertEqual(dict(props.metadata), {'q': 'kept'})
        self.assertEqual(props.approximate_message_count, len(remaining))
        after = list(q.receive_messages(messages_per_page=32, visibility_timeout=60))
        self.assertEqual(sorted(m.content for m in after), remaining)


INLINE_MAX = 128 * 1024


class InlineBlobTests(ServerTestCase):
    server_args = ('--durability', 'fsync')

    def extent_files(self):
        root = os.path.join(self.server.data_dir, 'blobs')
        return sum(len(os.listdir(os.path.join(root, d))) for d in os.listdir(root))

    def url(self, blob, query=''):
        return '%s/%s/%s%s' % (self.server.blob_account_url, self.cname, blob, query)

    def put(self, blob, data, query='', headers=None):
        h = {'x-ms-blob-type': 'BlockBlob'} if not query else {}
        h.update(headers or {})
        r = harness.request('PUT', self.url(blob, query), auth='sharedkey', body=data, headers=h)
        self.assertEqual(r.status, 201, r)
        return r

    def get(self, blob, headers=None, query=''):
        return harness.request('GET', self.url(blob, query), auth='sharedkey', headers=headers)

    def put_chunked(self, blob, data):
        """Put Blob without a Content-Length (chunked transfer encoding)."""
        headers = {'x-ms-blob-type': 'BlockBlob', 'x-ms-date': harness.utcnow().strftime(
            '%a, %d %b %Y %H:%M:%S GMT'), 'x-ms-version': harness.RAW_VERSION}
        url = self.url(blob)
        headers['Authorization'] = harness.shared_key_authorization('PUT', url, headers)
        u = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=15)
        try:
            conn.request('PUT', u.path, body=iter([data]), headers=headers, encode_chunked=True)
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(resp.status, 201)
        finally:
            conn.close()

    def test_inline_blobs_survive_kill9(self):
        self.cname = unique_name('inline')
        r = harness.request('PUT', '%s/%s?restype=container' % (self.server.blob_account_url,
                                                                self.cname), auth='sharedkey',
                            body=b'')
        self.assertEqual(r.status, 201, r)
        files = self.extent_files()
        blobs = {}
        # Up to the limit: all in one pack; one byte over: a file of its own.
        for size in (0, 1, 4096, INLINE_MAX - 1, INLINE_MAX):
            data = os.urandom(size)
            r = self.put('in-%d' % size, data)
            self.assertEqual(r.header('Content-MD5'),
                             base64.b64encode(hashlib.md5(data).digest()).decode())
            blobs['in-%d' % size] = data
        self.assertEqual(self.extent_files(), files + 1)
        blobs['over'] = os.urandom(INLINE_MAX + 1)
        self.put('over', blobs['over'])
        self.assertEqual(self.extent_files(), files + 2)
        # A small body without a Content-Length streams to a file as before.
        blobs['chunked'] = b'sent in chunks'
        self.put_chunked('chunked', blobs['chunked'])
        self.assertEqual(self.extent_files(), files + 3)

        # Ranges of an inline blob, with and without the range MD5.
        data = blobs['in-4096']
        r = self.get('in-4096', {'x-ms-range': 'bytes=100-199'})
        self.assertEqual((r.status, r.body), (206, data[100:200]))
        self.assertEqual(r.header('Content-Range'), 'bytes 100-199/4096')
        r = self.get('in-4096', {'x-ms-range': 'bytes=4000-', 'x-ms-range-get-content-md5': 'true'})
        self.assertEqual((r.status, r.body), (206, data[4000:]))
        self.assertEqual(r.header('Content-MD5'),
                         base64.b64encode(hashlib.md5(data[4000:]).digest()).decode())
        r = self.get('in-0')
        self.assertEqual((r.status, r.body), (200, b''))

        # A block list mixing inline blocks with one stored as a file, then a snapshot and a
        # recommit that reuses a committed inline block.
        parts = [b'a' * 1000, os.urandom(INLINE_MAX + 10), b'c' * 3000]
        ids = [base64.b64encode(b'block-%d' % i).decode() for i in range(3)]
        for i, part in enumerate(parts):
            self.put('mixed', part, '?comp=block&blockid=' + urllib.parse.quote(ids[i], safe=''))
        xml = '<BlockList>%s</BlockList>' % ''.join('<Latest>%s</Latest>' % i
                                                   for i in ids + ids[:1])
        self.put('mixed', xml.encode(), '?comp=blocklist')
        blobs['mixed'] = b''.join(parts + parts[:1])
        r = self.get('mixed', {'x-ms-range': 'bytes=900-%d' % (1000 + INLINE_MAX + 10 + 99)})
        self.assertEqual(r.body, blobs['mixed'][900:1000 + INLINE_MAX + 10 + 100])
        r = harness.request('PUT', self.url('mixed', '?comp=snapshot'), auth='sharedkey',
                            body=b'')
        self.assertEqual(r.status, 201, r)
        snapshot = r.header('x-ms-snapshot')
        xml = '<BlockList><Committed>%s</Committed></BlockList>' % ids[2]
        self.put('mixed', xml.encode(), '?comp=blocklist')
        # An uncommitted small block, left staged.
        self.put('staged', b'staged', '?comp=block&blockid=' + ids[0])

        self.assertEqual(self.server.kill9(), -9)
        self.server.restart()

        for name, data in blobs.items():
            if name == 'mixed':
                continue
            r = self.get(name)
            self.assertEqual((r.status, r.body), (200, data), name)
        r = self.get('mixed', query='?snapshot=' + urllib.parse.quote(snapshot))
        self.assertEqual((r.status, r.body), (200, blobs['mixed']))
        self.assertEqual(self.get('mixed').body, parts[2])
        r = self.get('staged', query='?comp=blocklist&blocklisttype=uncommitted')
        self.assertIn(ids[0].encode(), r.body)
        # Deleting everything leaves only the files of the other tests: the pack written
        # before the restart goes with the last of its ranges, the staged block's once
        # committed and deleted.
        for name in blobs:
            r = harness.request('DELETE', self.url(name), auth='sharedkey',
                                headers={'x-ms-delete-snapshots': 'include'})
            self.assertEqual(r.status, 202, r)
        self.assertEqual(self.extent_files(), files + 1)
        xml = '<BlockList><Latest>%s</Latest></BlockList>' % ids[0]
        self.put('staged', xml.encode(), '?comp=blocklist')
        self.assertEqual(self.get('staged').body, b'staged')
        r = harness.request('DELETE', self.url('staged'), auth='sharedkey')
        self.assertEqual(r.status, 202, r)
        self.assertEqual(self.extent_files(), files)


class CleanShutdownTests(ServerTestCase):

    def check_ready(self):
        ready = self.server.ready
        self.assertEqual(set(ready), {'ready', 'sp', 'blob', 'queue'})
        ports = []
        for k in ('sp', 'blob', 'queue'):
            m = re.fullmatch(r'http://127\.0\.0\.1:(\d+)', ready[k])
            self.assertIsNotNone(m, ready[k])
            ports.append(int(m.group(1)))
            self.assertGreater(ports[-1], 0)
        self.assertEqual(len(set(ports)), 3, 'three distinct listeners')
        path = os.path.join(self.server.data_dir, 'endpoints.json')
        with open(path) as f:
            self.assertEqual(json.load(f), ready, 'endpoints.json matches the ready line')
        return ports

    def test_sigterm_exits_zero_and_state_persists(self):
        first = self.check_ready()
        cname = unique_name('clean')
        cc = harness.blob_service(self.server).create_container(cname)
        cc.upload_blob('before-stop.txt', b'written before SIGTERM')
        q = harness.queue_service(self.server).create_queue(unique_name('cleanq'))
        q.send_message('survives shutdown')
        qname = q.queue_name
        self.assertEqual(self.server.stop(), 0)  # stop() itself fails unless the exit is 0
        self.assertFalse(self.server.running())
        self.server.restart()
        second = self.check_ready()
        self.assertEqual(len(second), len(first))
        cc = harness.blob_service(self.server).get_container_client(cname)
        self.assertEqual(cc.download_blob('before-stop.txt').readall(),
                         b'written before SIGTERM')
        peeked = harness.queue_service(self.server).get_queue_client(qname).peek_messages()
        self.assertEqual([m.content for m in peeked], ['survives shutdown'])

    def test_ready_line_is_single_json_object(self):
        self.check_ready()
        self.assertEqual(json.loads(self.server.ready_line), self.server.ready)
        self.assertEqual(self.server.ready_line.count('\n'), 0)
        self.assertIs(self.server.ready['ready'], True)


if __name__ == '__main__':
    unittest.main()
