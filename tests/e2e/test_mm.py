"""End-to-end checks of Migration Manager's server side (/api/mm/) over raw HTTP against the
real spmigd: the trust (register, forged, revoked and expired credentials), the heartbeat long
poll and its orders, progress, reports (list, download, zip), the end of a round, admin
actions (pause, run, cancel, delete), lost agents, bulk CSV, and a restart that keeps it all.
The agent side is played by this file; `spmig agent` gets its own tests."""
import io
import json
import threading
import time
import unittest
import zipfile

import migration_tool as mt
from harness import ServerTestCase

TOKEN = 'mm-admin'
SHARE = '\\\\srv\\share'


class MmClient:
    """Raw calls on one server with an admin token or an agent credential."""

    def __init__(self, server):
        self.server = server

    def call(self, method, path, body=None, token=TOKEN, ctype=None, raw=None, timeout=60):
        h = {}
        if token:
            h['Authorization'] = 'Bearer ' + token
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h['Content-Type'] = 'application/json'
        if ctype:
            h['Content-Type'] = ctype
        r = mt.http_call(method, self.server.sp + path, data, h, timeout=timeout)
        try:
            r.json = json.loads(r.body) if r.body and r.body[:1] in b'{[' else None
        except ValueError:
            r.json = None
        return r

    def register(self, name, shares=(SHARE,), max_tasks=2, group=None):
        body = {'name': name, 'friendlyName': name.upper(), 'host': 'h-' + name,
                'version': '0.1', 'maxTasks': max_tasks,
                'shares': [{'path': s, 'readable': True, 'error': None} for s in shares]}
        if group:
            body['group'] = group
        return self.call('POST', '/api/mm/agents/register', body)

    def task(self, source, name=None, **kw):
        body = {'name': name or source, 'source': source,
                'destination': {'site': '/sites/mm', 'library': 'Documents', 'folder': 'in'}}
        body.update(kw)
        return self.call('POST', '/api/mm/tasks', body)

    def beat(self, cred, wait=0, running=(), free=2):
        return self.call('POST', '/api/mm/agent/heartbeat?wait=%d' % wait,
                         {'version': '0.1', 'running': [{'taskId': t, 'state': 'InProgress'}
                                                          for t in running], 'free': free},
                         token=cred)


class MmBase(ServerTestCase):
    server_args = ('--admin-token', TOKEN, '--agent-timeout', '3', '--agent-grace', '2')

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        mt.emu(cls.server.sp, TOKEN, 'POST', 'sites', {'url': '/sites/mm', 'title': 'MM'})

    def setUp(self):
        self.mm = MmClient(self.server)

    def assertSpError(self, r, status):
        self.assertEqual(r.status, status, r.body)
        err = json.loads(r.body)['error']
        self.assertTrue(err['message']['value'])
        return err

    def runs(self, r):
        self.assertEqual(r.status, 200, r.body)
        return [o['task'] for o in r.json['orders'] if o['order'] == 'run']


class AgentProtocolTests(MmBase):
    def test_trust(self):
        r = self.mm.call('POST', '/api/mm/agents/register',
                         {'name': 'nope', 'shares': [{'path': SHARE, 'readable': False,
                                                      'error': 'Access is denied'}]})
        self.assertSpError(r, 400)
        r = self.mm.register('trust1')
        self.assertEqual(r.status, 201, r.body)
        cred = r.json['credential']
        self.assertRegex(cred, r'^mma1\.[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$')
        self.assertEqual(r.json['agent']['state'], 'Enabled')
        # A live agent's name cannot be taken.
        self.assertSpError(self.mm.register('trust1'), 409)
        # Forged: right shape, wrong secret; and garbage.
        forged = cred[:-4] + ('AAAA' if not cred.endswith('AAAA') else 'BBBB')
        self.assertSpError(self.mm.beat(forged), 401)
        self.assertSpError(self.mm.beat('mma1.nonsense'), 401)
        # An agent credential is no admin token, and an admin token is no agent credential.
        self.assertSpError(self.mm.call('GET', '/api/mm/tasks', token=cred), 403)
        self.assertSpError(self.mm.beat(TOKEN), 403)
        self.assertSpError(self.mm.call('GET', '/api/mm/tasks', token=None), 401)
        # A user who is not an admin may not use Migration Manager.
        member = mt.emu(self.server.sp, TOKEN, 'POST', 'users',
                        {'login': 'mm-member@contoso.com', 'role': 'Member', 'site': '/'})
        self.assertSpError(self.mm.call('GET', '/api/mm/agents', token=member['token']), 403)
        self.assertSpError(self.mm.call('POST', '/api/mm/agents/register', {'name': 'x'},
                                        token=member['token']), 403)
        self.assertEqual(self.mm.beat(cred).status, 200)
        # On a site's REST the credential acts for the admin who made the trust: the site and
        # the Migration API, but nothing of the tenant's administration.
        site = self.mm.call('GET', '/sites/mm/_api/web?$select=Title', token=cred)
        self.assertEqual(site.status, 200, site.body)
        self.assertEqual(self.mm.call('POST', '/sites/mm/_api/site/ProvisionMigrationContainers',
                                      token=cred).status, 200)
        self.assertSpError(self.mm.call('GET', '/_emu/clock', token=cred), 403)
        self.assertSpError(self.mm.call('POST', '/_emu/users', {'login': 'x@y', 'role':
                                                                'GlobalAdmin'}, token=cred), 403)
        # Absurd numbers are clamped, not trusted.
        self.assertEqual(self.mm.beat(cred, free=1e300).status, 200)
        self.assertEqual(self.mm.beat(cred, free=-5).status, 200)
        # Deleting the agent revokes the trust at once.
        aid = r.json['id']
        self.assertEqual(self.mm.call('DELETE', '/api/mm/agents/' + aid).status, 204)
        self.assertSpError(self.mm.beat(cred), 401)
        self.assertSpError(self.mm.call('GET', '/sites/mm/_api/web', token=cred), 401)
        self.assertSpError(self.mm.call('GET', '/api/mm/agents/' + aid), 404)
        # The name is free again and keeps its id.
        r2 = self.mm.register('trust1')
        self.assertEqual(r2.status, 201, r2.body)
        self.assertEqual(r2.json['id'], aid)
        self.assertEqual(self.mm.beat(r2.json['credential']).status, 200)

    def test_long_poll_gets_run_order(self):
        r = self.mm.register('poller', shares=['\\\\srv\\poll'])
        cred = r.json['credential']
        got = {}

        def poll():
            t0 = time.monotonic()
            got['r'] = self.mm.beat(cred, wait=10)
            got['t'] = time.monotonic() - t0
            got['end'] = time.monotonic()

        th = threading.Thread(target=poll)
        th.start()
        time.sleep(0.5)
        created = time.monotonic()
        t = self.mm.task('\\\\srv\\poll\\docs')
        self.assertEqual(t.status, 201, t.body)
        th.join(15)
        runs = self.runs(got['r'])
        self.assertEqual([x['id'] for x in runs], [t.json['id']])
        self.assertLess(got['end'] - created, 1.0)
        spec = runs[0]
        self.assertEqual(spec['round'], 0)
        self.assertFalse(spec['resume'])
        self.assertEqual(spec['destination']['siteUrl'], self.server.sp + '/sites/mm')
        self.assertEqual(spec['destination']['library'], 'Documents')
        self.assertEqual(spec['destination']['folder'], 'in')
        self.assertIn('skipExtensions', spec['settings'])
        task = self.mm.call('GET', '/api/mm/tasks/' + t.json['id']).json
        self.assertEqual(task['status'], 'Scanning')
        self.assertEqual(task['agent']['name'], 'poller')

    def test_full_round_reports_and_zip(self):
        cred = self.mm.register('worker', shares=['\\\\srv\\work']).json['credential']
        tid = self.mm.task('\\\\srv\\work\\a', settings={'skipExtensions': 'tmp:bak'}).json['id']
        self.assertEqual(self.mm.call('GET', '/api/mm/tasks/' + tid).json['settings']
                         ['skipExtensions'], ['tmp', 'bak'])
        self.assertEqual(len(self.runs(self.mm.beat(cred, running=[]))), 1)
        base = '/api/mm/agent/tasks/%s/' % tid
        r = self.mm.call('POST', base + 'progress', {'round': 1e300, 'status': 'InProgress'},
                         token=cred)
        self.assertSpError(r, 409)
        r = self.mm.call('POST', base + 'progress', {'round': 0, 'status': 'InProgress',
                                                     'bytesScanned': 1e300}, token=cred)
        self.assertEqual(r.status, 200, r.body)
        r = self.mm.call('POST', base + 'progress', {'round': 0, 'status': 'InProgress',
                                                     'filesScanned': 10, 'filesTotal': 10,
                                                     'filesMigrated': 4}, token=cred)
        self.assertEqual(r.status, 200, r.body)
        self.assertIsNone(r.json['order'])
        t = self.mm.call('GET', '/api/mm/tasks/' + tid).json
        self.assertEqual((t['status'], t['progress']['filesMigrated'], t['progress']['percent']),
                         ('InProgress', 4, 40))
        item = b'Source,Destination,Status\r\n"\\\\srv\\work\\a\\x.txt",x,Migrated\r\n'
        summ = json.dumps({'round': 0}).encode()
        for name, data in (('ItemReport_R0.csv', item), ('summary_R0.json', summ)):
            r = self.mm.call('PUT', base + 'reports/' + name, raw=data, token=cred,
                             ctype='application/octet-stream')
            self.assertEqual(r.status, 201, r.body)
        self.assertSpError(self.mm.call('PUT', base + 'reports/..bad%2Fname', raw=b'x',
                                        token=cred), 400)
        r = self.mm.call('POST', base + 'end', {'round': 0, 'status': 'Completed', 'reason': None,
                                                'counts': {'filesScanned': 10, 'filesTotal': 10,
                                                           'filesMigrated': 10,
                                                           'bytesMigrated': 1000}}, token=cred)
        self.assertEqual(r.status, 200, r.body)
        t = self.mm.call('GET', '/api/mm/tasks/' + tid).json
        self.assertEqual((t['status'], t['progress']['percent'], t['agent']), ('Completed', 100, None))
        lst = self.mm.call('GET', '/api/mm/tasks/%s/reports' % tid).json['value']
        self.assertEqual(sorted((x['name'], x['round'], x['size']) for x in lst),
                         [('ItemReport_R0.csv', 0, len(item)), ('summary_R0.json', 0, len(summ))])
        r = self.mm.call('GET', '/api/mm/tasks/%s/reports/ItemReport_R0.csv' % tid)
        self.assertEqual(r.body, item)
        self.assertTrue(r.headers.get('Content-Type').startswith('text/csv'))
        r = self.mm.call('GET', '/api/mm/tasks/%s/reports.zip' % tid)
        self.assertEqual(r.status, 200)
        z = zipfile.ZipFile(io.BytesIO(r.body))
        self.assertIsNone(z.testzip())
        self.assertEqual({i.compress_type for i in z.infolist()}, {zipfile.ZIP_DEFLATED})
        self.assertEqual(z.read('ItemReport_R0.csv'), item)
        self.assertEqual(z.read('summary_R0.json'), summ)
        r = self.mm.call('GET', '/api/mm/summary.csv')
        self.assertIn(tid, r.body.decode('utf-8-sig'))
        r = self.mm.call('GET', '/api/mm/summary.csv?ids=' + tid)
        rows = r.body.decode('utf-8-sig').splitlines()
        self.assertEqual(len(rows), 2)
        self.assertTrue(rows[0].startswith('"Task name","Status","Source","Destination"'))
        self.assertIn('"Completed"', rows[1])
        self.assertIn('"worker"', rows[1])
        # Run again: round 1, incremental.
        r = self.mm.call('POST', '/api/mm/tasks/%s/run' % tid)
        self.assertEqual((r.json['status'], r.json['round']), ('Queued', 1))
        runs = self.runs(self.mm.beat(cred))
        self.assertEqual([(x['id'], x['round']) for x in runs], [(tid, 1)])
        # Delete while running: the agent gets a cancel, the reports go too.
        self.assertEqual(self.mm.call('DELETE', '/api/mm/tasks/' + tid).status, 204)
        r = self.mm.beat(cred, running=[tid])
        self.assertIn({'order': 'cancel', 'taskId': tid}, r.json['orders'])
        self.assertSpError(self.mm.call('GET', '/api/mm/tasks/%s/reports' % tid), 404)
        self.assertSpError(self.mm.call('POST', base + 'progress',
                                        {'status': 'InProgress'}, token=cred), 404)

    def test_pause_run_cancel(self):
        cred = self.mm.register('pauser', shares=['\\\\srv\\p']).json['credential']
        tid = self.mm.task('\\\\srv\\p\\1').json['id']
        self.assertEqual(len(self.runs(self.mm.beat(cred))), 1)
        prog = '/api/mm/agent/tasks/%s/progress' % tid
        end = '/api/mm/agent/tasks/%s/end' % tid
        self.assertEqual(self.mm.call('POST', '/api/mm/tasks/%s/pause' % tid).status, 200)
        r = self.mm.call('POST', prog, {'status': 'InProgress'}, token=cred)
        self.assertEqual(r.json['order'], 'pause')
        r = self.mm.call('POST', end, {'status': 'Paused', 'counts': {}}, token=cred)
        self.assertEqual(r.json['status'], 'Paused')
        # Pausing keeps the agent's slot (and its place).
        a = self.mm.call('GET', '/api/mm/agents').json['value']
        self.assertIn(tid, [x for ag in a if ag['name'] == 'pauser' for x in ag['runningTasks']])
        r = self.mm.call('POST', '/api/mm/tasks/%s/run' % tid)
        self.assertEqual(r.json['status'], 'InProgress')
        r = self.mm.beat(cred, running=[tid])
        self.assertIn({'order': 'resume', 'taskId': tid}, r.json['orders'])
        r = self.mm.call('POST', '/api/mm/tasks/%s/cancel' % tid)
        self.assertEqual(r.json['status'], 'Cancelled')
        r = self.mm.call('POST', prog, {'status': 'InProgress'}, token=cred)
        self.assertEqual(r.json['order'], 'cancel')
        r = self.mm.call('POST', end, {'status': 'Completed', 'counts': {}}, token=cred)
        self.assertEqual(r.json['status'], 'Cancelled')
        self.assertSpError(self.mm.call('POST', '/api/mm/tasks/%s/cancel' % tid), 409)

    def test_other_agents_task(self):
        c1 = self.mm.register('own1', shares=['\\\\srv\\o']).json['credential']
        c2 = self.mm.register('own2', shares=['\\\\srv\\o']).json['credential']
        tid = self.mm.task('\\\\srv\\o\\t').json['id']
        self.assertEqual(len(self.runs(self.mm.beat(c1))), 1)
        before = self.mm.call('GET', '/api/mm/tasks/' + tid).json
        base = '/api/mm/agent/tasks/%s/' % tid
        self.assertSpError(self.mm.call('POST', base + 'progress',
                                        {'status': 'InProgress', 'filesMigrated': 9},
                                        token=c2), 403)
        self.assertSpError(self.mm.call('POST', base + 'end', {'status': 'Failed'}, token=c2),
                           403)
        self.assertSpError(self.mm.call('PUT', base + 'reports/x.csv', raw=b'x', token=c2), 403)
        after = self.mm.call('GET', '/api/mm/tasks/' + tid).json
        self.assertEqual(before['status'], after['status'])
        self.assertEqual(before['progress'], after['progress'])
        self.assertEqual(self.mm.call('GET', '/api/mm/tasks/%s/reports' % tid).json['value'], [])
        # own2 claims to run it: it is told to cancel.
        r = self.mm.beat(c2, running=[tid])
        self.assertIn({'order': 'cancel', 'taskId': tid}, r.json['orders'])

    def test_dispatch_rules(self):
        self.assertEqual(self.mm.call('POST', '/api/mm/groups', {'name': 'east'}).status, 201)
        ce = self.mm.register('east1', shares=['\\\\srv\\rules'], group='east',
                              max_tasks=1).json
        cd = self.mm.register('def1', shares=['\\\\srv\\rules\\sub']).json['credential']
        # A source under a share by path component only: \\srv\rulesX is not under \\srv\rules.
        t_x = self.mm.task('\\\\srv\\rulesX\\a', group='east').json['id']
        t1 = self.mm.task('\\\\srv\\RULES\\a', group='east').json['id']
        t2 = self.mm.task('\\\\srv\\rules\\b', group='east').json['id']
        t3 = self.mm.task('\\\\srv\\rules\\sub\\c').json['id']
        cred = ce['credential']
        self.assertEqual([x['id'] for x in self.runs(self.mm.beat(cred, free=1))], [t1])
        # Capacity 1: InUse, no more.
        self.assertEqual(self.runs(self.mm.beat(cred, running=[t1], free=0)), [])
        ag = self.mm.call('GET', '/api/mm/agents/' + ce['id']).json
        self.assertEqual((ag['state'], ag['runningTasks']), ('InUse', [t1]))
        w = self.mm.call('GET', '/api/mm/tasks/' + t_x).json
        self.assertEqual(w['status'], 'Queued')
        self.assertIn('share', w['waitingReason'])
        # The Default agent takes only the Default task under its share.
        self.assertEqual([x['id'] for x in self.runs(self.mm.beat(cd))], [t3])
        # Disabled: nothing new.
        self.mm.call('POST', '/api/mm/agent/tasks/%s/end' % t1,
                     {'status': 'Completed', 'counts': {}}, token=cred)
        r = self.mm.call('PATCH', '/api/mm/agents/' + ce['id'], {'enabled': False})
        self.assertEqual(r.json['state'], 'Disabled')
        self.assertEqual(self.runs(self.mm.beat(cred, free=1)), [])
        self.mm.call('PATCH', '/api/mm/agents/' + ce['id'], {'enabled': True})
        self.assertEqual([x['id'] for x in self.runs(self.mm.beat(cred, free=1))], [t2])
        # Groups: Default and a group with agents stay.
        self.assertSpError(self.mm.call('DELETE', '/api/mm/groups/Default'), 409)
        self.assertSpError(self.mm.call('DELETE', '/api/mm/groups/east'), 409)
        self.assertSpError(self.mm.call('DELETE', '/api/mm/groups/nosuch'), 404)

    def test_schedule_and_auto_rerun(self):
        cred = self.mm.register('sched', shares=['\\\\srv\\s']).json['credential']
        now = mt.emu(self.server.sp, TOKEN, 'GET', 'clock')['nowMs'] / 1000
        later = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(now + 3600))
        r = self.mm.task('\\\\srv\\s\\later', schedule=later, settings={'autoRerun': True})
        self.assertEqual(r.json['status'], 'Scheduled', r.body)
        tid = r.json['id']
        self.assertEqual(self.runs(self.mm.beat(cred)), [])
        mt.emu(self.server.sp, TOKEN, 'POST', 'clock', {'advance': 'PT2H'})
        deadline = time.monotonic() + 5
        runs = []
        while not runs and time.monotonic() < deadline:
            runs = self.runs(self.mm.beat(cred, wait=1))
        self.assertEqual([x['id'] for x in runs], [tid])
        for rnd in range(1, 5):
            r = self.mm.call('POST', '/api/mm/agent/tasks/%s/end' % tid,
                             {'status': 'Failed', 'reason': 'boom', 'counts': {}}, token=cred)
            self.assertEqual((r.json['status'], r.json['round']), ('Queued', rnd), r.body)
            self.assertEqual([x['round'] for x in self.runs(self.mm.beat(cred))], [rnd])
        r = self.mm.call('POST', '/api/mm/agent/tasks/%s/end' % tid,
                         {'status': 'Failed', 'reason': 'boom', 'counts': {}}, token=cred)
        self.assertEqual((r.json['status'], r.json['failureReason']), ('Failed', 'boom'))


class LostAgentTests(MmBase):
    def test_lost_agent_tasks_move(self):
        r1 = self.mm.register('lost1', shares=['\\\\srv\\l'])
        c1 = r1.json['credential']
        c2 = self.mm.register('lost2', shares=['\\\\srv\\l']).json['credential']
        tid = self.mm.task('\\\\srv\\l\\x').json['id']
        self.assertEqual(len(self.runs(self.mm.beat(c1))), 1)
        # lost1 goes silent: Disconnected after the timeout (3 s), requeued after the grace.
        deadline = time.monotonic() + 15
        runs = []
        while not runs and time.monotonic() < deadline:
            runs = self.runs(self.mm.beat(c2, wait=1))
        self.assertEqual([(x['id'], x['resume']) for x in runs], [(tid, True)])
        a = self.mm.call('GET', '/api/mm/agents/' + r1.json['id']).json
        self.assertEqual(a['state'], 'Disconnected')
        # A Disconnected agent's name can be taken over (same id, new credential).
        r = self.mm.register('lost1', shares=['\\\\srv\\l'])
        self.assertEqual((r.status, r.json['id']), (201, r1.json['id']))
        self.assertSpError(self.mm.beat(c1), 401)
        # Its old task is no longer its own.
        self.assertSpError(self.mm.call('POST', '/api/mm/agent/tasks/%s/progress' % tid,
                                        {'status': 'InProgress'}, token=r.json['credential']), 403)

    def test_trust_expires(self):
        cred = self.mm.register('expiring').json['credential']
        self.assertEqual(self.mm.beat(cred).status, 200)
        mt.emu(self.server.sp, TOKEN, 'POST', 'clock', {'advance': 'P8D'})
        err = self.assertSpError(self.mm.beat(cred), 401)
        self.assertIn('expired', err['message']['value'])


class BulkTests(MmBase):
    def test_bulk_csv(self):
        lines = ['FileSharePath,,,SharePointSite,DocLibrary,DocSubFolder']
        for i in range(300):
            lines.append('\\\\srv\\bulk\\%d,,,https://contoso.sharepoint.com/sites/mm,Documents,f%d'
                         % (i, i))
        bad = list(lines)
        bad[10] = ',,,/sites/mm,Documents,'          # task 11: no source
        bad[20] = '\\\\srv\\bulk\\x,B,,/sites/mm,Documents,'  # task 21: column B
        bad[30] = '\\\\srv\\bulk\\y,,,/sites/nosuch,Documents,'  # task 31: no such site
        bad[40] = '"\\\\srv\\bulk\\z",,,/sites/mm,Documents'  # task 41: five columns
        bad[50] = bad[51]                             # task 51 duplicates task 52
        r = self.mm.call('POST', '/api/mm/tasks/bulk', raw=('\ufeff' + '\r\n'.join(bad))
                         .encode('utf-8'), ctype='text/csv')
        err = self.assertSpError(r, 400)
        msgs = [p['message'] for p in err['problems']]
        self.assertIn('Task 11, parameter 1. The source path should not be empty', msgs)
        self.assertIn('Task 21, parameter 2. This parameter should be empty for a file share '
                      'source', msgs)
        self.assertIn("Task 31, parameter 4. Destination site or web doesn't exist", msgs)
        self.assertIn('Task 41. The task must have 6 columns; it has 5', msgs)
        self.assertTrue(any(m.startswith('Task 5') and 'duplicate' in m for m in msgs), msgs)
        self.assertEqual(self.mm.call('GET', '/api/mm/tasks?top=5').json['value'], [])
        r = self.mm.call('POST', '/api/mm/tasks/bulk', raw='\r\n'.join(lines).encode(),
                         ctype='text/csv')
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json['count'], 300)
        # Duplicates of existing tasks are refused, nothing created.
        r = self.mm.call('POST', '/api/mm/tasks/bulk', raw='\n'.join(lines[:3] + [
            '\\\\srv\\bulk\\new,,,/sites/mm,Documents,']).encode(), ctype='text/csv')
        err = self.assertSpError(r, 400)
        self.assertIn('Task 2. A duplicate task has already been created',
                      [p['message'] for p in err['problems']])
        # Paging through the list.
        seen, link = [], '/api/mm/tasks?top=128'
        while link:
            page = self.mm.call('GET', link).json
            seen += [t['id'] for t in page['value']]
            link = page['nextLink']
        self.assertEqual(len(seen), 300)
        self.assertEqual(len(set(seen)), 300)
        hits = self.mm.call('GET', '/api/mm/tasks?search=bulk%5C29').json['value']
        self.assertEqual(len(hits), 11)  # 29, 290..299

    def test_bulk_json_and_scans(self):
        body = {'Tasks': [{'SourcePath': '\\\\srv\\js\\a', 'TargetPath': '/sites/mm',
                           'TargetList': 'Documents', 'TargetListRelativePath': 'x',
                           'Settings': {'MigrateHiddenItems': False,
                                        'MigrateItemsCreatedAfter': '2020-01-01',
                                        'SkipFilesWithExtensions': 'txt:mp3'}}]}
        r = self.mm.call('POST', '/api/mm/tasks/bulk', body)
        self.assertEqual(r.status, 201, r.body)
        s = r.json['value'][0]['settings']
        self.assertEqual((s['migrateHiddenFiles'], s['createdAfter'], s['skipExtensions']),
                         (False, '2020-01-01', ['txt', 'mp3']))
        r = self.mm.call('POST', '/api/mm/tasks/bulk', {'Tasks': [{'SourcePath': '',
                                                                   'TargetPath': '/sites/mm'}]})
        msgs = [p['message'] for p in self.assertSpError(r, 400)['problems']]
        self.assertEqual(msgs, ['Task 1, parameter 1. The source path should not be empty',
                                'Task 1, parameter 5. The target list should not be empty'])
        # Scans, then copy to migrations.
        r = self.mm.call('POST', '/api/mm/scans', {'sources': ['\\\\srv\\scan\\1']})
        self.assertEqual(r.status, 201, r.body)
        sid = r.json['value'][0]['id']
        self.assertTrue(r.json['value'][0]['settings']['scanOnly'])
        self.assertEqual([x['id'] for x in self.mm.call('GET', '/api/mm/scans').json['value']],
                         [sid])
        r = self.mm.call('POST', '/api/mm/scans/copy',
                         {'ids': [sid], 'destination': {'site': '/sites/mm',
                                                        'library': 'Documents'}})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json['value'][0]['source'], '\\\\srv\\scan\\1')
        self.assertFalse(r.json['value'][0]['scan'])

    def test_settings(self):
        r = self.mm.call('PUT', '/api/mm/settings', {'migrateHiddenFiles': False,
                                                     'skipExtensions': ['exe'],
                                                     'replaceInvalidCharactersWith': '_'})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual((r.json['migrateHiddenFiles'], r.json['skipExtensions']),
                         (False, ['exe']))
        self.assertSpError(self.mm.call('PUT', '/api/mm/settings', {'createdAfter': '2020-13-01'}),
                           400)
        self.assertSpError(self.mm.call('PUT', '/api/mm/settings', {'nope': 1}), 400)
        t = self.mm.task('\\\\srv\\set\\a', settings={'migrateHiddenFiles': True}).json
        self.assertEqual((t['settings']['migrateHiddenFiles'], t['settings']['skipExtensions']),
                         (True, ['exe']))
        # A task keeps the settings it was created with when the global ones change.
        self.mm.call('PUT', '/api/mm/settings', {})
        t = self.mm.call('GET', '/api/mm/tasks/' + t['id']).json
        self.assertEqual(t['settings']['skipExtensions'], ['exe'])
        t2 = self.mm.task('\\\\srv\\set\\b').json
        self.assertEqual(t2['settings']['skipExtensions'], [])


class RestartTests(MmBase):
    def test_restart_keeps_everything(self):
        reg = self.mm.register('survivor', shares=['\\\\srv\\r']).json
        cred = reg['credential']
        tid = self.mm.task('\\\\srv\\r\\a').json['id']
        self.assertEqual(len(self.runs(self.mm.beat(cred))), 1)
        self.mm.call('PUT', '/api/mm/agent/tasks/%s/reports/ItemReport_R0.csv' % tid,
                     raw=b'a,b\r\n', token=cred)
        self.mm.call('POST', '/api/mm/groups', {'name': 'kept'})
        self.server.restart()
        self.mm = MmClient(self.server)
        # The agent comes back with its credential; its task is still its own.
        r = self.mm.beat(cred, running=[tid])
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json['orders'], [])
        t = self.mm.call('GET', '/api/mm/tasks/' + tid).json
        self.assertEqual((t['status'], t['agent']['id']), ('Scanning', reg['id']))
        self.assertEqual(len(self.mm.call('GET', '/api/mm/tasks/%s/reports' % tid)
                             .json['value']), 1)
        self.assertIn('kept', [g['name'] for g in self.mm.call('GET', '/api/mm/groups')
                               .json['value']])
        # A restarted agent that lost its task gets it again, resumed.
        runs = self.runs(self.mm.beat(cred, running=[]))
        self.assertEqual([(x['id'], x['resume']) for x in runs], [(tid, True)])


if __name__ == '__main__':
    unittest.main()
