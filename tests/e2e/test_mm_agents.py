"""
test_mm_agents.py: Migration Manager end to end: the real spmigd and several real `spmig agent`
processes on generated shares, driven only through /api/mm/, /_emu/ and SharePoint REST.

Agent states (Enabled, InUse with every slot busy, Disabled by PATCH, Disconnected when killed);
a bulk CSV of 200 tasks over two agents in two groups, every file read back; pause, resume and
an incremental round; a scan-only task; every filter setting; a task scheduled on the emulator
clock; reports (list, one CSV, the zip, summary.csv, gone with the task); an agent killed
mid-task (the task finishes on the other agent, each file once with its ids); spmigd killed
mid-task and restarted on its data and ports; the 7-day trust expiry.

The import timer job is held with the ImportJob fault (/_emu/faults) where a test needs a task
to stay mid-way: an agent keeps at most 8 packages in flight, so a share of a few thousand
files stops it there. The binaries come from $SPMIG and $SPMIGD. Run with /usr/bin/python3.
"""
import csv
import io
import os
import random
import shutil
import signal
import tempfile
import time
import unittest
import urllib.parse
import zipfile

import migration_tool as mt
from harness import ServerTestCase
from test_agent import Agent, make_share, wait_for
from test_mm import MmClient

ADMIN = 'mme2e-admin'
FINISHED = ('Completed', 'CompletedWithIssues', 'Failed', 'Cancelled')
HOLD = {'status': 503, 'operation': 'ImportJob'}


def write_files(root, files):
    for rel, data in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as fh:
            fh.write(data)


def csv_rows(data):
    return list(csv.DictReader(io.StringIO(data.decode('utf-8-sig'))))


class AgentsCase(ServerTestCase):
    """One spmigd per class (flags in server_args); agents per test, killed at its end."""
    server_args = ('--admin-token', ADMIN)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='spmig-mme2e-')
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.sp = mt.SharePoint(self.server.sp, ADMIN, accept=mt.NOMETADATA)
        self.agents = []
        self.addCleanup(self.emu, 'DELETE', 'faults')

    # -- calls --------------------------------------------------------------------------------

    def call(self, method, path, body=None, raw=None, ctype=None, ok=(200, 201, 204)):
        """An admin call on /api/mm/; the answer (JSON decoded when it is JSON) or a failure
        unless its status is in ok (ok=None: any status, returns (status, answer))."""
        r = MmClient(self.server).call(method, '/api/mm/' + path, body, token=ADMIN, ctype=ctype,
                                       raw=raw)
        out = r.json if r.json is not None else r.body
        if ok is None:
            return r.status, out
        self.assertIn(r.status, ok, '%s %s: %r' % (method, path, r.body[:500]))
        return out

    def emu(self, method, path, body=None):
        return mt.emu(self.server.sp, ADMIN, method, path, body)

    def task(self, tid):
        return self.call('GET', 'tasks/' + tid)

    def agent(self, name):
        for a in self.call('GET', 'agents?top=1000')['value']:
            if a['name'] == name:
                return a
        return None

    def create_task(self, source, library, folder='', **kw):
        body = {'name': kw.pop('name', os.path.basename(source)), 'source': source,
                'destination': {'site': '/', 'library': library, 'folder': folder}}
        body.update(kw)
        t = self.call('POST', 'tasks', body, ok=(201,))
        return t['id']

    def logs(self):
        return '\n'.join('--- %s\n%s' % (a.name, a.text()[-4000:]) for a in self.agents)

    def wait_status(self, tid, statuses, timeout=120):
        def check():
            t = self.task(tid)
            return t if t['status'] in statuses else None
        return wait_for(check, timeout, lambda: 'task %s to be %s (it is %s)\n%s' % (
            tid, '/'.join(statuses), self.task(tid)['status'], self.logs()))

    def wait_done(self, tid, timeout=120):
        return self.wait_status(tid, FINISHED, timeout)

    def wait_agent(self, name, state, timeout=60):
        return wait_for(lambda: (self.agent(name) or {}).get('state') == state and
                        self.agent(name), timeout,
                        lambda: 'agent %s to be %s: %r' % (name, state, self.agent(name)))

    def start_agent(self, name, shares, max_tasks=2, token=ADMIN, group=None):
        extra = ['--token', token] if token else []
        if group:
            extra += ['--group', group]
        a = Agent(self.server.sp, name, shares, os.path.join(self.tmp, 'work-' + name), None,
                  max_tasks, extra)
        a.name = name
        self.agents.append(a)
        self.addCleanup(a.stop, signal.SIGKILL)
        return a

    def hold_imports(self):
        self.emu('POST', 'faults', HOLD)

    def release_imports(self):
        self.emu('DELETE', 'faults')

    # -- the library --------------------------------------------------------------------------

    def make_library(self, title):
        self.sp.call('POST', 'web/lists', {'Title': title, 'BaseTemplate': 101})
        lst = self.sp.entity('web/lists/getbytitle(%s)' % mt.quote_literal(title),
                             {'$expand': 'RootFolder'})
        return lst['RootFolder']['ServerRelativeUrl']

    def items(self, title):
        """{server-relative URL: UniqueId} of every item (files and folders) of a library."""
        got = self.sp.collection('web/lists/getbytitle(%s)/items' % mt.quote_literal(title),
                                 {'$select': 'FileRef,UniqueId', '$top': '5000'})
        out = {}
        for i in got:
            self.assertNotIn(i['FileRef'], out, 'an item twice')
            out[i['FileRef']] = i['UniqueId'].lower()
        return out

    def file_bytes(self, url):
        return self.sp.value('web/GetFileByServerRelativeUrl(%s)/$value' % mt.quote_literal(url))

    def file_id(self, url):
        return self.sp.entity('web/GetFileByServerRelativeUrl(%s)' % mt.quote_literal(url),
                              {'$select': 'UniqueId'})['UniqueId'].lower()

    def present(self, url):
        return self.sp.raw('GET', 'web/GetFileByServerRelativeUrl(%s)'
                           % mt.quote_literal(url))[1].status == 200

    def folder_files(self, url):
        """{name: size} of the files right in a folder."""
        got = self.sp.collection('web/GetFolderByServerRelativeUrl(%s)/Files'
                                 % mt.quote_literal(url))
        return {f['Name']: int(f['Length']) for f in got}

    def assertFiles(self, root, files, every=1):
        """Each file of {rel: bytes} is under root with its bytes (every n-th one read back),
        and each folder holds exactly the files expected there."""
        folders = {}
        for rel, data in files.items():
            d, _, name = rel.rpartition('/')
            folders.setdefault(d, {})[name] = len(data)
        for d, want in folders.items():
            self.assertEqual(self.folder_files(root + ('/' + d if d else '')), want, d)
        for k, rel in enumerate(sorted(files)):
            if k % every == 0:
                self.assertEqual(self.file_bytes(root + '/' + rel), files[rel], rel)

    def settled(self, fn, timeout=30):
        """fn() once two calls a second apart agree (a job the timer job took goes on)."""
        last = fn()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(1)
            now = fn()
            if now == last:
                return now
            last = now
        raise AssertionError('still changing after %d s' % timeout)

    def report(self, tid, name):
        return self.call('GET', 'tasks/%s/reports/%s' % (tid, name))


# -- agents, their states, and an agent lost mid-task ---------------------------------------------

class StatesAndLostAgentTest(AgentsCase):
    server_args = AgentsCase.server_args + ('--agent-timeout', '3', '--agent-grace', '2',
                                            '--import-workers', '1')

    def test_states_and_a_killed_agent(self):
        src = os.path.join(self.tmp, 'share')
        files = make_share(src, 2400, seed=41)
        root = self.make_library('Lost')
        a1 = self.start_agent('pc-1', [self.tmp], max_tasks=1)
        a2 = self.start_agent('pc-2', [self.tmp], max_tasks=1)
        for name in ('pc-1', 'pc-2'):
            ag = self.wait_agent(name, 'Enabled')
            self.assertEqual(ag['group'], 'Default')
            self.assertEqual(ag['maxTasks'], 1)
            self.assertEqual(ag['runningTasks'], [])
            self.assertEqual([(s['path'], s['readable']) for s in ag['shares']],
                             [(self.tmp, True)])
        # Disabled by an admin: it takes nothing, so pc-1 gets the task.
        id2 = self.agent('pc-2')['id']
        self.assertEqual(self.call('PATCH', 'agents/' + id2, {'enabled': False})['state'],
                         'Disabled')
        self.hold_imports()
        tid = self.create_task(src, 'Lost')
        # The walk goes on until 8 packages wait for the held timer job (Scanning until the
        # walk is over).
        t = wait_for(lambda: self.task(tid)['progress']['filesScanned'] > 1000 and
                     self.task(tid), what=lambda: 'the packages in flight: %r' % self.task(tid))
        self.assertEqual((t['status'], t['agent']['name']), ('Scanning', 'pc-1'))
        ag = self.wait_agent('pc-1', 'InUse')
        self.assertEqual(ag['runningTasks'], [tid])
        self.assertEqual(self.agent('pc-2')['state'], 'Disabled')
        # Let the timer job take a package or two, then hold it again: some files are in.
        def imported():
            return {u: i for u, i in self.items('Lost').items() if u[len(root) + 1:] in files}
        self.release_imports()
        wait_for(imported, 60, 'a first import')
        self.hold_imports()
        before = self.settled(imported)
        self.assertGreater(len(before), 0)
        self.assertLess(len(before), len(files))
        self.assertNotEqual(self.task(tid)['status'], 'Completed')
        # pc-1 dies mid-task: Disconnected, then its task goes back to the queue after the grace
        # and finishes on pc-2, enabled again.
        a1.stop(signal.SIGKILL)
        self.wait_agent('pc-1', 'Disconnected', 20)
        self.call('PATCH', 'agents/' + id2, {'enabled': True})
        t = wait_for(lambda: (self.task(tid).get('agent') or {}).get('name') == 'pc-2' and
                     self.task(tid), 30, lambda: 'the task on pc-2: %r' % self.task(tid))
        self.assertEqual(t['round'], 0)
        self.release_imports()
        t = self.wait_done(tid)
        self.assertEqual(t['status'], 'Completed', self.logs())
        self.assertEqual(t['progress']['filesMigrated'], len(files))
        self.assertIn('task %s: round 0 Completed' % tid, a2.text())
        self.assertNotIn('round 0 Completed', a1.text())
        # Each file once, with the ids it had before the kill.
        after = self.items('Lost')
        self.assertEqual(len([u for u in after if u[len(root) + 1:] in files]), len(files))
        for url, uid in before.items():
            self.assertEqual(after[url], uid, url)
        self.assertFiles(root, files, every=7)
        reports = {r['name'] for r in self.call('GET', 'tasks/%s/reports' % tid)['value']}
        self.assertIn('ItemReport_R0.csv', reports)
        self.assertEqual(self.wait_agent('pc-2', 'Enabled')['runningTasks'], [])
        self.assertEqual(a2.stop(), 0)



# -- a bulk CSV over two agents in two groups ------------------------------------------------------

class BulkTest(AgentsCase):
    N = 200

    def test_bulk_csv_over_two_groups(self):
        share = os.path.join(self.tmp, 'bulk')
        rnd = random.Random(12)
        files = []
        for i in range(self.N):
            f = {'a%03d.txt' % i: rnd.randbytes(rnd.randrange(1, 300))}
            if i % 3 == 0:
                f['sub/b.bin'] = rnd.randbytes(rnd.randrange(0, 2000))
            write_files(os.path.join(share, 't%03d' % i), f)
            files.append(f)
        self.call('POST', 'groups', {'name': 'east'}, ok=(201,))
        roots = {'east': self.make_library('BulkEast'), 'Default': self.make_library('BulkWest')}
        self.start_agent('bulk-east', [share], max_tasks=4, group='east')
        self.start_agent('bulk-west', [share], max_tasks=4)
        self.assertEqual(self.wait_agent('bulk-east', 'Enabled')['group'], 'east')
        self.assertEqual(self.wait_agent('bulk-west', 'Enabled')['group'], 'Default')
        groups = {g['name']: g['agents'] for g in self.call('GET', 'groups')['value']}
        self.assertEqual(groups, {'Default': 1, 'east': 1})

        # Migration Manager's CSV: A source, B and C empty, D site, E library, F folder. The
        # first half goes to east (the agent group comes from the settings), the rest to
        # Default; a header, CRLF and a BOM on the first file.
        def bulk(indexes, library, header):
            lines = ['FileSharePath,,,SharePointSite,DocLibrary,DocSubFolder'] if header else []
            lines += ['"%s",,,%s/,%s,t%03d' % (os.path.join(share, 't%03d' % i), self.server.sp,
                                               library, i) for i in indexes]
            body = ('\ufeff' if header else '') + '\r\n'.join(lines) + '\r\n'
            return self.call('POST', 'tasks/bulk', raw=body.encode(), ctype='text/csv',
                             ok=(201,))
        half = self.N // 2
        self.call('PUT', 'settings', {'group': 'east'})
        made = bulk(range(half), 'BulkEast', True)
        self.assertEqual(made['count'], half)
        self.call('PUT', 'settings', {})
        made = bulk(range(half, self.N), 'BulkWest', False)
        self.assertEqual(made['count'], self.N - half)
        tasks = self.all_tasks()
        self.assertEqual(len(tasks), self.N)
        by_source = {t['source']: t for t in tasks}

        def finished():
            done = [t for t in self.all_tasks() if t['status'] in FINISHED]
            return len(done) == self.N and done
        done = wait_for(finished, 180, lambda: 'all tasks: %r\n%s' % (
            {s: len([t for t in self.all_tasks() if t['status'] == s]) for s in
             ('Queued', 'Scanning', 'InProgress', 'Completed', 'Failed')}, self.logs()))
        self.assertEqual({t['status'] for t in done}, {'Completed'})
        # Each task ran on the agent of its group: the aggregate report says which.
        rows = csv_rows(self.call('GET', 'summary.csv'))
        self.assertEqual(len(rows), self.N)
        for row in rows:
            i = int(row['Source'][-3:])
            group = 'east' if i < half else 'Default'
            self.assertEqual(by_source[row['Source']]['id'], row['TaskID'])
            self.assertEqual((row['Status'], row['Agent group'], row['Agent']),
                             ('Completed', group, 'bulk-east' if i < half else 'bulk-west'),
                             row)
            self.assertEqual(int(row['Migrated items']), len(files[i]), row)
        # Every folder holds its task's files, every file read back.
        for i in range(self.N):
            root = roots['east' if i < half else 'Default']
            self.assertFiles('%s/t%03d' % (root, i), files[i])
        # And nothing else, nothing twice.
        for group, title in (('east', 'BulkEast'), ('Default', 'BulkWest')):
            expected = set()
            for i in (range(half) if group == 'east' else range(half, self.N)):
                folder = '%s/t%03d' % (roots[group], i)
                expected.add(folder)
                for rel in files[i]:
                    expected.add(folder + '/' + rel)
                    if '/' in rel:
                        expected.add(folder + '/' + rel.rpartition('/')[0])
            self.assertEqual(set(self.items(title)), expected, title)

    def all_tasks(self):
        out, link = [], 'tasks?top=1000'
        while link:
            page = self.call('GET', link)
            out += page['value']
            link = page.get('nextLink')
            if link:
                link = link.split('/api/mm/', 1)[1]
        return out


# -- pause, resume and an incremental round --------------------------------------------------------

class PauseRerunTest(AgentsCase):

    def test_pause_resume_and_rerun(self):
        src = os.path.join(self.tmp, 'big')
        files = make_share(src, 3000, seed=51)
        root = self.make_library('Big')
        self.start_agent('pauser', [src], max_tasks=2)
        self.wait_agent('pauser', 'Enabled')
        self.hold_imports()
        tid = self.create_task(src, 'Big')
        wait_for(lambda: self.task(tid)['progress']['filesScanned'] > 1000,
                 what=lambda: 'packages in flight: %r' % self.task(tid))
        self.call('POST', 'tasks/%s/pause' % tid)
        self.release_imports()
        t = self.wait_status(tid, ('Paused',) + FINISHED)
        self.assertEqual(t['status'], 'Paused', self.logs())
        # A paused task keeps its agent's slot.
        self.assertEqual(self.agent('pauser')['runningTasks'], [tid])
        present = [u for u in self.items('Big') if u[len(root) + 1:] in files]
        self.assertGreater(len(present), 0)
        self.assertLess(len(present), len(files))

        # Run resumes it: the same round, every file once in the end.
        self.assertEqual(self.call('POST', 'tasks/%s/run' % tid)['round'], 0)
        t = self.wait_done(tid)
        self.assertEqual((t['status'], t['round']), ('Completed', 0), self.logs())
        ids = self.items('Big')
        self.assertEqual(len([u for u in ids if u[len(root) + 1:] in files]), len(files))
        self.assertFiles(root, files, every=11)

        # Run again: round 1 sends only the changed and the new file, with the ids they had.
        changed, new = sorted(files)[5], 'd1/new file.txt'
        files[changed] = b'changed in round 1'
        files[new] = b'new in round 1'
        write_files(src, {changed: files[changed], new: files[new]})
        later = time.time() + 5
        os.utime(os.path.join(src, changed), (later, later))
        t = self.call('POST', 'tasks/%s/run' % tid)
        self.assertEqual(t['round'], 1)
        self.assertIn(t['status'], ('Queued', 'Scanning'))
        t = self.wait_done(tid)
        self.assertEqual((t['status'], t['round']), ('Completed', 1), self.logs())
        names = {r['name']: r['round'] for r in self.call('GET', 'tasks/%s/reports' % tid)['value']}
        for name in ('ItemReport', 'ScanSummary', 'SummaryReport'):
            self.assertEqual(names.get('%s_R0.csv' % name), 0, names)
            self.assertEqual(names.get('%s_R1.csv' % name), 1, names)
        rows = csv_rows(self.report(tid, 'ItemReport_R1.csv'))
        sent = {r['Source'][len(os.path.realpath(src)) + 1:] for r in rows
                if r['Status'] == 'Migrated' and r['Content type'] == 'File'}
        self.assertEqual(sent, {changed, new})
        self.assertEqual({r['Incremental round'] for r in rows}, {'1'})
        self.assertEqual(self.file_bytes(root + '/' + changed), files[changed])
        self.assertEqual(self.file_bytes(root + '/' + new), files[new])
        after = self.items('Big')
        for url, uid in ids.items():
            self.assertEqual(after[url], uid, url)
        self.assertEqual(len([u for u in after if u[len(root) + 1:] in files]), len(files))


# -- settings: every filter, scan only; the reports --------------------------------------------------

JAN_2019 = 1546300800


class SettingsReportsTest(AgentsCase):

    def make_filter_share(self):
        src = os.path.join(self.tmp, 'filters')
        files = {'a.txt': b'a', 'b.TMP': b'bb', 'c.tar.gz': b'ccc', 'd.gz.tar': b'dddd',
                 'old.doc': b'old', 'new.doc': b'new', 'q?.doc': b'question',
                 'bad|dir/x.doc': b'in a bad folder', 'sub/y.txt': b'y', '.hidden.txt': b'h',
                 'sub/.hid/z.txt': b'z'}
        write_files(src, files)
        os.utime(os.path.join(src, 'old.doc'), (JAN_2019, JAN_2019))
        return src, files

    def test_every_filter_scan_only_and_reports(self):
        src, files = self.make_filter_share()
        self.start_agent('filters', [src], max_tasks=4)
        self.wait_agent('filters', 'Enabled')
        invalid = ('q?.doc', 'bad|dir/x.doc')
        hidden = ('.hidden.txt', 'sub/.hid/z.txt')
        clean = [k for k in files if k not in invalid]
        cases = {
            # library: (settings, status, {destination: source} expected in the library)
            'Default': ({}, 'CompletedWithIssues', clean),
            'Ext': ({'skipExtensions': 'tmp:GZ'}, 'CompletedWithIssues',
                    [k for k in clean if k not in ('b.TMP', 'c.tar.gz')]),
            'Created': ({'createdAfter': '2100-01-01'}, 'CompletedWithIssues', []),
            'Modified': ({'modifiedAfter': '2020-01-01'}, 'CompletedWithIssues',
                         [k for k in clean if k != 'old.doc']),
            'Hidden': ({'migrateHiddenFiles': False}, 'CompletedWithIssues',
                       [k for k in clean if k not in hidden]),
            'NoInvalid': ({'migrateInvalidCharacters': False}, 'Completed', clean),
            'Replaced': ({'replaceInvalidCharactersWith': '_'}, 'Completed',
                         clean + ['q_.doc', 'bad_dir/x.doc']),
            'ScanOnly': ({'scanOnly': True}, None, []),
        }
        roots, ids = {}, {}
        for lib, (settings, _, _) in cases.items():
            roots[lib] = self.make_library(lib)
            ids[lib] = self.create_task(src, lib, name='filter ' + lib, settings=settings)
        dest_to_src = {'q_.doc': 'q?.doc', 'bad_dir/x.doc': 'bad|dir/x.doc'}
        for lib, (settings, status, expected) in cases.items():
            t = self.wait_done(ids[lib])
            for k, v in settings.items():
                got = t['settings'][k]
                self.assertEqual(got if k != 'skipExtensions' else ':'.join(got), v, lib)
            if status:
                self.assertEqual(t['status'], status, (lib, t, self.logs()))
            else:
                self.assertIn(t['status'], ('Completed', 'CompletedWithIssues'), t)
            for dest in expected:
                self.assertEqual(self.file_bytes(roots[lib] + '/' + dest),
                                 files[dest_to_src.get(dest, dest)], (lib, dest))
            for rel in files:
                if rel not in expected and rel not in invalid:
                    self.assertFalse(self.present(roots[lib] + '/' + rel), (lib, rel))
            n_files = len([u for u in self.items(lib)
                           if u[len(roots[lib]) + 1:] in files or
                           u[len(roots[lib]) + 1:] in dest_to_src])
            self.assertEqual(n_files, len(expected), lib)

        # Scan only: nothing went, the scan's reports are there.
        scan = ids['ScanOnly']
        names = {r['name'] for r in self.call('GET', 'tasks/%s/reports' % scan)['value']}
        self.assertIn('ScanSummary_R0.csv', names)
        summary = csv_rows(self.report(scan, 'ScanSummary_R0.csv'))
        self.assertEqual(summary[0]['Total scanned files'], str(len(files)))
        self.assertEqual(summary[0]['Items to be migrated'], str(len(clean)))
        rows = csv_rows(self.report(scan, 'ItemReport_R0.csv'))
        self.assertEqual({r['Status'] for r in rows if r['Item name'] == 'a.txt'},
                         {'Ready to migrate'})

        # A scan as the Scans view makes it: a source and no destination at all.
        made = self.call('POST', 'scans', {'sources': [src]}, ok=(201,))
        sid = made['value'][0]['id']
        t = self.wait_done(sid)
        self.assertIn(t['status'], ('Completed', 'CompletedWithIssues'), (t, self.logs()))
        summary = csv_rows(self.report(sid, 'ScanSummary_R0.csv'))
        self.assertEqual(summary[0]['Total scanned files'], str(len(files)))
        self.assertEqual(summary[0]['Items to be migrated'], str(len(clean)))

        # Reports of a task: listed with their rounds and sizes, one downloaded, all zipped.
        tid = ids['Default']
        listed = self.call('GET', 'tasks/%s/reports' % tid)['value']
        names = {r['name']: r for r in listed}
        self.assertTrue({'ItemReport_R0.csv', 'ItemFailureReport_R0.csv', 'ScanSummary_R0.csv',
                         'SummaryReport_R0.csv', 'summary_R0.json'} <= set(names), names)
        self.assertEqual({r['round'] for r in listed}, {0})
        rows = csv_rows(self.report(tid, 'ItemFailureReport_R0.csv'))
        failed = {r['Source'][len(os.path.realpath(src)) + 1:] for r in rows}
        self.assertEqual(failed, set(invalid) | {'bad|dir'})
        self.assertEqual({r['Task ID'] for r in rows}, {tid})
        items = self.report(tid, 'ItemReport_R0.csv')
        self.assertEqual(len(items), names['ItemReport_R0.csv']['size'])
        z = zipfile.ZipFile(io.BytesIO(self.call('GET', 'tasks/%s/reports.zip' % tid)))
        self.assertIsNone(z.testzip())
        self.assertEqual(set(z.namelist()), set(names))
        self.assertEqual(z.read('ItemReport_R0.csv'), items)
        for n in names:
            self.assertEqual(z.getinfo(n).file_size, names[n]['size'], n)
        # The aggregate over two tasks.
        rows = csv_rows(self.call('GET', 'summary.csv?ids=%s,%s' % (tid, ids['NoInvalid'])))
        self.assertEqual({r['TaskID']: (r['Status'], r['Agent'], r['Agent group']) for r in rows},
                         {tid: ('CompletedWithIssues', 'filters', 'Default'),
                          ids['NoInvalid']: ('Completed', 'filters', 'Default')})
        by_id = {r['TaskID']: r for r in rows}
        self.assertEqual(int(by_id[tid]['Migrated items']), len(clean))
        # The counts are of files (the failed folder is only in the item reports).
        self.assertEqual(int(by_id[tid]['Items not migrated']), len(invalid))
        self.assertEqual(int(by_id[tid]['Total scanned items']), len(files))
        self.assertEqual(int(by_id[ids['NoInvalid']]['Migrated items']), len(clean))
        # Deleted: the task and its reports are gone.
        self.call('DELETE', 'tasks/' + tid, ok=(204,))
        for path in ('tasks/' + tid, 'tasks/%s/reports' % tid, 'tasks/%s/reports.zip' % tid,
                     'tasks/%s/reports/ItemReport_R0.csv' % tid):
            self.assertEqual(self.call('GET', path, ok=None)[0], 404, path)
        rows = csv_rows(self.call('GET', 'summary.csv'))
        self.assertNotIn(tid, {r['TaskID'] for r in rows})
        self.assertIn(ids['NoInvalid'], {r['TaskID'] for r in rows})


# -- the emulator clock: a scheduled task, the trust's expiry ----------------------------------------

class ClockTest(AgentsCase):
    server_args = AgentsCase.server_args + ('--agent-timeout', '4', '--agent-grace', '60')

    def test_schedule_and_trust_expiry(self):
        src = os.path.join(self.tmp, 'sched')
        files = make_share(src, 30, seed=61)
        root = self.make_library('Sched')
        a = self.start_agent('clocked', [src], max_tasks=2)
        self.wait_agent('clocked', 'Enabled')
        now = self.emu('GET', 'clock')['nowMs'] / 1000
        at = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(now + 3600))
        tid = self.create_task(src, 'Sched', schedule=at)
        self.assertEqual(self.task(tid)['status'], 'Scheduled')
        time.sleep(3)  # a few heartbeats: nothing starts before its time
        self.assertEqual(self.task(tid)['status'], 'Scheduled')
        self.assertEqual(self.agent('clocked')['runningTasks'], [])
        self.emu('POST', 'clock', {'advance': 'PT2H'})
        t = self.wait_done(tid, 60)
        self.assertEqual(t['status'], 'Completed', self.logs())
        self.assertFiles(root, files)

        # Started again with its stored credential only: it works until the clock moves
        # past the 7 days, then it is refused and stops with the reason.
        self.assertEqual(a.stop(), 0)
        a = self.start_agent('clocked', [src], max_tasks=2, token=None)
        wait_for(lambda: 'credential from' in a.text() and 'ready' in a.text(),
                 what=lambda: 'the agent on its credential: ' + a.text())
        before = self.agent('clocked')['lastActivity']
        wait_for(lambda: self.agent('clocked')['lastActivity'] != before,
                 what='a heartbeat on the stored credential')
        self.assertEqual(self.agent('clocked')['state'], 'Enabled')
        self.emu('POST', 'clock', {'advance': 'P8D'})
        self.assertEqual(a.proc.wait(30), 2, a.text())
        a.reader.join(5)
        self.assertIn("The agent's trust has expired; register the agent again", a.text())
        self.assertIn("the agent's trust is gone; register it again", a.text())
        self.wait_agent('clocked', 'Disconnected', 20)


# -- spmigd killed mid-task and started again -----------------------------------------------------

class ServerRestartTest(AgentsCase):

    def test_server_killed_mid_task(self):
        # The same ports after the restart, as a real service keeps its address.
        ports = [urllib.parse.urlsplit(u).port for u in
                 (self.server.sp, self.server.blob, self.server.queue)]
        self.server.stop()
        self.server.extra_args += ['--sp-port', str(ports[0]), '--blob-port', str(ports[1]),
                                   '--queue-port', str(ports[2])]
        self.server.start()
        src = os.path.join(self.tmp, 'share')
        files = make_share(src, 2400, seed=71)
        root = self.make_library('Crash')
        a = self.start_agent('survivor', [src], max_tasks=2)
        self.wait_agent('survivor', 'Enabled')
        self.hold_imports()
        tid = self.create_task(src, 'Crash')
        # Killed once jobs wait for the held timer job: their keys die with the server.
        wait_for(lambda: self.task(tid)['progress']['filesScanned'] > 1000 and
                 self.emu('GET', 'jobs?top=1')['value'],
                 what=lambda: 'packages in flight: %r' % self.task(tid))
        self.assertEqual(self.server.kill9(), -signal.SIGKILL)
        wait_for(lambda: 'again in' in a.text(), 30, 'the agent to notice')
        self.server.start()
        self.release_imports()
        t = self.wait_done(tid, 180)
        self.assertEqual(t['status'], 'Completed', self.logs())
        self.assertEqual(t['round'], 0)
        # The jobs queued before the crash lost their keys: the agent submitted them again.
        self.assertIn('lost its key on the server; submitted again', a.text())
        urls = self.items('Crash')
        self.assertEqual(len([u for u in urls if u[len(root) + 1:] in files]), len(files))
        self.assertFiles(root, files, every=5)
        self.assertEqual(self.wait_agent('survivor', 'Enabled')['runningTasks'], [])
        self.assertNotIn('registered as survivor (agent', a.text().split('ready')[-1])
        self.assertEqual(a.stop(), 0)


if __name__ == '__main__':
    unittest.main()
