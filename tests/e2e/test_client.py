"""
test_client.py: the real spmig against the real spmigd. A generated share of a few hundred
files in nested folders is migrated and read back byte for byte through SharePoint REST (with
migration_tool's independent REST client); the reports are checked column by column; reruns
send nothing, one touched file, or the added files; bad names, long paths, unreadable files and
symlinks are reported and not sent; throttling through /_emu/faults is ridden out; a job the
server's timer job never takes fails after --job-timeout; a file written to while it is read
is retried, then reported; a server killed mid-run is survived by resuming; two shares migrated
at once into one folder share the folders they both hold; Migration Manager's task settings
(filters, invalid characters, scan only, the id seed, pause and resume) each migrate exactly
what they should. Also the scan, package, jobs and admin commands, bad usage, and jobs events
decrypting a report queue shared by two encrypted jobs.

The binaries come from $SPMIG and $SPMIGD (meson sets them). Run with /usr/bin/python3.
"""
import base64
import csv
import json
import os
import random
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

import migration_tool as mt
from harness import Server, ServerTestCase, spmig_path

ADMIN = 'client-admin'
RUN_TIMEOUT = 180

ITEM_COLUMNS = ['Source', 'Destination', 'Item name', 'Extension', 'Item size', 'Content type',
                'Status', 'Result category', 'Message', 'Error code', 'Source item ID',
                'Destination item ID', 'Package number', 'Migration job ID', 'Incremental round',
                'Task ID', 'Device name']


def make_share(root, n_files=300, seed=7):
    """Nested folders with files of varied sizes (0 bytes to ~9 MiB, so some go in blocks).
    Returns {relative path: bytes}."""
    rnd = random.Random(seed)
    files = {}
    folders = ['', 'Reports', 'Reports/2024', 'Reports/2024/Q1', 'Photos', 'Photos/Trip 2023',
               'Team & Co', 'Team & Co/Ünïcode €', 'Deep/a/b/c/d/e']
    for f in folders:
        os.makedirs(os.path.join(root, f), exist_ok=True)
    sizes = [0, 1, 15, 16, 17, 4096, 65536, 100000]
    for i in range(n_files):
        folder = folders[i % len(folders)]
        size = sizes[i % len(sizes)] if i % 97 else 9 * 1024 * 1024 + 5
        name = 'file %03d%s' % (i, ['.txt', '.docx', '.bin', '', '.tar.gz'][i % 5])
        rel = (folder + '/' if folder else '') + name
        data = rnd.randbytes(size)
        with open(os.path.join(root, rel), 'wb') as fh:
            fh.write(data)
        files[rel] = data
    return files


def read_csv(path):
    with open(path, newline='', encoding='utf-8') as fh:
        rows = list(csv.reader(fh))
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


class ClientCase(ServerTestCase):
    server_args = ('--admin-token', ADMIN)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='spmig-e2e-')
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.state = os.path.join(self.tmp, 'state')
        self.reports = os.path.join(self.tmp, 'reports')
        self.sp = mt.SharePoint(self.server.sp, ADMIN, accept=mt.NOMETADATA)

    def make_library(self, title):
        """A fresh document library; its root folder's server-relative URL."""
        self.sp.call('POST', 'web/lists', {'Title': title, 'BaseTemplate': 101})
        lst = self.sp.entity('web/lists/getbytitle(%s)' % mt.quote_literal(title),
                             {'$expand': 'RootFolder'})
        return lst['RootFolder']['ServerRelativeUrl']

    def spmig(self, *args, ok=(0,), env=None, timeout=RUN_TIMEOUT):
        e = {k: v for k, v in os.environ.items() if not k.startswith('SPMIG_')}
        e.update(env or {})
        p = subprocess.run([spmig_path()] + [str(a) for a in args], capture_output=True,
                           timeout=timeout, env=e, stdin=subprocess.DEVNULL)
        if ok is not None and p.returncode not in ok:
            self.fail('spmig %s exited %d\nstdout: %s\nstderr: %s' % (
                ' '.join(map(str, args)), p.returncode, p.stdout.decode(errors='replace')[-3000:],
                p.stderr.decode(errors='replace')[-3000:]))
        return p

    def migrate(self, source, library, *extra, ok=(0,)):
        return self.spmig('migrate', source, '--site', self.server.sp, '--token', ADMIN,
                          '--library', library, '--state-dir', self.state, '--report-dir',
                          self.reports, '--parallel', 4, *extra, ok=ok)

    def summary(self, round_no=None):
        name = 'summary.json' if round_no is None else 'summary_R%d.json' % round_no
        with open(os.path.join(self.reports, name)) as fh:
            return json.load(fh)

    def items(self, round_no):
        header, rows = read_csv(os.path.join(self.reports, 'ItemReport_R%d.csv' % round_no))
        self.assertEqual(header, ITEM_COLUMNS)
        return rows

    def file_bytes(self, server_relative):
        return self.sp.value("web/GetFileByServerRelativeUrl(%s)/$value"
                             % mt.quote_literal(server_relative))

    def file_entity(self, server_relative):
        return self.sp.entity("web/GetFileByServerRelativeUrl(%s)"
                              % mt.quote_literal(server_relative))

    def assertMigrated(self, root_url, files):
        for rel, data in files.items():
            got = self.file_bytes(root_url + '/' + rel)
            self.assertEqual(len(got), len(data), rel)
            self.assertEqual(got, data, rel)


class MigrateTest(ClientCase):

    def test_share_read_back_and_reports(self):
        src = os.path.join(self.tmp, 'share')
        files = make_share(src)
        t0 = time.time() - 2
        os.utime(os.path.join(src, 'Reports/2024/Q1'), (t0, t0))
        root = self.make_library('Share One')
        p = self.migrate(src, 'Share One')
        self.assertIn(b'round 0 done', p.stderr)
        self.assertMigrated(root, files)

        # Timestamps and ids: TimeLastModified is the file's mtime (to the second).
        touched = 'Reports/2024/file 002.bin'
        ent = self.file_entity(root + '/' + touched)
        mtime = os.stat(os.path.join(src, touched)).st_mtime
        got = mt.datetime.datetime.strptime(ent['TimeLastModified'][:19], '%Y-%m-%dT%H:%M:%S')
        want = mt.datetime.datetime.utcfromtimestamp(int(mtime))
        self.assertLessEqual(abs((got - want).total_seconds()), 1)

        rows = self.items(0)
        by_src = {r['Source']: r for r in rows}
        folder_rows = [r for r in rows if r['Content type'] == 'Folder']
        n_folders = sum(len(ds) for _, ds, _ in os.walk(src))
        self.assertEqual(n_folders, 13)
        self.assertEqual(len(folder_rows), n_folders)
        self.assertEqual(len(rows), len(files) + len(folder_rows))
        task_ids = {r['Task ID'] for r in rows}
        self.assertEqual(len(task_ids), 1)
        for rel, data in files.items():
            r = by_src[os.path.join(os.path.realpath(src), rel)]
            self.assertEqual(r['Status'], 'Migrated', r)
            self.assertEqual(r['Item name'], os.path.basename(rel))
            self.assertEqual(r['Item size'], str(len(data)))
            self.assertEqual(r['Content type'], 'File')
            ext = os.path.splitext(rel)[1]
            self.assertEqual(r['Extension'], ext)
            self.assertEqual(r['Result category'], '')
            self.assertEqual(r['Error code'], '')
            self.assertEqual(r['Incremental round'], '0')
            self.assertEqual(r['Source item ID'], 'N/A')
            self.assertEqual(r['Destination'],
                             self.server.sp + root + '/' + rel)
            self.assertRegex(r['Migration job ID'], r'^[0-9a-f-]{36}$')
            self.assertTrue(r['Package number'].isdigit())
            # Destination item ID is the UniqueId the file has in SharePoint.
            if rel == touched:
                self.assertEqual(r['Destination item ID'].lower(), ent['UniqueId'].lower())
        self.assertFalse(os.path.exists(os.path.join(self.reports, 'ItemFailureReport_R0.csv')))

        s = self.summary()
        self.assertEqual(s['round'], 0)
        self.assertEqual(s['migrated'], len(files) + len(folder_rows))
        self.assertEqual(s['failed'], 0)
        self.assertEqual(s['skipped'], 0)
        self.assertEqual(s['bytes'], sum(len(d) for d in files.values()))
        self.assertGreater(s['seconds'], 0)
        self.assertEqual(s, self.summary(0))
        h, scan = read_csv(os.path.join(self.reports, 'ScanSummary_R0.csv'))
        self.assertEqual(h, ['Incremental round', 'Total scanned items', 'Total scanned folders',
                             'Total scanned list items', 'Total scanned files',
                             'Folders with issues', 'Items with issues', 'Items filtered out',
                             'Folders to be migrated', 'Items to be migrated',
                             'Total items to be migrated', 'Device name'])
        self.assertEqual(scan[0]['Total scanned files'], str(len(files)))
        h, summ = read_csv(os.path.join(self.reports, 'SummaryReport_R0.csv'))
        self.assertEqual(h[:4], ['Source', 'Destination', 'Status', 'Total bytes'])
        self.assertIn('GB/hour', h)
        self.assertEqual(summ[0]['Status'], 'Completed')

        # Round 1 with nothing changed sends nothing.
        self.migrate(src, 'Share One')
        s = self.summary()
        self.assertEqual((s['round'], s['migrated'], s['skipped'], s['packages']),
                         (1, 0, len(files) + len(folder_rows), 0))
        self.assertTrue(all(r['Status'] == 'Skipped' for r in self.items(1)))

        # Round 2: one file touched is sent again and replaces the old one (same UniqueId).
        with open(os.path.join(src, touched), 'wb') as fh:
            fh.write(b'changed content')
        later = time.time() + 5
        os.utime(os.path.join(src, touched), (later, later))
        self.migrate(src, 'Share One')
        s = self.summary()
        self.assertEqual((s['round'], s['migrated'], s['packages']), (2, 1, 1))
        self.assertEqual(self.file_bytes(root + '/' + touched), b'changed content')
        ent2 = self.file_entity(root + '/' + touched)
        self.assertEqual(ent2['UniqueId'], ent['UniqueId'])
        sent = [r for r in self.items(2) if r['Status'] == 'Migrated']
        self.assertEqual([r['Item name'] for r in sent], ['file 002.bin'])

        # Round 3: files added are sent, files removed stay in the library.
        with open(os.path.join(src, 'Photos/new one.jpg'), 'wb') as fh:
            fh.write(b'\xff\xd8new')
        os.makedirs(os.path.join(src, 'Brand new/inner'))
        with open(os.path.join(src, 'Brand new/inner/x.txt'), 'wb') as fh:
            fh.write(b'x')
        os.remove(os.path.join(src, 'Photos/file 004.tar.gz'))
        self.migrate(src, 'Share One')
        self.assertEqual(self.summary()['migrated'], 4)  # 2 files, 2 folders
        self.assertEqual(self.file_bytes(root + '/Photos/new one.jpg'), b'\xff\xd8new')
        self.assertEqual(self.file_bytes(root + '/Brand new/inner/x.txt'), b'x')
        self.assertEqual(self.file_bytes(root + '/Photos/file 004.tar.gz'),
                         files['Photos/file 004.tar.gz'])

    def test_items_paged(self):
        """A library's items, paged with $skiptoken as SharePoint pages them: every file and
        folder once, never the root folder, whatever position the token names."""
        src = os.path.join(self.tmp, 'paged')
        files = make_share(src, n_files=23)
        self.make_library('Paged')
        self.migrate(src, 'Paged')
        folders = {os.path.dirname(rel) for rel in files} - {''}
        folders |= {'/'.join(f.split('/')[:i]) for f in folders for i in range(1, f.count('/') + 1)}
        items = "web/lists/getbytitle('Paged')/items"
        ids = [i['Id'] for i in self.sp.collection(items, {'$top': '4'})]
        self.assertEqual(len(ids), len(files) + len(folders))
        self.assertEqual(len(set(ids)), len(ids))
        self.assertNotIn(0, ids)
        for token in ('Paged=TRUE&p_ID=-1', 'Paged=TRUE&p_ID=0'):
            again = [i['Id'] for i in self.sp.collection(items, {'$skiptoken': token,
                                                                 '$top': '5000'})]
            self.assertEqual(again, ids, token)
        rest = [i['Id'] for i in self.sp.collection(items, {'$skiptoken': 'Paged=TRUE&p_ID=%d'
                                                            % ids[2]})]
        self.assertEqual(rest, ids[3:])
        for token in ('Paged=TRUE&p_ID=abc', 'Paged=TRUE&p_ID=', 'Paged=TRUE&p_ID=99999999999'):
            _, r = self.sp.raw('GET', items, params={'$skiptoken': token})
            self.assertEqual(r.status, 400, token)

    def test_bad_entries_reported_not_sent(self):
        src = os.path.join(self.tmp, 'bad')
        os.makedirs(os.path.join(src, 'ok'))
        with open(os.path.join(src, 'ok/fine.txt'), 'w') as fh:
            fh.write('fine')
        # Reserved names are whole names: the import takes CON.txt, so the scan sends it.
        with open(os.path.join(src, 'ok/CON.txt'), 'w') as fh:
            fh.write('con')
        bad = {'bad:colon.txt': '0x01110010', 'trailing .txt ': '0x01110010',
               'CON': '0x01110010', 'x_vti_y.txt': '0x01110010', '~$lock.docx': '0x01110010',
               'desktop.ini': '0x01110010', 'del\x7f.txt': '0x01110010'}
        for n in bad:
            with open(os.path.join(src, n), 'w') as fh:
                fh.write('no')
        longdir = os.path.join(src, 'L' * 150, 'M' * 150)
        os.makedirs(longdir)
        with open(os.path.join(longdir, 'too-long-' + 'x' * 100 + '.txt'), 'w') as fh:
            fh.write('long')
        os.symlink('ok/fine.txt', os.path.join(src, 'link.txt'))
        os.symlink('ok', os.path.join(src, 'linkdir'))
        locked = os.path.join(src, 'ok', 'locked.txt')
        with open(locked, 'w') as fh:
            fh.write('secret')
        os.chmod(locked, 0)
        open(os.path.join(src, 'ok', 'empty.txt'), 'w').close()
        root = self.make_library('Bad Names')
        # Unreadable files only fail for an unprivileged reader: run as nobody when root.
        as_root = os.geteuid() == 0
        if as_root:
            for d, _, fs in os.walk(self.tmp):
                os.chmod(d, 0o777)
        p = self.spmig('migrate', src, '--site', self.server.sp, '--token', ADMIN, '--library',
                       'Bad Names', '--state-dir', self.state, '--report-dir', self.reports,
                       ok=(1,)) if not as_root else self._as_nobody(src)
        self.assertEqual(p.returncode, 1)
        rows = {os.path.relpath(r['Source'], os.path.realpath(src)): r for r in self.items(0)}
        for n, code in bad.items():
            self.assertEqual(rows[n]['Status'], 'Failed', n)
            self.assertEqual(rows[n]['Result category'], 'SCAN FILE FAILURE', n)
            self.assertEqual(rows[n]['Error code'], code, n)
            self.assertEqual(self.sp.raw('GET', "web/GetFileByServerRelativeUrl(%s)" %
                                         mt.quote_literal(root + '/' + n))[1].status, 404)
        too_long = os.path.relpath(os.path.join(longdir, 'too-long-' + 'x' * 100 + '.txt'), src)
        self.assertEqual(rows[too_long]['Error code'], '0x0111000B')
        self.assertEqual(rows['link.txt']['Status'], 'Failed')
        self.assertEqual(rows['linkdir']['Status'], 'Failed')
        self.assertEqual(rows['ok/locked.txt']['Status'], 'Failed')
        self.assertEqual(rows['ok/fine.txt']['Status'], 'Migrated')
        self.assertEqual(rows['ok/empty.txt']['Status'], 'Migrated')
        self.assertEqual(self.file_bytes(root + '/ok/fine.txt'), b'fine')
        self.assertEqual(rows['ok/CON.txt']['Status'], 'Migrated')
        self.assertEqual(self.file_bytes(root + '/ok/CON.txt'), b'con')
        self.assertEqual(self.file_bytes(root + '/ok/empty.txt'), b'')
        _, fails = read_csv(os.path.join(self.reports, 'ItemFailureReport_R0.csv'))
        self.assertEqual({os.path.relpath(r['Source'], os.path.realpath(src)) for r in fails},
                         {k for k, r in rows.items() if r['Status'] == 'Failed'})
        self.assertEqual(self.summary()['status'], 'Completed with issues')

        # The scan alone says the same, sends nothing, and exits 1 for the failures.
        scan_dir = os.path.join(self.tmp, 'scan-report')
        p = self.spmig('scan', src, '--report-dir', scan_dir, ok=(1,))
        self.assertIn(b'to migrate', p.stdout)
        _, srows = read_csv(os.path.join(scan_dir, 'ItemReport_R0.csv'))
        srows = {os.path.relpath(r['Source'], os.path.realpath(src)): r for r in srows}
        for n, code in bad.items():
            self.assertEqual((srows[n]['Status'], srows[n]['Error code']), ('Failed', code))
        self.assertEqual(srows['ok/fine.txt']['Status'], 'Ready to migrate')
        self.assertTrue(os.path.exists(os.path.join(scan_dir, 'ScanSummary_R0.csv')))

    def _as_nobody(self, src):
        # nobody may not reach the build tree (a checkout under /root): run a copy.
        binary = os.path.join(self.tmp, 'spmig')
        shutil.copy(spmig_path(), binary)
        os.chmod(self.tmp, 0o777)
        for d, ds, fs in os.walk(self.tmp):
            os.chmod(d, 0o777)
            for f in fs:
                path = os.path.join(d, f)
                if not os.path.islink(path) and os.stat(path).st_mode & 0o777:
                    os.chmod(path, 0o666)
        os.chmod(binary, 0o755)
        return subprocess.run(
            [binary, 'migrate', src, '--site', self.server.sp, '--token', ADMIN,
             '--library', 'Bad Names', '--state-dir', self.state, '--report-dir', self.reports],
            capture_output=True, timeout=RUN_TIMEOUT, user=65534, group=65534,
            env={'PATH': os.environ.get('PATH', '/usr/bin'), 'HOME': self.tmp})

    def test_throttling_ridden_out(self):
        src = os.path.join(self.tmp, 'thr')
        files = make_share(src, n_files=40, seed=3)
        root = self.make_library('Throttled')
        for op, status in (('ProvisionMigrationContainers', 503),
                           ('CreateMigrationJobEncrypted', 429), ('web', 429)):
            mt.emu(self.server.sp, ADMIN, 'POST', 'faults',
                   {'status': status, 'retryAfter': 1, 'operation': op, 'count': 2})
        t = time.monotonic()
        self.migrate(src, 'Throttled')
        self.assertGreaterEqual(time.monotonic() - t, 2)  # waited for Retry-After
        self.assertMigrated(root, files)
        left = mt.emu(self.server.sp, ADMIN, 'GET', 'faults')['faults']
        mt.emu(self.server.sp, ADMIN, 'DELETE', 'faults')
        self.assertTrue(all(f.get('count', 0) == 0 for f in left), left)

    def test_job_timeout(self):
        """A job that says nothing for --job-timeout seconds fails with its items (the server's
        timer job held through /_emu/faults); the next round sends them again."""
        src = os.path.join(self.tmp, 'slow')
        files = make_share(src, n_files=6, seed=9)
        root = self.make_library('Slow Farm')
        mt.emu(self.server.sp, ADMIN, 'POST', 'faults', {'status': 503, 'operation': 'ImportJob'})
        try:
            t = time.monotonic()
            p = self.migrate(src, 'Slow Farm', '--job-timeout', 2, ok=(1,))
            self.assertLess(time.monotonic() - t, 60, p.stderr)
        finally:
            mt.emu(self.server.sp, ADMIN, 'DELETE', 'faults')
        rows = {os.path.relpath(r['Source'], os.path.realpath(src)): r for r in self.items(0)}
        for rel in files:
            self.assertEqual(rows[rel]['Status'], 'Failed', rel)
            self.assertEqual(rows[rel]['Error code'], '0x01710009', rel)
            self.assertIn('timeout', rows[rel]['Message'], rel)
        self.assertEqual(self.summary()['failed'], len(rows))
        # The farm is back: the next round sends what failed.
        self.migrate(src, 'Slow Farm')
        self.assertEqual(self.summary(1)['failed'], 0)
        self.assertMigrated(root, files)

    def test_file_changing_while_read(self):
        """A file written to all the time is read three times, then reported as changed and
        not sent; the rest of the share migrates."""
        src = os.path.join(self.tmp, 'busy')
        os.makedirs(src)
        with open(os.path.join(src, 'steady.txt'), 'wb') as fh:
            fh.write(b'steady')
        busy = os.path.join(src, 'growing.log')
        with open(busy, 'wb') as fh:
            fh.write(os.urandom(24 << 20))
        root = self.make_library('Busy')
        stop = threading.Event()

        def writer():
            with open(busy, 'ab', buffering=0) as fh:
                for _ in range(60000):  # bounded: at most a minute
                    if stop.wait(0.001):
                        break
                    fh.write(b'x')

        th = threading.Thread(target=writer)
        th.start()
        try:
            self.migrate(src, 'Busy', ok=(1,))
        finally:
            stop.set()
            th.join()
        rows = {os.path.relpath(r['Source'], os.path.realpath(src)): r for r in self.items(0)}
        self.assertEqual(rows['growing.log']['Status'], 'Failed')
        self.assertEqual(rows['growing.log']['Error code'], '0x02080001')
        self.assertIn('changed while it was being read', rows['growing.log']['Message'])
        self.assertEqual(rows['steady.txt']['Status'], 'Migrated')
        self.assertEqual(self.file_bytes(root + '/steady.txt'), b'steady')
        self.assertEqual(self.sp.raw('GET', "web/GetFileByServerRelativeUrl(%s)" %
                                     mt.quote_literal(root + '/growing.log'))[1].status, 404)
        # Once it is still, the next round sends it as it is then.
        self.migrate(src, 'Busy')
        with open(busy, 'rb') as fh:
            self.assertEqual(self.file_bytes(root + '/growing.log'), fh.read())

    def test_destination_folder_and_package_command(self):
        src = os.path.join(self.tmp, 'fold')
        files = make_share(src, n_files=20, seed=5)
        root = self.make_library('Foldered')
        self.migrate(src, 'Foldered', '--folder', 'Imported/2024')
        self.assertMigrated(root + '/Imported/2024', files)
        # A second source into the same destination folder merges with it.
        src2 = os.path.join(self.tmp, 'fold2')
        os.makedirs(src2)
        with open(os.path.join(src2, 'more.txt'), 'w') as fh:
            fh.write('more')
        self.migrate(src2, 'Foldered', '--folder', 'Imported/2024')
        self.assertEqual(self.file_bytes(root + '/Imported/2024/more.txt'), b'more')
        self.assertMigrated(root + '/Imported/2024', files)

        out = os.path.join(self.tmp, 'pkgs')
        self.spmig('package', src, out)
        pkgs = sorted(os.listdir(out))
        self.assertEqual(pkgs, ['package-0001'])
        names = sorted(os.listdir(os.path.join(out, pkgs[0])))
        self.assertEqual(names, sorted(['content', 'Manifest.xml', 'ExportSettings.xml',
                                        'SystemData.xml', 'UserGroup.xml', 'RootObjectMap.xml',
                                        'LookupListMap.xml', 'Requirements.xml',
                                        'ViewFormsList.xml']))
        content = os.path.join(out, pkgs[0], 'content')
        blobs = sorted(open(os.path.join(content, n), 'rb').read() for n in os.listdir(content))
        self.assertEqual(blobs, sorted(files.values()))
        with open(os.path.join(out, pkgs[0], 'Manifest.xml'), encoding='utf-8') as fh:
            manifest = fh.read()
        self.assertIn('urn:deployment-manifest-schema', manifest)
        self.assertIn('file 000.txt', manifest)

    def test_two_sources_into_one_folder_at_once(self):
        """Two runs of two shares into one destination folder at the same time, as Migration
        Manager runs tasks into one library: each run makes its own ids for the destination
        folder and for Common, which both shares hold, and both send Common/same.txt. The
        server's timer job is held until both runs have submitted their jobs, so both are
        queued together. Both runs end clean; the library holds both shares under one
        Together/Common, and same.txt is one of the two."""
        root = self.make_library('Together')
        shares = {}
        for tag in ('a', 'b'):
            src = os.path.join(self.tmp, 'share-' + tag)
            files = {'Common/%s-%02d.txt' % (tag, i): ('%s %d\n' % (tag, i)).encode() * (i + 1)
                     for i in range(12)}
            files['Common/Inner/%s-inner.txt' % tag] = tag.encode() * 500
            files['Common/same.txt'] = ('same path, share %s\n' % tag).encode()
            files['only-%s/x.txt' % tag] = b'only ' + tag.encode()
            for rel, data in files.items():
                os.makedirs(os.path.dirname(os.path.join(src, rel)), exist_ok=True)
                with open(os.path.join(src, rel), 'wb') as fh:
                    fh.write(data)
            shares[tag] = (src, files)
        audit = 'audit?top=1000'
        jobs_before = sum(1 for a in mt.emu(self.server.sp, ADMIN, 'GET', audit)['value']
                          if a['kind'] == 'job')
        env = {k: v for k, v in os.environ.items() if not k.startswith('SPMIG_')}
        runs = {}
        mt.emu(self.server.sp, ADMIN, 'POST', 'faults', {'status': 503, 'operation': 'ImportJob'})
        try:
            for tag, (src, _) in shares.items():
                out = open(os.path.join(self.tmp, 'run-%s.out' % tag), 'w+b')
                self.addCleanup(out.close)
                p = subprocess.Popen(
                    [spmig_path(), 'migrate', src, '--site', self.server.sp, '--token', ADMIN,
                     '--library', 'Together', '--folder', 'Together', '--state-dir', self.state,
                     '--report-dir', os.path.join(self.tmp, 'reports-' + tag), '--parallel',
                     '4'], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    env=env)
                self.addCleanup(lambda p=p: p.poll() is None and p.kill())
                runs[tag] = (p, out)
            deadline = time.monotonic() + 60
            while sum(1 for a in mt.emu(self.server.sp, ADMIN, 'GET', audit)['value']
                      if a['kind'] == 'job') < jobs_before + 2:
                self.assertLess(time.monotonic(), deadline, 'both runs did not submit')
                self.assertTrue(all(p.poll() is None for p, _ in runs.values()))
                time.sleep(0.1)
        finally:
            mt.emu(self.server.sp, ADMIN, 'DELETE', 'faults')
        for tag, (p, out) in runs.items():
            rc = p.wait(timeout=RUN_TIMEOUT)
            out.seek(0)
            self.assertEqual(rc, 0, out.read().decode(errors='replace')[-3000:])
            with open(os.path.join(self.tmp, 'reports-' + tag, 'summary.json')) as fh:
                s = json.load(fh)
            files = shares[tag][1]
            # Its files and folders (Common, Common/Inner, only-<tag>), all migrated.
            self.assertEqual((s['migrated'], s['failed']), (len(files) + 3, 0), s)
            _, rows = read_csv(os.path.join(self.tmp, 'reports-' + tag, 'ItemReport_R0.csv'))
            self.assertEqual(len(rows), len(files) + 3)
            for r in rows:
                self.assertEqual((r['Status'], r['Error code']), ('Migrated', ''), r)
        # The union, under one Together and one Common.
        dest = root + '/Together'
        for tag, (src, files) in shares.items():
            self.assertMigrated(dest, {rel: d for rel, d in files.items()
                                       if rel != 'Common/same.txt'})
        self.assertIn(self.file_bytes(dest + '/Common/same.txt'),
                      [files['Common/same.txt'] for _, files in shares.values()])

        def names(folder, kind):
            return sorted(f['Name'] for f in self.sp.collection(
                "web/GetFolderByServerRelativeUrl(%s)/%s" % (mt.quote_literal(folder), kind)))
        self.assertEqual([n for n in names(root, 'Folders') if n != 'Forms'], ['Together'])
        self.assertEqual(names(dest, 'Folders'), ['Common', 'only-a', 'only-b'])
        self.assertEqual(names(dest + '/Common', 'Folders'), ['Inner'])
        self.assertEqual(len(names(dest + '/Common', 'Files')), 12 + 12 + 1)
        self.assertEqual(names(dest + '/Common/Inner', 'Files'), ['a-inner.txt', 'b-inner.txt'])
        # Every item once: Together, Common, Inner, only-a, only-b and the files.
        items = self.sp.collection("web/lists/getbytitle('Together')/items", {'$top': '5000'})
        self.assertEqual(len(items), 5 + 2 * (12 + 1 + 1) + 1)

    def test_jobs_and_admin_commands(self):
        src = os.path.join(self.tmp, 'jobs')
        make_share(src, n_files=5, seed=9)
        self.make_library('Jobs')
        self.migrate(src, 'Jobs')
        job = self.items(0)[0]['Migration job ID']
        site = ('--site', self.server.sp, '--token', ADMIN)
        p = self.spmig('jobs', 'status', job, *site)
        self.assertEqual(p.stdout.decode().split()[:2], [job, '0'])
        p = self.spmig('jobs', 'progress', job, *site)
        lines = p.stdout.decode().splitlines()
        self.assertTrue(lines)
        # The progress log holds plain events (the report queue's envelopes: JobEventsTest).
        events = [json.loads(x) for x in lines]
        self.assertTrue(all('Event' in e and 'Label' not in e for e in events), events)
        self.assertEqual(events[0]['Event'], 'JobQueued')
        self.assertEqual(events[-1]['Event'], 'JobEnd')
        self.assertTrue(all(e.get('JobId') == job for e in events))
        # jobs events reads a report queue: it wants one, and a key that is 32 bytes.
        p = self.spmig('jobs', 'events', job, *site, ok=(2,))
        self.assertIn(b'--queue', p.stderr)
        p = self.spmig('jobs', 'events', job, '--queue', self.server.queue, ok=(2,))
        self.assertIn(b'queue SAS URL', p.stderr)
        queue = self.server.queue + '/acct/q?sv=2021-12-02&sig=x'
        for key in ('not base64', 'A' * 42 + '=='):
            p = self.spmig('jobs', 'events', job, '--queue', queue, '--key', key, ok=(2,))
            self.assertIn(b'--key must be the base64 of 32 bytes', p.stderr)
        unknown = '00000000-0000-0000-0000-000000000000'
        p = self.spmig('jobs', 'status', unknown, *site)
        self.assertEqual(p.stdout.decode().split()[1:], ['0', 'None'])
        p = self.spmig('jobs', 'progress', unknown, *site, ok=(2,))
        self.assertIn(b'Job not found', p.stderr)
        p = self.spmig('admin', 'clock', *site)
        self.assertIn('now', json.loads(p.stdout))
        p = self.spmig('admin', 'containers', *site)
        self.assertIsInstance(json.loads(p.stdout), dict)

    def test_bad_usage(self):
        for args, text in ((['migrate'], b'SOURCE'),
                           (['migrate', self.tmp], b'--site'),
                           (['migrate', self.tmp, '--site', self.server.sp], b'token'),
                           (['migrate', self.tmp, '--site', 'ftp://x', '--token', 't'], b'http'),
                           (['migrate', '/no/such/dir', '--site', self.server.sp, '--token',
                             ADMIN], b'No such file'),
                           (['frobnicate'], b'unknown command'),
                           (['migrate', self.tmp, '--parallel', '0'], b'--parallel'),
                           (['jobs', 'status'], b'JOBID')):
            p = self.spmig(*args, ok=(2,), timeout=30)
            self.assertIn(text, p.stderr, args)
        p = self.spmig('migrate', self.tmp, '--site', self.server.sp, '--token', 'wrong',
                       '--state-dir', self.state, ok=(2,), timeout=60)
        self.assertIn(b'401', p.stderr)
        self.assertEqual(self.spmig('--version').stdout.decode().split()[0], 'spmig')
        self.assertIn(b'Usage: spmig', self.spmig('--help').stdout)

def v8_id(seed, name):
    """uuid_v8_name (common/uuid.c), computed independently."""
    import hashlib
    h = bytearray(hashlib.sha256(seed.encode() + b'\0' + name.encode()).digest()[:16])
    h[6] = (h[6] & 0x0f) | 0x80
    h[8] = (h[8] & 0x3f) | 0x80
    x = h.hex()
    return '%s-%s-%s-%s-%s' % (x[:8], x[8:12], x[12:16], x[16:20], x[20:])


class SettingsTest(ClientCase):
    """Migration Manager's task settings through `spmig migrate`: each filter migrates exactly
    what it should (read back through REST), scan only sends nothing, a seeded round gives the
    same ids without its state file, and a paused round resumes where it stopped."""

    JAN_2019 = 1546300800

    def make_filter_share(self):
        src = os.path.join(self.tmp, 'filters')
        files = {'a.txt': b'a', 'b.TMP': b'bb', 'c.tar.gz': b'ccc', 'd.gz.tar': b'dddd',
                 'old.doc': b'old', 'new.doc': b'new', 'q?.doc': b'question',
                 'bad|dir/x.doc': b'in a bad folder', 'sub/y.txt': b'y'}
        for rel, data in files.items():
            os.makedirs(os.path.dirname(os.path.join(src, rel)), exist_ok=True)
            with open(os.path.join(src, rel), 'wb') as fh:
                fh.write(data)
        os.utime(os.path.join(src, 'old.doc'), (self.JAN_2019, self.JAN_2019))
        return src, files

    def present(self, root, rel):
        return self.sp.raw('GET', "web/GetFileByServerRelativeUrl(%s)" %
                           mt.quote_literal(root + '/' + rel))[1].status == 200

    def check_library(self, root, files, expected):
        """expected: {destination rel: source rel}; every other file of files is absent."""
        for dest, rel in expected.items():
            self.assertEqual(self.file_bytes(root + '/' + dest), files[rel], dest)
        for rel in files:
            if rel not in expected.values() and '|' not in rel and '?' not in rel:
                self.assertFalse(self.present(root, rel), rel)

    def run_filter(self, library, *opts, ok=(0,)):
        root = self.make_library(library)
        shutil.rmtree(self.reports, True)
        self.migrate(self.src, library, *opts, ok=ok)
        rows = {os.path.relpath(r['Source'], os.path.realpath(self.src)): r
                for r in self.items(0)}
        return root, rows

    def test_filters(self):
        self.src, files = self.make_filter_share()
        clean = {k: k for k in files if '?' not in k and '|' not in k}

        # Extensions: only the last one counts, any case.
        root, rows = self.run_filter('Ext', '--skip-extensions', 'tmp:GZ', ok=(1,))
        self.check_library(root, files, {k: k for k in clean if k not in ('b.TMP', 'c.tar.gz')})
        self.assertEqual(rows['b.TMP']['Status'], 'Filtered out')
        self.assertEqual(rows['c.tar.gz']['Status'], 'Filtered out')
        self.assertEqual(self.summary()['filtered'], 2)
        _, scan = read_csv(os.path.join(self.reports, 'ScanSummary_R0.csv'))
        self.assertEqual(scan[0]['Items filtered out'], '2')

        # Modified after: old.doc (2019) is filtered out.
        root, rows = self.run_filter('Mod', '--modified-after', '2020-01-01', ok=(1,))
        self.check_library(root, files, {k: k for k in clean if k != 'old.doc'})
        self.assertEqual(rows['old.doc']['Status'], 'Filtered out')

        # Created after a day to come: no file at all, the folders still go.
        root, rows = self.run_filter('Created', '--created-after', '2100-01-01', ok=(1,))
        self.check_library(root, files, {})
        self.assertEqual(rows['sub']['Status'], 'Migrated')
        self.assertEqual(self.summary()['filtered'], len(files))

        # Invalid characters off: filtered out, not failed; the round has no issue.
        root, rows = self.run_filter('NoInvalid', '--skip-invalid-chars')
        self.check_library(root, files, clean)
        self.assertEqual(rows['q?.doc']['Status'], 'Filtered out')
        self.assertEqual(rows['bad|dir']['Status'], 'Filtered out')
        self.assertNotIn('bad|dir/x.doc', rows)
        self.assertEqual(self.summary()['status'], 'Completed')

        # Replaced: the destination names carry the replacement.
        root, rows = self.run_filter('Replaced', '--replace-invalid-chars', '_')
        expected = dict(clean)
        expected.update({'q_.doc': 'q?.doc', 'bad_dir/x.doc': 'bad|dir/x.doc'})
        self.check_library(root, files, expected)
        self.assertTrue(rows['q?.doc']['Destination'].endswith('/q_.doc'))

        # The default: tried and reported as failed, item by item.
        root, rows = self.run_filter('Default', ok=(1,))
        self.check_library(root, files, clean)
        self.assertEqual(rows['q?.doc']['Status'], 'Failed')
        self.assertEqual(rows['bad|dir/x.doc']['Status'], 'Failed')

        # All together (AND-combined), with hidden files left out and permissions recorded.
        with open(os.path.join(self.src, '.hidden.txt'), 'wb') as fh:
            fh.write(b'h')
        root, rows = self.run_filter('Together', '--skip-extensions', 'doc', '--modified-after',
                                     '2020-01-01', '--skip-invalid-chars', '--skip-hidden',
                                     '--preserve-permissions')
        self.check_library(root, files, {k: k for k in clean if not k.endswith('.doc')})
        self.assertFalse(self.present(root, '.hidden.txt'))
        self.assertEqual(rows['old.doc']['Status'], 'Filtered out')
        self.assertTrue(self.summary()['preserve_permissions'])

        self.spmig('migrate', self.src, '--site', self.server.sp, '--token', ADMIN,
                   '--modified-after', '2020-1-1', ok=(2,))
        self.spmig('migrate', self.src, '--site', self.server.sp, '--token', ADMIN,
                   '--replace-invalid-chars', '|', ok=(2,))

    def test_scan_only(self):
        self.src, files = self.make_filter_share()
        root = self.make_library('ScanOnly')
        self.migrate(self.src, 'ScanOnly', '--scan-only', ok=(1,))
        rows = {os.path.relpath(r['Source'], os.path.realpath(self.src)): r
                for r in self.items(0)}
        for rel in files:
            self.assertFalse(self.present(root, rel), rel)
        self.assertEqual(rows['a.txt']['Status'], 'Ready to migrate')
        self.assertEqual(rows['q?.doc']['Status'], 'Failed')
        self.assertTrue(self.summary()['scan_only'])
        self.assertEqual(self.summary()['migrated'], 0)
        _, scan = read_csv(os.path.join(self.reports, 'ScanSummary_R0.csv'))
        self.assertEqual(scan[0]['Items to be migrated'], '7')
        # The migration that follows sends everything (round 1).
        self.migrate(self.src, 'ScanOnly', ok=(1,))
        self.check_library(root, files, {k: k for k in files if '?' not in k and '|' not in k})
        self.assertEqual(self.summary()['round'], 1)

    def test_id_seed_keeps_ids_without_the_state(self):
        src = os.path.join(self.tmp, 'seeded')
        files = make_share(src, n_files=20, seed=5)
        root = self.make_library('Seeded')
        seed = '7b0e1f52-4c7a-4d4e-9d4b-3f7f6c1d2a10'
        self.migrate(src, 'Seeded', '--id-seed', seed)
        ids = {rel: self.file_entity(root + '/' + rel)['UniqueId'] for rel in files}
        for rel, uid in ids.items():
            self.assertEqual(uid.lower(), v8_id(seed + '/file/UniqueId', rel), rel)
        # Another machine, no state file: the same ids, each file once.
        shutil.rmtree(self.state)
        touched = sorted(files)[3]
        with open(os.path.join(src, touched), 'ab') as fh:
            fh.write(b'changed')
        files[touched] += b'changed'
        self.migrate(src, 'Seeded', '--id-seed', seed)
        for rel in files:
            self.assertEqual(self.file_entity(root + '/' + rel)['UniqueId'], ids[rel], rel)
        self.assertMigrated(root, files)
        items = self.sp.collection("web/lists/getbytitle('Seeded')/items", {'$top': '5000'})
        n_dirs = sum(len(dirs) for _, dirs, _ in os.walk(src))
        self.assertEqual(len(items), len(files) + n_dirs)

    def test_pause_and_resume(self):
        # More packages than can be in flight (ROUND_IN_FLIGHT), so the walk is still going.
        src = os.path.join(self.tmp, 'pause')
        files = {}
        for i in range(2600):
            rel = 'f%02d/%04d.txt' % (i % 40, i)
            os.makedirs(os.path.join(src, os.path.dirname(rel)), exist_ok=True)
            files[rel] = b'%d' % i
            with open(os.path.join(src, rel), 'wb') as fh:
                fh.write(files[rel])
        root = self.make_library('Paused')
        e = {k: v for k, v in os.environ.items() if not k.startswith('SPMIG_')}
        args = [spmig_path(), 'migrate', src, '--site', self.server.sp, '--token', ADMIN,
                '--library', 'Paused', '--state-dir', self.state, '--report-dir',
                self.reports, '--parallel', '1']
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e)
        line = p.stderr.readline()
        while line and b'settled' not in line:
            line = p.stderr.readline()
        p.send_signal(signal.SIGUSR1)
        out, err = p.communicate(timeout=RUN_TIMEOUT)
        if p.returncode == 0:
            self.skipTest('the round finished before the pause request')
        self.assertEqual(p.returncode, 3, err)
        self.assertIn(b'paused', err)
        self.assertEqual(self.summary()['status'], 'Paused')
        paused_migrated = self.summary()['migrated']
        self.assertGreater(paused_migrated, 0)
        self.assertLess(paused_migrated, len(files))
        p = subprocess.run(args, capture_output=True, env=e, timeout=RUN_TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b'resuming round 0', p.stderr)
        self.assertEqual(self.summary()['round'], 0)
        self.assertMigrated(root, files)
        migrated = [r['Source'] for r in self.items(0) if r['Status'] == 'Migrated']
        self.assertEqual(len(migrated), len(set(migrated)))


class JobEventsTest(ClientCase):
    """spmig jobs events takes a job's events off its report queue and decrypts them: two
    encrypted jobs of an independent client (migration_tool) share one queue, each with its own
    key, and their sealed events are read back with the right key, the wrong key and none."""

    def submit(self, library, files, queue=None):
        self.make_library(library)
        pkg = mt.Package(mt.fetch_target(self.sp, library))
        for rel, data in files.items():
            pkg.add_file(rel, data)
        m = mt.Migration(self.sp, pkg, queue_uri=queue).provision()
        m.upload().submit()
        return m

    def logged(self, job):
        """The job's plain events, from its progress log (GetMigrationJobProgress)."""
        p = self.spmig('jobs', 'progress', job, '--site', self.server.sp, '--token', ADMIN)
        return [json.loads(x) for x in p.stdout.decode().splitlines()]

    def events(self, job, queue, *key, ok=(0,), want_some=True, env=None):
        """spmig jobs events, run again while the job's messages are still invisible (read by
        the run before, back within a second); (exit status, events printed, stderr)."""
        deadline = time.monotonic() + 15
        while True:
            p = self.spmig('jobs', 'events', job, '--queue', queue, *key, ok=None, env=env)
            idle = p.returncode == 0 and b'no event of job' in p.stderr
            if not (want_some and idle) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertIn(p.returncode, ok, p.stderr)
        return (p.returncode, [json.loads(x) for x in p.stdout.decode().splitlines()],
                p.stderr.decode())

    def test_encrypted_events_from_a_shared_queue(self):
        from azure.storage.queue import QueueClient
        a = self.submit('Events A', {'a1.txt': b'alpha', 'sub-a2.bin': os.urandom(70000)})
        b = self.submit('Events B', {'b1.txt': b'bravo'}, queue=a.queue_uri)
        for m in (a, b):
            self.sp.wait_status(m.job_id, 0)
        logged = {m.job_id: self.logged(m.job_id) for m in (a, b)}
        total = sum(len(v) for v in logged.values())
        self.assertLessEqual(total, 32, 'one peek must see them all')
        q = QueueClient.from_queue_url(a.queue_uri, **mt.SDK_KW)
        deadline = time.monotonic() + 15
        while True:  # JobEnd reaches the queue just after the status says None
            peeked = list(q.peek_messages(max_messages=32))
            if len(peeked) == total or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(len(peeked), total)
        # On the queue every event is sealed: the envelope and nothing else.
        for msg in peeked:
            env = json.loads(base64.b64decode(msg.content))
            self.assertEqual(sorted(env), ['Content', 'IV', 'JobId', 'Label'], env)
            self.assertEqual(env['Label'], 'Encrypted')
            self.assertIn(env['JobId'], logged)
            self.assertEqual(len(base64.b64decode(env['IV'])), 16)
        ka, kb = a.containers['EncryptionKey'], b.containers['EncryptionKey']
        self.assertNotEqual(ka, kb)
        n_a = len(logged[a.job_id])

        # The wrong key (B's) decrypts none of A's events: a clear error, nothing printed,
        # nothing lost.
        rc, out, err = self.events(a.job_id, a.queue_uri, '--key', kb, ok=(1,))
        self.assertEqual((rc, out), (1, []), err)
        self.assertIn('job %s: the key given does not decrypt %d of its events' % (a.job_id, n_a),
                      err)
        # No key at all: the same, saying so.
        rc, out, err = self.events(a.job_id, a.queue_uri, ok=(1,))
        self.assertEqual((rc, out), (1, []), err)
        self.assertIn('job %s: its events are encrypted: give its key with --key (%d left'
                      % (a.job_id, n_a), err)
        # The right key: exactly the events of the progress log, in order, and none of B's.
        rc, out, err = self.events(a.job_id, a.queue_uri, '--key', ka)
        self.assertEqual(out, logged[a.job_id], err)
        self.assertEqual(out[0]['Event'], 'JobQueued')
        self.assertEqual(out[-1]['Event'], 'JobEnd')
        self.assertEqual(out[-1]['FilesCreated'], '2')
        self.assertEqual(out[-1]['TotalErrors'], '0')
        for e in out:
            self.assertEqual(e['JobId'], a.job_id)
            self.assertTrue(all(isinstance(v, str) for v in e.values()), e)
        # B's events were left for their reader, and the key from the environment works.
        rc, out, err = self.events(b.job_id, b.queue_uri, env={'SPMIG_JOB_KEY': kb})
        self.assertEqual(out, logged[b.job_id], err)
        # Read events are taken off the queue.
        self.assertEqual(list(q.peek_messages(max_messages=32)), [])
        rc, out, err = self.events(a.job_id, a.queue_uri, '--key', ka, want_some=False)
        self.assertEqual((rc, out), (0, []))
        self.assertIn('no event of job %s on the queue' % a.job_id, err)


class ResumeTest(unittest.TestCase):
    """The server killed in the middle of a run: spmig stops with exit 2 and the next run
    resumes the round and completes it."""

    def test_kill_and_resume(self):
        server = Server(('--admin-token', ADMIN))
        self.addCleanup(server.cleanup)
        tmp = tempfile.mkdtemp(prefix='spmig-e2e-')
        self.addCleanup(shutil.rmtree, tmp, True)
        src = os.path.join(tmp, 'share')
        files = make_share(src, n_files=1500, seed=11)
        state, reports = os.path.join(tmp, 'state'), os.path.join(tmp, 'reports')
        env = {k: v for k, v in os.environ.items() if not k.startswith('SPMIG_')}
        env['SPMIG_TOKEN'] = ADMIN

        def run(sp_url):
            return subprocess.Popen(
                [spmig_path(), 'migrate', src, '--site', sp_url, '--state-dir', state,
                 '--report-dir', reports, '--retries', '2'],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)

        p = run(server.sp)
        # Kill the server once some packages have settled.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = p.stderr.readline()
            if b'settled' in line or not line:
                break
        server.kill9()
        out, err = p.communicate(timeout=RUN_TIMEOUT)
        self.assertEqual(p.returncode, 2, err)
        self.assertIn(b'run again to resume', err)

        server.start()  # same data dir, new ports
        p = run(server.sp)
        out, err = p.communicate(timeout=RUN_TIMEOUT)
        self.assertEqual(p.returncode, 0, err)
        self.assertIn(b'resuming round 0', err)
        with open(os.path.join(reports, 'summary.json')) as fh:
            s = json.load(fh)
        self.assertEqual(s['round'], 0)
        self.assertEqual(s['failed'], 0)
        sp = mt.SharePoint(server.sp, ADMIN, accept=mt.NOMETADATA)
        for rel, data in files.items():
            got = sp.value("web/GetFileByServerRelativeUrl(%s)/$value"
                           % mt.quote_literal('/Shared Documents/' + rel))
            self.assertEqual(got, data, rel)
        # Every item has exactly one Migrated row in the round's report.
        _, rows = read_csv(os.path.join(reports, 'ItemReport_R0.csv'))
        migrated = [r['Source'] for r in rows if r['Status'] == 'Migrated']
        self.assertEqual(len(migrated), len(set(migrated)))
        self.assertEqual(s['migrated'], len(set(migrated)))
        server.stop()


if __name__ == '__main__':
    unittest.main()
