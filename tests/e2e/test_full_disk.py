"""End-to-end: spmigd on a full disk. The data directory is a small tmpfs (mounting one needs
root; the test is skipped otherwise), filled through the Blob API until the disk refuses
writes. Then: writes fail with the listener's own error (Azure XML 5xx, SharePoint JSON 5xx)
and a log line, never as a client error; a clock move or a user that cannot be saved does not
take effect; deletes still work and free space; spmigd restarts on the full disk; and once
space is free, writes succeed again with nothing acknowledged lost.

The binary comes from $SPMIGD (meson sets it). Run with /usr/bin/python3."""
import json
import os
import subprocess
import tempfile
import unittest

import migration_tool as mt
from harness import Server, blob_service, unique_name

TOKEN = 'full-disk-admin'
DISK_MIB = 24
BLOB = 512 * 1024


def can_mount():
    if os.geteuid() != 0:
        return False
    where = tempfile.mkdtemp(prefix='spmigd-mount-')
    try:
        probe = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', where],
                               capture_output=True)
        if probe.returncode != 0:
            return False
        subprocess.run(['umount', where], capture_output=True)
        return True
    finally:
        os.rmdir(where)


@unittest.skipUnless(can_mount(), 'mounting a tmpfs needs root')
class FullDiskTest(unittest.TestCase):
    def setUp(self):
        self.server = Server(['--admin-token', TOKEN], start=False)
        self.addCleanup(self.server.cleanup)
        os.makedirs(self.server.data_dir)
        subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=%dm,mode=0700' % DISK_MIB, 'tmpfs',
                        self.server.data_dir], check=True)
        self.addCleanup(subprocess.run, ['umount', '-l', self.server.data_dir])
        self.server.start()

    def sp(self, method, path, body=None):
        h = {'Authorization': 'Bearer ' + TOKEN, 'Accept': 'application/json'}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h['Content-Type'] = 'application/json'
        return mt.http_call(method, self.server.sp + path, data, h)

    def fill(self, container):
        """Puts blobs, smaller and smaller, until the disk refuses even a small one; returns
        the names stored and the last error."""
        stored, err, i = [], None, 0
        for size in (BLOB, 64 * 1024, 4096, 512):
            for _ in range(4 * DISK_MIB * 1024 * 1024 // size):
                name = 'fill-%05d' % i
                i += 1
                try:
                    container.upload_blob(name, os.urandom(size))
                except Exception as e:  # the SDK raises HttpResponseError on the 5xx
                    err = e
                    break
                stored.append((name, size))
            else:
                self.fail('the disk never filled')
        return stored, err

    def assertSpDiskError(self, r):
        self.assertIn(r.status, (500, 503), r.body)
        err = json.loads(r.body)['error']
        self.assertTrue(err['message']['value'])

    def test_full_disk(self):
        svc = blob_service(self.server)
        container = svc.create_container(unique_name('full'))
        stored, err = self.fill(container)
        self.assertGreater(len(stored), 4)
        self.assertIn(err.status_code, (500, 503), str(err))
        self.assertTrue(getattr(err, 'error_code', None), 'no Azure error code: %s' % err)

        # A clock move that cannot be saved does not happen.
        before = json.loads(self.sp('GET', '/_emu/clock').body)['offsetMs']
        r = self.sp('POST', '/_emu/clock', {'advance': 'P1D'})
        if r.status == 200:  # there was room for this small write after all: fill again
            before = json.loads(r.body)['offsetMs']
        else:
            self.assertSpDiskError(r)
            self.assertEqual(json.loads(self.sp('GET', '/_emu/clock').body)['offsetMs'], before)
        # A user that cannot be saved is a disk error, not a bad login.
        r = self.sp('POST', '/_emu/users', {'login': 'late@contoso.com', 'role': 'Member',
                                             'site': '/'})
        if r.status != 201:
            self.assertSpDiskError(r)

        # spmigd restarts on the full disk, keeping what it acknowledged.
        self.server.restart()
        svc = blob_service(self.server)
        container = svc.get_container_client(container.container_name)
        self.assertEqual(json.loads(self.sp('GET', '/_emu/clock').body)['offsetMs'], before)

        # Deletes work on the full disk and free it.
        for name, _ in stored[: len(stored) // 2]:
            container.delete_blob(name)
        kept = stored[len(stored) // 2:]
        self.assertEqual(sorted(b.name for b in container.list_blobs()), [n for n, _ in kept])
        container.upload_blob('after', b'x' * BLOB)
        self.assertEqual(len(container.download_blob('after').readall()), BLOB)
        for name, size in kept:
            self.assertEqual(len(container.download_blob(name).readall()), size)
        r = self.sp('POST', '/_emu/clock', {'advance': 'P1D'})
        self.assertEqual(r.status, 200, r.body)


if __name__ == '__main__':
    unittest.main()
