#!/usr/bin/python3
"""
Migration Manager's agent path, with a real spmigd and real `spmig agent` processes
(issue 12, "Speed and scale"). Four measures, each on a fresh spmigd (temp data dir, ports
chosen by the system, 127.0.0.1 only):

  one-task   A generated share of --files small files (1 to 8 KiB) migrated (a) by one agent
             as one task: from POST /api/mm/tasks to the task's status Completed, and (b) by
             `spmig migrate` into a fresh library: the process's wall time. Both use the
             client's default --parallel; the runs alternate. Target: (a) / (b) <= 1.10.
  many       --small-tasks tasks of a few files each, created by one bulk CSV, run by
             --agents agents (`--max-tasks` as given, 2 by default like the agent's own):
             tasks/s from the bulk POST to all Completed, and the dispatcher's delay from
             `created` to `started` of each task (GET /api/mm/tasks pages). Target: median < 1 s.
  bulk       One CSV of exactly the tenant's task limit (50,000, LIMIT_MM_TASKS) into an empty
             table: the POST's time (target < 10 s), one more task refused, pages of 100 four
             fifths down the list (target < 50 ms), then every task listed page by page
             (top=1000, following nextLink). spmigd's VmRSS and VmHWM (/proc/PID/status) are
             read before the bulk, after it and after the listing: memory must not grow with
             the number of tasks.

Every measure runs --runs times (3 by default) and prints the median and the runs; the last
line is all figures as JSON. docs/benchmarks.md records them.

    meson setup build-rel --buildtype=release -Dtests=false && ninja -C build-rel
    /usr/bin/python3 bench/mm_agent_bench.py build-rel/server/spmigd build-rel/client/spmig \\
        [--runs 3] [--files 10000] [--small-tasks 1000] [--agents 4] [--max-tasks 2] \\
        [--only one-task,many,bulk]

Every wait has a deadline (--timeout seconds per run, 900 by default); servers and agents
are stopped (SIGTERM, then SIGKILL) and temp dirs removed however the script ends (KEEP=1
keeps each server's dir, with its data and the agents' logs and work dirs).
"""
import argparse
import datetime
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

from mm_bench import TOKEN, call, timed

DONE = ('Completed', 'CompletedWithIssues', 'Failed', 'Cancelled')
SITE = '/sites/bench'


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def memory(pid):
    """{'VmRSS': KiB, 'VmHWM': KiB} of a process."""
    with open('/proc/%d/status' % pid) as f:
        return {l.split(':')[0]: int(l.split()[1]) for l in f
                if l.startswith(('VmRSS', 'VmHWM'))}


def parse_time(s):
    return datetime.datetime.fromisoformat(s.replace('Z', '+00:00')).timestamp()


def wait_until(pred, deadline, what, step=0.05):
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise SystemExit('timed out waiting for ' + what)


class Bench:
    """A fresh spmigd with the site /sites/bench; agents started on it; all cleaned up."""

    def __init__(self, a):
        self.a = a
        self.tmp = tempfile.mkdtemp(prefix='spmig-mm-agent-bench-')
        self.agents = []
        self.server = subprocess.Popen(
            [a.spmigd, '--data-dir', os.path.join(self.tmp, 'data'), '--sp-port', '0',
             '--blob-port', '0', '--queue-port', '0', '--admin-token', TOKEN],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.url = json.loads(self.server.stdout.readline())['sp']
        self.sp = urllib.parse.urlsplit(self.url)
        status, _ = call(self.sp, 'POST', '/_emu/sites', {'url': SITE})
        assert status in (200, 201), status

    def call(self, method, path, body=None, **kw):
        return call(self.sp, method, path, body, **kw)

    def start_agent(self, name, share, max_tasks):
        work = os.path.join(self.tmp, 'work-' + name)
        log = open(os.path.join(self.tmp, name + '.log'), 'wb')
        self.agents.append(subprocess.Popen(
            [self.a.spmig, 'agent', '--server', self.url, '--name', name, '--share', share,
             '--work-dir', work, '--max-tasks', str(max_tasks), '--token', TOKEN],
            stdout=subprocess.DEVNULL, stderr=log))
        log.close()

    def wait_agents(self, n, deadline):
        wait_until(lambda: sum(ag['state'] == 'Enabled' for ag in
                               self.call('GET', '/api/mm/agents')[1]['value']) >= n,
                   deadline, '%d agents' % n)

    def tasks(self, extra=''):
        """Every task, page by page."""
        out, path = [], '/api/mm/tasks?top=1000' + extra
        while path:
            status, page = self.call('GET', path)
            assert status == 200, (status, page)
            out += page['value']
            path = page.get('nextLink')
            if path and path.startswith('http'):
                path = urllib.parse.urlsplit(path)._replace(scheme='', netloc='').geturl()
        return out

    def close(self):
        for p in self.agents:
            stop(p)
        stop(self.server)
        if os.environ.get('KEEP'):
            print('kept', self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def make_share(root, nfiles, seed=3, per_folder=500, prefix='f'):
    rnd = random.Random(seed)
    for i in range(nfiles):
        d = os.path.join(root, 'folder%03d' % (i // per_folder))
        if i % per_folder == 0:
            os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, '%s%05d.txt' % (prefix, i)), 'wb') as f:
            f.write(rnd.randbytes(rnd.randrange(1024, 8193)))


def median_runs(xs, fmt='%.2f'):
    return '%s (%s)' % (fmt % statistics.median(xs), ' / '.join(fmt % x for x in xs))


# -- 1. one task of many files: agent against `spmig migrate` ----------------------------------

def run_migrate(a, share):
    b = Bench(a)
    try:
        state = os.path.join(b.tmp, 'state')
        t0 = time.monotonic()
        p = subprocess.run([a.spmig, 'migrate', share, '--site', b.url + SITE, '--token', TOKEN,
                            '--state-dir', state, '--report-dir', os.path.join(state, 'r'),
                            '--no-progress'], capture_output=True, timeout=a.timeout)
        secs = time.monotonic() - t0
        if p.returncode != 0:
            raise SystemExit('spmig migrate failed (%d): %s' % (p.returncode, p.stderr[-2000:]))
        return secs
    finally:
        b.close()


def run_agent_task(a, share):
    b = Bench(a)
    try:
        deadline = time.monotonic() + a.timeout
        b.start_agent('bench-1', share, a.max_tasks)
        b.wait_agents(1, deadline)
        t0 = time.monotonic()
        status, task = b.call('POST', '/api/mm/tasks', {
            'name': 'one task', 'source': share,
            'destination': {'site': SITE, 'library': 'Documents'}})
        assert status in (200, 201), (status, task)
        t = wait_until(lambda: (lambda r: r[1]['status'] in DONE and r[1])(
            b.call('GET', '/api/mm/tasks/' + task['id'])), deadline, 'the task', 0.02)
        secs = time.monotonic() - t0
        if t['status'] != 'Completed' or t['progress'].get('filesMigrated') != a.files:
            raise SystemExit('the task ended %s: %s' % (t['status'], json.dumps(t)[:2000]))
        return secs, parse_time(t['started']) - parse_time(t['created'])
    finally:
        b.close()


def one_task(a, work):
    share = os.path.join(work, 'share')
    make_share(share, a.files)
    os.sync()
    subprocess.run(['tar', '-cf', '/dev/null', '-C', share, '.'], check=True)  # page cache
    mig, agent, start = [], [], []
    for _ in range(a.runs):
        mig.append(run_migrate(a, share))
        s, d = run_agent_task(a, share)
        agent.append(s)
        start.append(d)
    ratio = statistics.median(agent) / statistics.median(mig)
    print('one task of %d files (1-8 KiB): spmig migrate %s s, agent task %s s, ratio %.2f '
          '(target <= 1.10), created->started %s s'
          % (a.files, median_runs(mig), median_runs(agent), ratio, median_runs(start)))
    shutil.rmtree(share)
    return {'files': a.files, 'migrate_s': mig, 'agent_s': agent, 'ratio': round(ratio, 3),
            'agent_created_to_started_s': start}


# -- 2. many small tasks over several agents ----------------------------------------------------

def dispatch_delays(seen, created, max_tasks):
    """The dispatcher's own delay for each task: from the moment it could have started (its
    creation, or the end of the task whose slot it took on the same agent, whichever is later)
    to the moment it was seen running. seen: {id: (agent, started, ended)}."""
    by_agent = {}
    for agent, start, end in seen.values():
        by_agent.setdefault(agent, []).append((start, end))
    out = []
    for runs in by_agent.values():
        frees = [created] * max_tasks + sorted(e for _, e in runs)
        for k, (start, _) in enumerate(sorted(runs)):
            out.append(max(0.0, start - max(created, frees[k])))
    return sorted(out)


def many_run(a, root):
    b = Bench(a)
    try:
        deadline = time.monotonic() + a.timeout
        for i in range(a.agents):
            b.start_agent('bench-%d' % (i + 1), root, a.max_tasks)
        b.wait_agents(a.agents, deadline)
        csv = '\r\n'.join('%s,,,%s,Documents,' % (os.path.join(root, 't%04d' % i), SITE)
                          for i in range(a.small_tasks)).encode()
        t0 = time.monotonic()
        status, body = b.call('POST', '/api/mm/tasks/bulk', csv, ctype='text/csv')
        assert status == 201, (status, body)
        created = time.monotonic()
        # Seen running: polled every 50 ms through the two status filters (a few tasks each).
        running, seen, polls = {}, {}, 0
        while True:
            polls += 1
            if time.monotonic() > deadline:
                raise SystemExit('timed out waiting for the tasks')
            now = set()
            for st in ('Scanning', 'InProgress'):
                for t in b.tasks('&status=' + st):
                    now.add(t['id'])
                    if t['id'] not in running:
                        running[t['id']] = (t['agent']['name'], time.monotonic())
            for tid in list(running):
                if tid not in now:
                    agent, start = running.pop(tid)
                    seen[tid] = (agent, start, time.monotonic())
            if polls % 20 == 0 or len(seen) >= a.small_tasks:
                tasks = b.tasks()
                if all(t['status'] in DONE for t in tasks):
                    break
            time.sleep(0.05)
        secs = time.monotonic() - t0
        bad = [t for t in tasks if t['status'] != 'Completed']
        if len(tasks) != a.small_tasks or bad:
            raise SystemExit('%d tasks did not complete: %s' % (len(bad), json.dumps(bad[:1])))
        queued = sorted(parse_time(t['started']) - parse_time(t['created']) for t in tasks)
        return secs, queued, dispatch_delays(seen, created, a.max_tasks), len(seen)
    finally:
        b.close()


def many(a, work):
    root = os.path.join(work, 'tasks')
    rnd = random.Random(4)
    for i in range(a.small_tasks):
        d = os.path.join(root, 't%04d' % i)
        os.makedirs(d)
        for k in range(3):  # names unique over all tasks: they all land in one library
            with open(os.path.join(d, 't%04d-%d.txt' % (i, k)), 'wb') as f:
                f.write(rnd.randbytes(rnd.randrange(512, 4097)))
    os.sync()
    p95 = lambda xs: xs[max(0, int(len(xs) * 0.95) - 1)]  # noqa: E731
    runs = [many_run(a, root) for _ in range(a.runs)]
    rates = [a.small_tasks / r[0] for r in runs]
    print('%d tasks of 3 files over %d agents (--max-tasks %d): %s tasks/s'
          % (a.small_tasks, a.agents, a.max_tasks, median_runs(rates, '%.1f')))
    print("  created -> started (the task's fields, whole seconds; includes waiting for a slot): "
          'median %s s, p95 %s s' % (median_runs([statistics.median(r[1]) for r in runs]),
                                      median_runs([p95(r[1]) for r in runs])))
    print('  dispatch delay (slot free or task created -> seen running, polled every 50 ms; '
          '%s tasks seen): median %s s (target < 1), p95 %s s, max %s s'
          % ('/'.join(str(r[3]) for r in runs),
             median_runs([statistics.median(r[2]) for r in runs]),
             median_runs([p95(r[2]) for r in runs]), median_runs([r[2][-1] for r in runs])))
    shutil.rmtree(root)
    return {'tasks': a.small_tasks, 'agents': a.agents, 'max_tasks': a.max_tasks,
            'tasks_per_s': rates,
            'created_to_started_median_s': [statistics.median(r[1]) for r in runs],
            'created_to_started_p95_s': [p95(r[1]) for r in runs],
            'dispatch_median_s': [statistics.median(r[2]) for r in runs],
            'dispatch_p95_s': [p95(r[2]) for r in runs], 'dispatch_max_s': [r[2][-1] for r in runs],
            'tasks_seen_running': [r[3] for r in runs]}


# -- 3 and 4. the tenant's limit in one CSV; memory -------------------------------------------

def bulk_run(a):
    b = Bench(a)
    try:
        n = a.limit
        pid = b.server.pid
        out = {'mem_start': memory(pid)}
        csv = '\r\n'.join('\\\\srv\\bench\\%06d,,,%s,Documents,' % (i, SITE)
                          for i in range(n)).encode()
        t0 = time.monotonic()
        status, body = b.call('POST', '/api/mm/tasks/bulk', csv, ctype='text/csv')
        out['bulk_s'] = time.monotonic() - t0
        assert status == 201, (status, body)
        out['mem_bulk'] = memory(pid)
        status, _ = b.call('POST', '/api/mm/tasks', {
            'source': '\\\\srv\\bench\\one-more',
            'destination': {'site': SITE, 'library': 'Documents'}})
        out['one_more_status'] = status
        deep = n * 4 // 5
        pages = [timed(lambda: b.call('GET', '/api/mm/tasks?top=100&skiptoken=%d' % deep))
                 for _ in range(20)]
        out['page_ms'] = statistics.median(pages)
        out['page_ms_max'] = max(pages)
        t0 = time.monotonic()
        listed = len(b.tasks())
        out['list_all_s'] = time.monotonic() - t0
        assert listed == n + (status in (200, 201)), listed
        out['mem_listed'] = memory(pid)
        return out
    finally:
        b.close()


def bulk(a):
    runs = [bulk_run(a) for _ in range(a.runs)]
    mib = lambda r, k, f: r[k][f] / 1024.0  # noqa: E731
    print('bulk CSV of %d tasks: %s s (target < 10); one more task: HTTP %s; page of 100 at '
          '4/5: %s ms (target < 50), max %s ms; all %d listed by pages of 1000: %s s'
          % (a.limit, median_runs([r['bulk_s'] for r in runs]), runs[0]['one_more_status'],
             median_runs([r['page_ms'] for r in runs], '%.1f'),
             median_runs([r['page_ms_max'] for r in runs], '%.1f'), a.limit,
             median_runs([r['list_all_s'] for r in runs])))
    for k, what in (('mem_start', 'at start'), ('mem_bulk', 'after the bulk'),
                    ('mem_listed', 'after listing all')):
        print('spmigd %s: VmRSS %s MiB, VmHWM %s MiB'
              % (what, median_runs([mib(r, k, 'VmRSS') for r in runs], '%.1f'),
                 median_runs([mib(r, k, 'VmHWM') for r in runs], '%.1f')))
    return runs


def main():
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'build-rel')
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('spmigd', nargs='?', default=os.path.join(here, 'server', 'spmigd'))
    ap.add_argument('spmig', nargs='?', default=os.path.join(here, 'client', 'spmig'))
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--files', type=int, default=10000)
    ap.add_argument('--small-tasks', type=int, default=1000)
    ap.add_argument('--agents', type=int, default=4)
    ap.add_argument('--max-tasks', type=int, default=2)
    ap.add_argument('--limit', type=int, default=50000, help='the tenant task limit')
    ap.add_argument('--only', default='one-task,many,bulk')
    ap.add_argument('--timeout', type=float, default=900, help='seconds per run at most')
    a = ap.parse_args()
    only = a.only.split(',')
    print('machine: %d CPUs, load %s; %s' % (os.cpu_count(), ' '.join(
        '%.2f' % x for x in os.getloadavg()), time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())))
    sys.stdout.flush()
    work = tempfile.mkdtemp(prefix='spmig-mm-agent-share-')
    out = {}
    try:
        if 'one-task' in only:
            out['one_task'] = one_task(a, work)
            sys.stdout.flush()
        if 'many' in only:
            out['many'] = many(a, work)
            sys.stdout.flush()
        if 'bulk' in only:
            out['bulk'] = bulk(a)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out['load_end'] = os.getloadavg()
    print(json.dumps(out))


if __name__ == '__main__':
    main()
