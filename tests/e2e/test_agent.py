"""
test_agent.py: `spmig agent` end to end. Two real agents on generated shares take tasks, run
them through the real pipeline into the real spmigd and report back; every file is read back
through SharePoint REST.

RealServerTest drives spmigd's own /api/mm/ routes (docs/migration-manager.md): two tasks on
two agents, and an agent that rides out a restart of spmigd. It is skipped while spmigd does
not answer them (GET /api/mm/agents is 404). ContractTest puts a small
stand-in for those routes in front of the agents (this file's FakeMM, which follows the same
contract and hands out tasks whose site is the real spmigd), so the agent's side of the
protocol is checked now: registration and the credential file, the heartbeat's orders, two
agents sharing the tasks, progress, reports and ends, pause and resume, cancel, a restart
without the admin token, a revoked credential (401) and a service that goes away and comes
back.

The binaries come from $SPMIG and $SPMIGD (meson sets them). Run with /usr/bin/python3.
"""
import json
import os
import random
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import migration_tool as mt
from harness import Server, spmig_path

ADMIN = 'agent-admin'
WAIT = 120


def make_share(root, n_files, seed):
    """Nested folders of small files. Returns {relative path: bytes}."""
    rnd = random.Random(seed)
    files = {}
    for i in range(n_files):
        rel = 'd%d/sub %d/f%04d.txt' % (i % 3, i % 5, i)
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
        data = rnd.randbytes(rnd.randrange(0, 3000))
        with open(os.path.join(root, rel), 'wb') as fh:
            fh.write(data)
        files[rel] = data
    return files


def wait_for(pred, timeout=WAIT, what='a condition'):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError('timed out waiting for %s' % (what() if callable(what) else what))


class Agent:
    """One `spmig agent` process; its stderr is collected."""

    def __init__(self, server, name, shares, work_dir, token=ADMIN, max_tasks=2, extra=()):
        env = {k: v for k, v in os.environ.items() if not k.startswith('SPMIG_')}
        if token:
            env['SPMIG_TOKEN'] = token
        args = [spmig_path(), 'agent', '--server', server, '--name', name, '--work-dir',
                work_dir, '--max-tasks', str(max_tasks)]
        for s in shares:
            args += ['--share', s]
        args += [str(x) for x in extra]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     env=env)
        self.err = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.err.append(line.decode(errors='replace'))

    def text(self):
        return ''.join(self.err)

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.proc.wait(timeout)
        self.reader.join(5)
        return rc


# -- a stand-in for spmigd's /api/mm/ (the contract, reduced to what an agent calls) --------------

class FakeMM:
    def __init__(self, port=0):
        self.lock = threading.Condition()
        self.agents = {}     # credential -> name
        self.registered = []  # names, in order
        self.queue = []      # task specs not yet given out
        self.orders = {}     # agent name -> [order]
        self.tasks = {}      # id -> {'agent', 'ends', 'progress', 'reports', 'state'}
        self.pending_order = {}  # task id -> 'pause'/'cancel' for the next progress answer
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *a):
                pass

            def handle_one_request(self):
                try:
                    super().handle_one_request()
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the agent hung up (stopped or killed)

            def _send(self, status, obj=None):
                body = json.dumps(obj).encode() if obj is not None else b''
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(body)))
                # No keep-alive: a closed stand-in must not go on answering old connections.
                self.send_header('Connection', 'close')
                self.close_connection = True
                try:
                    self.end_headers()
                    self.wfile.write(body)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True
                    return False
                return True

            def _body(self):
                n = int(self.headers.get('Content-Length') or 0)
                return self.rfile.read(n) if n else b''

            def _who(self):
                auth = self.headers.get('Authorization', '')
                return auth[7:] if auth.startswith('Bearer ') else None

            def do_POST(self):
                fake.handle(self, 'POST')

            def do_PUT(self):
                fake.handle(self, 'PUT')

        self.httpd = ThreadingHTTPServer(('127.0.0.1', port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = 'http://127.0.0.1:%d' % self.port
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def handle(self, h, method):
        u = urllib.parse.urlsplit(h.path)
        body = h._body()
        who = h._who()
        parts = u.path.strip('/').split('/')
        if u.path == '/api/mm/agents/register':
            if who != ADMIN:
                return h._send(401, {'error': 'no admin token'})
            req = json.loads(body)
            assert any(s['readable'] for s in req['shares'])
            cred = 'mma1.%s.%s' % (req['name'], uuid.uuid4().hex)
            with self.lock:
                self.agents = {c: n for c, n in self.agents.items() if n != req['name']}
                self.agents[cred] = req['name']
                self.registered.append(req['name'])
            return h._send(201, {'id': req['name'], 'credential': cred})
        with self.lock:
            name = self.agents.get(who)
        if name is None:
            return h._send(401, {'error': 'unknown credential'})
        if u.path == '/api/mm/agent/heartbeat':
            req = json.loads(body)
            wait = int(urllib.parse.parse_qs(u.query).get('wait', ['0'])[0])
            deadline = time.monotonic() + min(wait, 2)
            with self.lock:
                while True:
                    orders = self.orders.pop(name, [])
                    free = req['free'] - len([o for o in orders if o['order'] == 'run'])
                    while free > 0 and self.queue:
                        task = self.queue.pop(0)
                        self.tasks[task['id']]['agent'] = name
                        orders.append({'order': 'run', 'task': task})
                        free -= 1
                    left = deadline - time.monotonic()
                    if orders or left <= 0:
                        break
                    self.lock.wait(left)
            if not h._send(200, {'orders': orders, 'heartbeatSeconds': 5}):
                with self.lock:  # a long poll whose agent is gone: the orders wait
                    for o in orders:
                        if o['order'] == 'run':
                            self.queue.insert(0, o['task'])
                        else:
                            self.orders.setdefault(name, []).append(o)
            return
        if len(parts) >= 6 and parts[:4] == ['api', 'mm', 'agent', 'tasks']:
            tid = parts[4]
            with self.lock:
                t = self.tasks.get(tid)
                if t is None or t['agent'] != name:
                    return h._send(403, {'error': 'not your task'})
                if parts[5] == 'progress':
                    t['progress'].append(json.loads(body))
                    t['state'] = t['progress'][-1]['status']
                    order = self.pending_order.pop(tid, None)
                    self.lock.notify_all()
                    return h._send(200, {'order': order})
                if parts[5] == 'reports' and method == 'PUT' and len(parts) == 7:
                    t['reports'][parts[6]] = body
                    return h._send(201)
                if parts[5] == 'end':
                    end = json.loads(body)
                    t['counts'] = end.pop('counts', None)
                    t['ends'].append(end)
                    t['state'] = end['status']
                    self.lock.notify_all()
                    return h._send(200, {})
        return h._send(404, {'error': 'no route'})

    def add_task(self, spec):
        with self.lock:
            self.tasks[spec['id']] = {'agent': None, 'ends': [], 'progress': [], 'reports': {},
                                      'state': 'Queued', 'spec': spec}
            self.queue.append(spec)
            self.lock.notify_all()

    def order(self, agent, order):
        with self.lock:
            self.orders.setdefault(agent, []).append(order)
            self.lock.notify_all()

    def task(self, tid):
        with self.lock:
            return dict(self.tasks[tid])


class AgentCase(unittest.TestCase):
    def setUp(self):
        self.server = Server(('--admin-token', ADMIN))
        self.addCleanup(self.server.cleanup)
        self.tmp = tempfile.mkdtemp(prefix='spmig-agent-')
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.sp = mt.SharePoint(self.server.sp, ADMIN, accept=mt.NOMETADATA)
        self.agents = []

    def start_agent(self, server, name, shares, token=ADMIN, max_tasks=2):
        a = Agent(server, name, shares, os.path.join(self.tmp, 'work-' + name), token,
                  max_tasks)
        self.agents.append(a)
        self.addCleanup(a.stop, signal.SIGKILL)
        return a

    def make_library(self, title):
        self.sp.call('POST', 'web/lists', {'Title': title, 'BaseTemplate': 101})
        lst = self.sp.entity('web/lists/getbytitle(%s)' % mt.quote_literal(title),
                             {'$expand': 'RootFolder'})
        return lst['RootFolder']['ServerRelativeUrl']

    def assertMigrated(self, root_url, files):
        for rel, data in files.items():
            got = self.sp.value("web/GetFileByServerRelativeUrl(%s)/$value"
                                % mt.quote_literal(root_url + '/' + rel))
            self.assertEqual(got, data, rel)


class ContractTest(AgentCase):

    def spec(self, tid, source, library, **settings):
        # The stand-in's credentials mean nothing to spmigd, so its specs carry a token for the
        # site (the wire's accessToken); spmigd sends none and takes the agent's credential.
        return {'id': tid, 'name': tid, 'source': source, 'round': 0,
                'destination': {'siteUrl': self.server.sp, 'library': library, 'folder': ''},
                'settings': settings, 'accessToken': ADMIN}

    def test_two_agents_share_the_tasks(self):
        mm = FakeMM()
        self.addCleanup(mm.close)
        shares, files, roots = [], {}, {}
        for i in range(4):
            src = os.path.join(self.tmp, 'share%d' % i)
            files[i] = make_share(src, 60 + i, seed=i)
            shares.append(src)
            roots[i] = self.make_library('Lib%d' % i)
        missing = os.path.join(self.tmp, 'missing')
        a1 = self.start_agent(mm.url, 'pc1', shares + [missing])
        a2 = self.start_agent(mm.url, 'pc2', shares)
        wait_for(lambda: len(mm.registered) == 2, what='two registrations')
        for i in range(4):
            mm.add_task(self.spec('task-%d' % i, shares[i], 'Lib%d' % i,
                                  skipExtensions='bak' if i == 3 else None))
        for i in range(4):
            wait_for(lambda: mm.task('task-%d' % i)['ends'], what='task-%d to end' % i)
        agents = set()
        for i in range(4):
            t = mm.task('task-%d' % i)
            self.assertEqual(t['ends'], [{'round': 0, 'status': 'Completed'}], a1.text())
            self.assertIn('ScanSummary_R0.csv', t['reports'])
            self.assertIn('ItemReport_R0.csv', t['reports'])
            self.assertIn('summary_R0.json', t['reports'])
            self.assertTrue(t['progress'])
            last = t['progress'][-1]
            self.assertEqual(last['filesFailed'], 0)
            self.assertEqual(last['filesScanned'], len(files[i]))
            self.assertEqual(t['counts']['filesMigrated'], len(files[i]))
            agents.add(t['agent'])
            self.assertMigrated(roots[i], files[i])
            # Ids come from the task id (the seed).
            summary = json.loads(t['reports']['summary_R0.json'])
            self.assertEqual(summary['task_id'], 'task-%d' % i)
        self.assertEqual(agents, {'pc1', 'pc2'})
        self.assertIn('not readable', a1.text())
        # The credential file is private.
        cred = os.path.join(self.tmp, 'work-pc1', 'agent.json')
        self.assertEqual(stat.S_IMODE(os.stat(cred).st_mode), 0o600)
        self.assertEqual(a1.stop(), 0)
        self.assertEqual(a2.stop(), 0)

    def test_pause_resume_cancel_restart(self):
        mm = FakeMM()
        self.addCleanup(mm.close)
        src = os.path.join(self.tmp, 'big')
        files = make_share(src, 2600, seed=3)
        root = self.make_library('Big')
        a = self.start_agent(mm.url, 'pc1', [src], max_tasks=1)
        wait_for(lambda: mm.registered, what='registration')
        # Paused by the answer to its first progress, long before the last package.
        mm.pending_order['big'] = 'pause'
        mm.add_task(self.spec('big', src, 'Big'))
        wait_for(lambda: mm.task('big')['ends'], what='the pause')
        self.assertEqual(mm.task('big')['ends'][-1]['status'], 'Paused', a.text())

        # Restarted without the admin token: agent.json is enough, and the task resumes.
        self.assertEqual(a.stop(), 0)
        a = self.start_agent(mm.url, 'pc1', [src], token=None, max_tasks=1)
        wait_for(lambda: 'paused, waiting for resume' in a.text(), what='the paused task held')
        mm.order('pc1', {'order': 'resume', 'taskId': 'big'})
        wait_for(lambda: len(mm.task('big')['ends']) == 2, what=lambda: 'the resumed round: ' + a.text())
        self.assertEqual(mm.task('big')['ends'][-1], {'round': 0, 'status': 'Completed'},
                         a.text())
        self.assertEqual(mm.registered, ['pc1'])
        self.assertMigrated(root, files)

        # A cancel order stops the next round.
        src2 = os.path.join(self.tmp, 'big2')
        make_share(src2, 2600, seed=4)
        self.make_library('Big2')
        mm.pending_order['big2'] = 'cancel'
        mm.add_task(self.spec('big2', src2, 'Big2'))
        wait_for(lambda: mm.task('big2')['ends'], what='the cancel')
        self.assertEqual(mm.task('big2')['ends'][-1]['status'], 'Cancelled', a.text())
        self.assertEqual(a.stop(), 0)

    def test_sigterm_pauses_running_tasks(self):
        mm = FakeMM()
        self.addCleanup(mm.close)
        src = os.path.join(self.tmp, 'big')
        files = make_share(src, 6000, seed=5)  # 24 packages: more than can be in flight
        root = self.make_library('Term')
        a = self.start_agent(mm.url, 'pc1', [src])
        wait_for(lambda: mm.registered, what='registration')
        mm.add_task(self.spec('term', src, 'Term'))
        wait_for(lambda: mm.task('term')['progress'], what='progress')
        self.assertEqual(a.stop(signal.SIGTERM), 0)
        ends = mm.task('term')['ends']
        if ends and ends[-1]['status'] == 'Completed':
            self.skipTest('the task finished before SIGTERM')
        self.assertEqual(ends[-1]['status'], 'Paused', a.text())
        a = self.start_agent(mm.url, 'pc1', [src])
        mm.order('pc1', {'order': 'resume', 'taskId': 'term'})
        wait_for(lambda: len(mm.task('term')['ends']) == 2, what=lambda: 'resume: ' + a.text())
        self.assertEqual(mm.task('term')['ends'][-1]['status'], 'Completed')
        self.assertMigrated(root, files)
        self.assertEqual(a.stop(), 0)

    def test_service_away_and_revoked_credential(self):
        mm = FakeMM()
        port = mm.port
        src = os.path.join(self.tmp, 'share')
        files = make_share(src, 30, seed=8)
        root = self.make_library('Away')
        a = self.start_agent(mm.url, 'pc1', [src])
        wait_for(lambda: mm.registered, what='registration')
        mm.close()
        time.sleep(3)
        mm = FakeMM(port)  # back on the same port, knowing no credential: 401, register again
        self.addCleanup(mm.close)
        wait_for(lambda: mm.registered, what=lambda: 'registering again: ' + a.text(), timeout=60)
        mm.add_task(self.spec('t', src, 'Away'))
        wait_for(lambda: mm.task('t')['ends'], what='the task')
        self.assertEqual(mm.task('t')['ends'][-1]['status'], 'Completed', a.text())
        self.assertMigrated(root, files)
        self.assertIn('again in', a.text())
        self.assertEqual(a.stop(), 0)

    def test_refuses_without_a_readable_share(self):
        a = self.start_agent('http://127.0.0.1:9', 'pc1', [os.path.join(self.tmp, 'none')])
        self.assertEqual(a.proc.wait(30), 2)
        self.assertIn('no share is readable', a.text())


def mm_routes_answer(server):
    url = server.sp + '/api/mm/agents'
    r = mt.http_call('GET', url, None, {'Authorization': 'Bearer ' + ADMIN})
    return r.status != 404


class RealServerTest(AgentCase):
    """spmigd's own /api/mm/: skipped until it answers."""

    def call(self, method, path, body=None):
        auth = {'Authorization': 'Bearer ' + ADMIN, 'Content-Type': 'application/json',
                'Accept': 'application/json'}
        r = mt.http_call(method, self.server.sp + path,
                         json.dumps(body).encode() if body is not None else None, auth)
        return r.status, (json.loads(r.body) if r.body else None)

    def test_tasks_complete_on_two_agents(self):
        if not mm_routes_answer(self.server):
            self.skipTest('spmigd does not answer /api/mm/ yet')
        srcs, files, roots = [], [], []
        for i in range(2):
            srcs.append(os.path.join(self.tmp, 'share%d' % i))
            files.append(make_share(srcs[i], 80 + i, seed=21 + i))
            roots.append(self.make_library('MM%d' % i))
        with open(os.path.join(srcs[1], 'skip.bak'), 'wb') as fh:
            fh.write(b'not migrated')
        # One slot each: the two tasks run on the two agents at once.
        a1 = self.start_agent(self.server.sp, 'agent-1', [self.tmp], max_tasks=1)
        a2 = self.start_agent(self.server.sp, 'agent-2', [self.tmp], max_tasks=1)
        wait_for(lambda: len((self.call('GET', '/api/mm/agents')[1] or {}).get('value', []))
                 >= 2, what='two agents')
        ids = []
        for i in range(2):
            settings = {'skipExtensions': 'bak'} if i == 1 else {}
            status, task = self.call('POST', '/api/mm/tasks', {
                'name': 'share %d' % i, 'source': srcs[i],
                'destination': {'site': '/', 'library': 'MM%d' % i}, 'settings': settings})
            self.assertIn(status, (200, 201), task)
            ids.append(task['id'])

        def done(tid):
            status, t = self.call('GET', '/api/mm/tasks/' + tid)
            s = t.get('status') if status == 200 else None
            return s if s in ('Completed', 'CompletedWithIssues', 'Failed', 'Cancelled') else None
        agents = set()
        for i, tid in enumerate(ids):
            self.assertEqual(wait_for(lambda: done(tid), what='task %d' % i), 'Completed',
                             a1.text() + a2.text())
            ran = [n for n, a in (('agent-1', a1), ('agent-2', a2))
                   if 'task %s: round 0 Completed' % tid in a.text()]
            agents.update(ran)
            self.assertEqual([self.call('GET', '/api/mm/tasks/' + tid)[1]['lastAgent']], ran)
            self.assertMigrated(roots[i], files[i])
            status, reports = self.call('GET', '/api/mm/tasks/%s/reports' % tid)
            names = {r['name'] for r in reports['value']}
            self.assertTrue({'ItemReport_R0.csv', 'ScanSummary_R0.csv'} <= names, names)
        self.assertEqual(agents, {'agent-1', 'agent-2'})
        listed = self.call('GET', '/api/mm/agents')[1]['value']
        self.assertEqual({a['host'] for a in listed}, {socket.gethostname()})
        self.assertEqual(self.sp.raw('GET', "web/GetFileByServerRelativeUrl(%s)" %
                                     mt.quote_literal(roots[1] + '/skip.bak'))[1].status, 404)
        self.assertEqual(a1.stop(), 0)
        self.assertEqual(a2.stop(), 0)


    def test_agent_rides_out_a_server_restart(self):
        if not mm_routes_answer(self.server):
            self.skipTest('spmigd does not answer /api/mm/ yet')
        # A server that comes back on the same SharePoint port, with the same data.
        import socket
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            port = sock.getsockname()[1]
        self.server.stop()
        self.server.extra_args += ['--sp-port', str(port)]
        self.server.start()
        self.sp = mt.SharePoint(self.server.sp, ADMIN, accept=mt.NOMETADATA)
        src = os.path.join(self.tmp, 'share')
        files = make_share(src, 40, seed=31)
        root = self.make_library('Again')
        a = self.start_agent(self.server.sp, 'agent-r', [src])
        wait_for(lambda: 'ready' in a.text(), what='the agent')
        self.server.stop()
        time.sleep(2)
        self.server.start()
        status, task = self.call('POST', '/api/mm/tasks', {
            'name': 'after the restart', 'source': src,
            'destination': {'site': '/', 'library': 'Again'}})
        self.assertIn(status, (200, 201), task)

        def done():
            status, t = self.call('GET', '/api/mm/tasks/' + task['id'])
            return t.get('status') in ('Completed', 'CompletedWithIssues', 'Failed') and t
        t = wait_for(done, what=lambda: 'the task: ' + a.text())
        self.assertEqual(t['status'], 'Completed', a.text())
        self.assertIn('again in', a.text())
        self.assertMigrated(root, files)
        self.assertEqual(a.stop(), 0)


if __name__ == '__main__':
    unittest.main()
