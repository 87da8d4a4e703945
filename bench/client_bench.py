#!/usr/bin/python3
"""The client's speed: `spmig migrate` of a generated share, from start to the last JobEnd,
against a release spmigd on a fresh data dir, side by side with the floor for this machine:
reading every byte of the share and encrypting it once with AES-256-CBC
(`tar -cf - SHARE | openssl enc -aes-256-cbc ... >/dev/null`). Reports seconds, MB/s,
items/s (files and folders), the client's and the server's CPU time and the client's peak RSS.

Two shares: "mixed" (--files files, about --gib GiB: mostly small files of 1 to 64 KiB plus
a few large ones) and "small" (--files files of 4 KiB). Each is measured --runs times, a floor
run and an spmig run in turn; the medians are reported.

Needs GNU time (/usr/bin/time, Debian's `time`), tar and openssl.
Usage: /usr/bin/python3 bench/client_bench.py SPMIGD SPMIG [--files N] [--gib G] [--runs R]
Loopback only; every wait is bounded by a timeout.
"""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time

TOKEN = 'bench-admin-token'
TIMEOUT = 1800


def make_mixed(root, nfiles, gib, seed=1):
    rnd = random.Random(seed)
    n_large = 8
    large_total = int(gib * (1 << 30) * 0.75)
    for d in range(nfiles // 200 + 1):
        os.makedirs(os.path.join(root, 'dept%02d' % (d % 10), 'folder%03d' % d), exist_ok=True)
    total = 0
    for i in range(nfiles - n_large):
        d = i // 200
        size = rnd.choice((1024, 4096, 8192, 16384, 32768, 65536))
        with open(os.path.join(root, 'dept%02d' % (d % 10), 'folder%03d' % d,
                               'doc%05d.bin' % i), 'wb') as f:
            f.write(rnd.randbytes(size))
        total += size
    os.makedirs(os.path.join(root, 'media'), exist_ok=True)
    chunk = rnd.randbytes(1 << 20)
    for i in range(n_large):
        size = large_total // n_large
        with open(os.path.join(root, 'media', 'video%02d.mp4' % i), 'wb') as f:
            left = size
            while left > 0:
                f.write(chunk[:min(left, len(chunk))])
                left -= len(chunk)
        total += size
    return total


def make_small(root, nfiles, seed=2):
    rnd = random.Random(seed)
    for i in range(nfiles):
        d = os.path.join(root, 'folder%03d' % (i // 500))
        if i % 500 == 0:
            os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, 'file%05d.txt' % i), 'wb') as f:
            f.write(rnd.randbytes(4096))
    return nfiles * 4096


def floor_seconds(share):
    key, iv = os.urandom(32).hex(), os.urandom(16).hex()
    t = time.monotonic()
    subprocess.run('tar -cf - -C %s . | openssl enc -aes-256-cbc -K %s -iv %s >/dev/null'
                   % (share, key, iv), shell=True, check=True, timeout=TIMEOUT)
    return time.monotonic() - t


def start_server(binary, data):
    p = subprocess.Popen([binary, '--data-dir', data, '--sp-port', '0', '--blob-port', '0',
                          '--queue-port', '0', '--admin-token', TOKEN, '--import-workers', '2'],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return p, json.loads(p.stdout.readline())


def run_client(spmigd, spmig, share, parallel):
    data = tempfile.mkdtemp(prefix='spmig-client-bench-')
    server, ready = start_server(spmigd, data)
    state = tempfile.mkdtemp(prefix='spmig-client-state-')
    try:
        usage = os.path.join(state, 'usage')
        t = time.monotonic()
        p = subprocess.run(['/usr/bin/time', '-f', '%M %U %S', '-o', usage, spmig, 'migrate', share, '--site', ready['sp'], '--token', TOKEN,
                            '--state-dir', state, '--report-dir', os.path.join(state, 'r'),
                            '--parallel', str(parallel), '--no-progress'],
                           capture_output=True, timeout=TIMEOUT)
        secs = time.monotonic() - t
        if p.returncode != 0:
            raise SystemExit('spmig failed (%d): %s' % (p.returncode, p.stderr[-2000:]))
        with open(os.path.join(state, 'r', 'summary.json')) as f:
            summary = json.load(f)
        with open(usage) as f:
            rss_kb, user, system = f.read().split()[-3:]
        with open('/proc/%d/stat' % server.pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        server_cpu = (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')
        return secs, float(user) + float(system), int(rss_kb) / 1024.0, summary, server_cpu
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)
        os.sync()  # nor the removal of this run's data with the next run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('spmigd')
    ap.add_argument('spmig')
    ap.add_argument('--files', type=int, default=10000)
    ap.add_argument('--gib', type=float, default=1.0)
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--parallel', type=int, default=4)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix='spmig-client-share-')
    try:
        print('| share | files | MB | floor s (runs) | spmig s (runs) | spmig / floor | MB/s | '
              'items/s | client CPU s | server CPU s | client peak RSS MiB |')
        print('|---|---|---|---|---|---|---|---|---|---|---|')
        for name in ('mixed', 'small'):
            share = os.path.join(work, name)
            os.makedirs(share)
            size = (make_mixed(share, a.files, a.gib) if name == 'mixed'
                    else make_small(share, a.files))
            os.sync()  # the share's bytes on disk: no writeback competes with the runs
            floor_seconds(share)  # warm the page cache for both
            # Floor and spmig alternate, so both see the machine in the same state (a shared
            # VM's speed drifts by a fifth within an hour).
            floors, runs = [], []
            for _ in range(a.runs):
                floors.append(floor_seconds(share))
                runs.append(run_client(a.spmigd, a.spmig, share, a.parallel))
            secs = [r[0] for r in runs]
            items = runs[0][3]['migrated']
            med, fmed = statistics.median(secs), statistics.median(floors)
            print('| %s | %d | %.0f | %.2f (%s) | %.2f (%s) | %.2fx | %.0f | %.0f | %.1f | %.1f | %.1f |'
                  % (name, a.files, size / 1e6, fmed, ' / '.join('%.2f' % x for x in floors),
                     med, ' / '.join('%.2f' % x for x in secs), med / fmed, size / 1e6 / med,
                     items / med, statistics.median(r[1] for r in runs),
                     statistics.median(r[4] for r in runs), max(r[2] for r in runs)))
            shutil.rmtree(share)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
