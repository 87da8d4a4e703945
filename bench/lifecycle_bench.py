#!/usr/bin/python3
"""
Lifecycle benchmark: provisions N containers (N/2 ProvisionMigrationContainers calls, each
creating two, sent in parallel over keep-alive connections), then jumps the clock 90 days
and times until the sweeper has applied every deadline (GET /_emu/clock deadlinesDue == 0).

    bench/lifecycle_bench.py [--containers 100000] [--threads 16] [--spmigd build/server/spmigd]

Prints one JSON line with the figures; docs/benchmarks.md records them.
"""
import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

TOKEN = 'bench-admin'


def start_spmigd(binary, tmp):
    """spmigd on tmp/data with the bench token, seed 1 and room for many connections; read its
    ready line from proc.stdout."""
    return subprocess.Popen([binary, '--data-dir', os.path.join(tmp, 'data'), '--sp-port', '0',
                             '--blob-port', '0', '--queue-port', '0', '--admin-token', TOKEN,
                             '--seed', '1', '--max-connections', '1024'],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def provision(sp, calls, threads):
    """Makes calls ProvisionMigrationContainers calls on threads keep-alive connections to sp
    (a urlsplit SharePoint URL); returns the seconds taken, exits on any failure."""
    counter = iter(range(calls))
    lock = threading.Lock()
    errors = []

    def worker():
        conn = http.client.HTTPConnection(sp.hostname, sp.port, timeout=60)
        h = {'Authorization': 'Bearer ' + TOKEN,
             'Accept': 'application/json;odata=nometadata', 'Content-Length': '0'}
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            conn.request('POST', '/_api/site/ProvisionMigrationContainers', headers=h)
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                errors.append(r.status)
        conn.close()

    t0 = time.monotonic()
    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        sys.exit('provisioning failed: %d errors (first %s)' % (len(errors), errors[0]))
    return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--containers', type=int, default=100000)
    ap.add_argument('--threads', type=int, default=16)
    ap.add_argument('--spmigd', default=os.path.join(os.path.dirname(__file__), '..', 'build',
                                                     'server', 'spmigd'))
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix='spmigd-bench-')
    proc = start_spmigd(a.spmigd, tmp)
    try:
        ready = json.loads(proc.stdout.readline())
        sp = urllib.parse.urlsplit(ready['sp'])
        calls = a.containers // 2
        provision_s = provision(sp, calls, a.threads)

        def emu(method, path, body=None):
            conn = http.client.HTTPConnection(sp.hostname, sp.port, timeout=60)
            h = {'Authorization': 'Bearer ' + TOKEN, 'Content-Type': 'application/json'}
            conn.request(method, '/_emu/' + path, json.dumps(body) if body else None, h)
            r = conn.getresponse()
            data = r.read()
            conn.close()
            return json.loads(data)

        t0 = time.monotonic()
        due = 4 * calls * 2  # key expiry, de-link, removal, purge per container
        emu('POST', 'clock', {'advance': 'P90D'})
        # While the sweeper works, time a SharePoint read (GET /_api/web) to show requests
        # are not blocked behind it.
        lat = []
        while emu('GET', 'clock')['deadlinesDue'] > 0:
            c0 = time.monotonic()
            conn = http.client.HTTPConnection(sp.hostname, sp.port, timeout=60)
            conn.request('GET', '/_api/web', headers={'Authorization': 'Bearer ' + TOKEN})
            conn.getresponse().read()
            conn.close()
            lat.append(time.monotonic() - c0)
            time.sleep(0.05)
        sweep_s = time.monotonic() - t0
        # A request while nothing is due answers at once; time one during the sweep too.
        states = {}
        for c in emu('GET', 'containers')['containers']:
            states[c['state']] = states.get(c['state'], 0) + 1
        print(json.dumps({'containers': calls * 2, 'provision_s': round(provision_s, 1),
                          'deadlines': due, 'sweep_s': round(sweep_s, 2),
                          'deadlines_per_s': round(due / sweep_s) if sweep_s else None,
                          'read_during_sweep_ms': {
                              'n': len(lat),
                              'median': round(sorted(lat)[len(lat) // 2] * 1000, 1) if lat else None,
                              'max': round(max(lat) * 1000, 1) if lat else None},
                          'states': states}))
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
