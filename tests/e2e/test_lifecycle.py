"""
Lifecycle policies and the clock (SPEC section 7), observed from outside: fixed policy values
through --config, the clock moved with POST /_emu/clock, and every effect seen through the
Blob and Queue endpoints, the SharePoint API, the data directory, /_emu/containers and
/_emu/audit. Every wait polls with a deadline.
"""
import datetime
import json
import os
import subprocess
import tempfile
import time
import unittest
import uuid
import warnings

import harness
from harness import Server
import migration_tool as mt

ADMIN = 'e2e-lifecycle-admin-' + uuid.uuid4().hex
DAY = 86400

# Fixed values, so every deadline is known in advance.
FIXED = {'container_data_deletion': 5, 'container_purge': 40, 'soft_delete_grace': 1,
         'queue_data_deletion': 5, 'queue_purge': 40}
E_JOB_STATUS_EXPIRED = -2147213146


def write_config(tmpdir, policies):
    path = os.path.join(tmpdir, 'config-%s.json' % uuid.uuid4().hex)
    with open(path, 'w') as f:
        json.dump({'policies': policies}, f)
    return path


def parse_time(s):
    s = s.rstrip('Z')
    fmt = '%Y-%m-%dT%H:%M:%S.%f' if '.' in s else '%Y-%m-%dT%H:%M:%S'
    return datetime.datetime.strptime(s, fmt).replace(tzinfo=datetime.timezone.utc)


def blob_url(container_uri, blob):
    base, sas = container_uri.split('?', 1)
    return '%s/%s?%s' % (base, blob, sas)


def name_of(container_uri):
    return container_uri.split('?', 1)[0].rsplit('/', 1)[1]


class LifecycleServer:
    """One spmigd with the given policies, and the /_emu calls the tests need."""

    def __init__(self, policies=None, extra=()):
        self.tmp = tempfile.mkdtemp(prefix='spmigd-lc-')
        args = ['--admin-token', ADMIN] + list(extra)
        if policies is not None:
            args += ['--config', write_config(self.tmp, policies)]
        self.server = Server(args)

    def cleanup(self):
        if self.server.running():
            self.server.stop()
        self.server.cleanup()

    def emu(self, method, path, body=None):
        return mt.emu(self.server.sp, ADMIN, method, path, body)

    def sp(self):
        return mt.SharePoint(self.server.sp, ADMIN)

    def advance(self, duration):
        """Moves the clock and waits until the sweeper has applied every deadline due."""
        self.emu('POST', 'clock', {'advance': duration})
        self.settle()

    def settle(self, timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.emu('GET', 'clock')['deadlinesDue'] == 0:
                return
            time.sleep(0.05)
        raise AssertionError('the sweeper did not catch up in %ss' % timeout)

    def containers(self):
        return {c['name']: c for c in self.emu('GET', 'containers')['containers']}

    def audit(self, top=1000):
        return self.emu('GET', 'audit?top=%d' % top)['value']


class LifecycleCase(unittest.TestCase):
    policies = FIXED

    def setUp(self):
        warnings.simplefilter('ignore', ResourceWarning)  # the SDK's pooled sockets
        self.lc = LifecycleServer(self.policies)
        self.addCleanup(self.lc.cleanup)

    def provision(self):
        return self.lc.sp().provision_containers()

    def put(self, uri, name, data):
        return mt.http_call('PUT', blob_url(uri, name), data,
                            {'x-ms-blob-type': 'BlockBlob', 'x-ms-version': '2020-10-02'})

    def get(self, uri, name):
        return mt.http_call('GET', blob_url(uri, name), None, {'x-ms-version': '2020-10-02'})


class ClockTest(LifecycleCase):
    def test_clock_moves_forward_only_and_is_admin_only(self):
        c0 = self.lc.emu('GET', 'clock')
        self.assertEqual(c0['offsetMs'], 0)
        c1 = self.lc.emu('POST', 'clock', {'advance': 'P3DT1S'})
        self.assertEqual(c1['offsetMs'], (3 * DAY + 1) * 1000)
        self.assertEqual(c1['offset'], 'P3DT0H0M1.000S')
        with self.assertRaises(mt.SpError) as e:
            self.lc.emu('POST', 'clock', {'set': '2020-01-01T00:00:00Z'})
        self.assertEqual(e.exception.status, 409)
        self.assertIn('backwards', e.exception.body.decode())
        with self.assertRaises(mt.SpError) as e:
            self.lc.emu('POST', 'clock', {'advance': '-P1D'})
        self.assertEqual(e.exception.status, 400)
        later = parse_time(c1['now']) + datetime.timedelta(days=10)
        c2 = self.lc.emu('POST', 'clock', {'set': later.strftime('%Y-%m-%dT%H:%M:%SZ')})
        self.assertGreater(c2['offsetMs'], c1['offsetMs'])
        r = mt.http_call('GET', self.lc.server.sp + '/_emu/clock')
        self.assertEqual(r.status, 401)
        self.assertTrue([a for a in self.lc.audit() if a['kind'] == 'refused' and
                         a['subject'] == '/_emu/clock' and a['detail'].startswith('401')])
        # Persisted: a restart keeps the offset.
        self.lc.server.restart()
        self.assertGreaterEqual(self.lc.emu('GET', 'clock')['offsetMs'], c2['offsetMs'])


class KeyExpiryTest(LifecycleCase):
    def test_sas_works_until_three_days_then_refused_and_audited(self):
        info = self.provision()
        uri = info['DataContainerUri']
        self.assertEqual(self.put(uri, 'a.bin', b'x' * 10).status, 201)
        self.lc.advance('P2DT23H')
        self.assertEqual(self.put(uri, 'b.bin', b'y' * 10).status, 201)
        self.lc.advance('PT1H1M')
        r = self.put(uri, 'c.bin', b'z' * 10)
        self.assertEqual(r.status, 403)
        self.assertEqual(r.headers.get('x-ms-error-code'), 'AuthenticationFailed')
        name = name_of(uri)
        refused = [a for a in self.lc.audit() if a['kind'] == 'refused' and name in a['subject']]
        self.assertTrue(refused, self.lc.audit())
        self.assertIn('AuthenticationFailed', refused[0]['detail'])
        self.assertNotIn('sig=', json.dumps(self.lc.audit()))
        self.assertEqual(self.lc.containers()[name]['state'], 'key-expired')


class DataDeletionTest(LifecycleCase):
    # A long key so that reads keep working up to the data deletion day.
    policies = dict(FIXED, key_ttl=60)

    def bytes_on_disk(self, marker):
        for root, _dirs, files in os.walk(self.lc.server.data_dir):
            for f in files:
                if f.startswith('spmig.db'):
                    continue
                try:
                    with open(os.path.join(root, f), 'rb') as fh:
                        if marker in fh.read():
                            return True
                except OSError:
                    pass
        return False

    def test_delete_soft_delete_remove_purge_and_names_never_reused(self):
        info = self.provision()
        uri = info['DataContainerUri']
        name = name_of(uri)
        data = os.urandom(200 * 1024)
        self.assertEqual(self.put(uri, 'doc.bin', data).status, 201)
        sched = self.lc.containers()[name]
        created = parse_time(sched['created'])
        self.assertEqual(parse_time(sched['dataDeletion']) - created, datetime.timedelta(days=5))
        self.assertEqual(parse_time(sched['purge']) - created, datetime.timedelta(days=40))
        self.assertEqual(parse_time(sched['dataRemoval']) - created, datetime.timedelta(days=6))

        self.lc.advance('P4DT23H')
        r = self.get(uri, 'doc.bin')
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, data)
        self.lc.advance('PT1H1M')
        r = self.get(uri, 'doc.bin')
        self.assertEqual(r.status, 404)
        self.assertEqual(r.headers.get('x-ms-error-code'), 'BlobNotFound')
        self.assertEqual(self.lc.containers()[name]['state'], 'soft-deleted')
        self.assertTrue(self.bytes_on_disk(data[:4096]), 'bytes kept during the grace')

        self.lc.advance('P1D')
        self.assertFalse(self.bytes_on_disk(data[:4096]), 'bytes removed after the grace')
        self.assertEqual(self.lc.containers()[name]['state'], 'data-removed')

        self.lc.advance('P34D')
        self.assertEqual(self.lc.containers()[name]['state'], 'purged')
        r = self.get(uri, 'doc.bin')
        self.assertEqual(r.status, 404)
        self.assertEqual(r.headers.get('x-ms-error-code'), 'ContainerNotFound')
        kinds = {a['kind'] for a in self.lc.audit() if a['subject'] == name}
        # (the 60-day key outlives the purge here: KeyExpiryTest audits key expiry)
        self.assertTrue({'provision', 'delinked', 'removed', 'purged'} <= kinds,
                        kinds)

        seen = set(self.lc.containers())
        for _ in range(40):
            got = self.provision()
            for k in ('DataContainerUri', 'MetadataContainerUri'):
                n = name_of(got[k])
                self.assertNotIn(n, seen)
                seen.add(n)
        self.assertEqual(len(self.lc.containers()), len(seen))

    def test_queue_messages_deleted_then_queue_purged(self):
        quri = self.lc.sp().provision_queue()
        name = name_of(quri)
        base, sas = quri.split('?', 1)
        body = b'<QueueMessage><MessageText>hello</MessageText></QueueMessage>'
        r = mt.http_call('POST', '%s/messages?%s' % (base, sas), body,
                         {'x-ms-version': '2020-10-02'})
        self.assertEqual(r.status, 201)
        self.lc.advance('P5DT1M')
        self.assertEqual(self.lc.containers()[name]['state'], 'data-delinked')
        r = mt.http_call('GET', '%s/messages?peekonly=true&%s' % (base, sas), None,
                         {'x-ms-version': '2020-10-02'})
        self.assertEqual(r.status, 200)
        self.assertNotIn(b'hello', r.body)
        self.lc.advance('P35D')
        self.assertEqual(self.lc.containers()[name]['state'], 'purged')


class ProgressExpiryTest(LifecycleCase):
    def test_progress_expires_after_four_days(self):
        sp = self.lc.sp()
        pkg = mt.Package(mt.fetch_target(sp))
        pkg.add_file('a.txt', b'alpha')
        m = mt.Migration(sp, pkg)
        m.run()
        sp.job_progress(m.job_id)
        self.lc.advance('P3DT23H')
        sp.job_progress(m.job_id)
        self.lc.advance('PT1H1M')
        with self.assertRaises(mt.SpError) as e:
            sp.job_progress(m.job_id)
        self.assertEqual(e.exception.hresult, E_JOB_STATUS_EXPIRED)
        jobs = [a for a in self.lc.audit() if a['kind'] == 'job' and a['subject'] == m.job_id]
        self.assertTrue(jobs)


class RestartTest(LifecycleCase):
    policies = dict(FIXED, key_ttl=60)

    def test_schedules_survive_a_restart_and_the_sweeper_catches_up(self):
        info = self.provision()
        uri = info['DataContainerUri']
        name = name_of(uri)
        self.assertEqual(self.put(uri, 'doc.bin', b'payload').status, 201)
        before = self.lc.containers()
        self.lc.advance('P2D')
        self.lc.server.restart()
        self.assertEqual(self.lc.containers(), before)
        self.assertGreaterEqual(self.lc.emu('GET', 'clock')['offsetMs'], 2 * DAY * 1000)
        self.lc.advance('P3DT1M')
        # The listeners took new ports (port 0): the same SAS on the new blob endpoint.
        uri = self.lc.server.blob + '/spmigstore/' + uri.split('/spmigstore/', 1)[1]
        self.assertEqual(self.get(uri, 'doc.bin').status, 404)
        # Stopped past a deadline: the next start catches up before anyone asks.
        self.lc.server.stop()
        self.lc.server.extra_args += ['--clock-offset', 'P41D']
        self.lc.server.start()
        self.lc.settle()
        self.assertEqual(self.lc.containers()[name]['state'], 'purged')


class SeedTest(unittest.TestCase):
    def schedule(self, seed):
        lc = LifecycleServer(None, ['--seed', str(seed)])
        try:
            sp = lc.sp()
            for _ in range(4):
                sp.provision_containers()
                sp.provision_queue()
            out = []
            for c in sorted(lc.emu('GET', 'containers')['containers'],
                            key=lambda c: (c['created'], c['kind'])):
                created = parse_time(c['created'])
                out.append((c['kind'], (parse_time(c['dataDeletion']) - created).days,
                            (parse_time(c['purge']) - created).days))
            return out
        finally:
            lc.cleanup()

    def test_same_seed_same_schedule_within_defaults(self):
        a, b = self.schedule(42), self.schedule(42)
        self.assertEqual(sorted(a), sorted(b))
        for _kind, delete, purge in a:
            self.assertTrue(4 <= delete <= 30, a)
            self.assertTrue(30 <= purge <= 90, a)
        self.assertNotEqual(sorted(a), sorted(self.schedule(7)))


class BadPolicyTest(unittest.TestCase):
    def run_with(self, policies):
        tmp = tempfile.mkdtemp(prefix='spmigd-lc-bad-')
        p = subprocess.run([harness.spmigd_path(), '--in-memory', '--config',
                            write_config(tmp, policies)], capture_output=True, timeout=30)
        return p.returncode, p.stderr.decode()

    def test_invalid_policies_stop_the_server(self):
        for pol, words in [({'container_data_deletion': {'min': 50, 'max': 60}}, 'after'),
                           ({'key_ttl': -1}, 'negative'),
                           ({'queue_purge': {'min': 80, 'max': 40}}, 'min is greater'),
                           ({'nonsense': 3}, 'unknown policy')]:
            rc, err = self.run_with(pol)
            self.assertEqual(rc, 2, (pol, err))
            self.assertIn(words, err)
            self.assertEqual(len(err.strip().splitlines()), 1, err)


if __name__ == '__main__':
    unittest.main()
