"""
Crash safety and lifecycle (SPEC section 1): every acknowledged write survives kill -9; SIGTERM
exits 0; the ready line and <data-dir>/endpoints.json carry the same endpoints.
"""
import hashlib
import json
import os
import re
import unittest

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
