#!/usr/bin/python3
"""
Migration Manager benchmark: one bulk CSV of N tasks (POST /api/mm/tasks/bulk), pages of 100
tasks deep in the list (GET /api/mm/tasks?top=100&skiptoken=...), a status-filtered page, the
dispatch delay (an agent long-polls its heartbeat; a task is created; time until the run
order arrives) and a heartbeat that walks every queued task without finding one it may take.

    bench/mm_bench.py [--tasks 49000] [--spmigd build/server/spmigd]

Prints one JSON line with the figures; docs/benchmarks.md records them.
"""
import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.parse

TOKEN = 'bench-admin'


def call(sp, method, path, body=None, token=TOKEN, ctype='application/json'):
    c = http.client.HTTPConnection(sp.hostname, sp.port, timeout=120)
    try:
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        c.request(method, path, data, {'Authorization': 'Bearer ' + token, 'Content-Type': ctype})
        r = c.getresponse()
        raw = r.read()
        return r.status, (json.loads(raw) if raw[:1] == b'{' else raw)
    finally:
        c.close()


def timed(fn):
    t0 = time.monotonic()
    fn()
    return (time.monotonic() - t0) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--tasks', type=int, default=49000)
    ap.add_argument('--spmigd', default=os.path.join(os.path.dirname(__file__), '..', 'build',
                                                     'server', 'spmigd'))
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix='spmigd-bench-')
    proc = subprocess.Popen([a.spmigd, '--data-dir', os.path.join(tmp, 'data'), '--sp-port', '0',
                             '--blob-port', '0', '--queue-port', '0', '--admin-token', TOKEN],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        sp = urllib.parse.urlsplit(json.loads(proc.stdout.readline())['sp'])
        call(sp, 'POST', '/_emu/sites', {'url': '/sites/bench'})
        csv = '\r\n'.join('\\\\srv\\bench\\%06d,,,/sites/bench,Documents,' % i
                          for i in range(a.tasks)).encode()
        out = {'tasks': a.tasks, 'csv_bytes': len(csv)}
        t0 = time.monotonic()
        status, _ = call(sp, 'POST', '/api/mm/tasks/bulk', csv, ctype='text/csv')
        assert status == 201, status
        out['bulk_s'] = round(time.monotonic() - t0, 2)
        deep = a.tasks * 4 // 5
        pages = [timed(lambda: call(sp, 'GET', '/api/mm/tasks?top=100&skiptoken=%d' % deep))
                 for _ in range(20)]
        out['page_ms_median'] = round(statistics.median(pages), 1)
        out['page_ms_max'] = round(max(pages), 1)
        out['status_page_ms'] = round(timed(
            lambda: call(sp, 'GET', '/api/mm/tasks?top=100&status=Queued&skiptoken=%d' % deep)), 1)
        status, reg = call(sp, 'POST', '/api/mm/agents/register', {
            'name': 'bench', 'maxTasks': 1,
            'shares': [{'path': '\\\\srv\\elsewhere', 'readable': True, 'error': None}]})
        cred = reg['credential']
        beat = {'version': 'bench', 'running': [], 'free': 1}
        delays = []
        for i in range(10):
            got = {}

            def poll():
                call(sp, 'POST', '/api/mm/agent/heartbeat?wait=10', beat, token=cred)
                got['t'] = time.monotonic()

            th = threading.Thread(target=poll)
            th.start()
            time.sleep(0.3)
            t0 = time.monotonic()
            _, task = call(sp, 'POST', '/api/mm/tasks', {
                'source': '\\\\srv\\elsewhere\\%d' % i,
                'destination': {'site': '/sites/bench', 'library': 'Documents'}})
            th.join()
            delays.append((got['t'] - t0) * 1000)
            call(sp, 'POST', '/api/mm/agent/tasks/%s/end' % task['id'],
                 {'status': 'Completed', 'counts': {}}, token=cred)
        out['dispatch_ms_median'] = round(statistics.median(delays), 1)
        out['dispatch_ms_max'] = round(max(delays), 1)
        out['idle_heartbeat_ms'] = round(timed(
            lambda: call(sp, 'POST', '/api/mm/agent/heartbeat', beat, token=cred)), 1)
        with open('/proc/%d/status' % proc.pid) as f:
            rss = [l for l in f if l.startswith('VmRSS')][0].split()[1]
        out['rss_kib'] = int(rss)
        print(json.dumps(out))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
