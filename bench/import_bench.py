#!/usr/bin/python3
"""Import throughput of spmigd's timer job: one job and four concurrent jobs (each into its
own site) of 10,000 files of 4 KiB, and of 64 files of 16 MiB, encrypted, timed from submit to
the last JobEnd. Reports files/s, MB/s, the server's CPU time for the import and its peak RSS.

Usage: /usr/bin/python3 bench/import_bench.py SPMIGD [--small N] [--large N] [--runs R]
(needs Debian's python3-azure-storage and python3-cryptography). Packages are prepared and
uploaded before the clock starts; only the import is timed. Loopback only, bounded loops.
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'e2e'))
import migration_tool as mt  # noqa: E402

TOKEN = 'bench-admin-token'


def proc_cpu(pid):
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def proc_status(pid, key):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1]) / 1024.0  # MiB
    return 0.0


def start_server(binary, data):
    p = subprocess.Popen([binary, '--data-dir', data, '--sp-port', '0', '--blob-port', '0',
                          '--queue-port', '0', '--admin-token', TOKEN, '--import-workers', '4'],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    ready = json.loads(p.stdout.readline())
    return p, ready


def prepare(sp_url, site_url, nfiles, size, pool):
    """Provisions, builds and uploads one package of nfiles random files; returns the
    Migration, ready to submit."""
    sp = mt.SharePoint(sp_url, TOKEN, site=site_url, accept=mt.NOMETADATA)
    pkg = mt.Package(mt.fetch_target(sp))
    per_folder = 500
    for i in range(nfiles):
        folder = 'f%03d' % (i // per_folder)
        if i % per_folder == 0:
            pkg.add_folder(folder)
        pkg.add_file('%s/file%05d.bin' % (folder, i), os.urandom(size))
    m = mt.Migration(sp, pkg).provision().build()
    data, meta = mt.Container(m.data_uri), mt.Container(m.manifest_uri)
    jobs = [pool.submit(data.put, n, b, key=m.key) for n, b in m.blobs.items()]
    jobs += [pool.submit(meta.put, n, b, key=m.key) for n, b in m.xml.items()]
    for j in jobs:
        j.result()
    m.blobs = None  # the bytes are uploaded; free them
    return m


def run_case(binary, nfiles, size, njobs):
    data = tempfile.mkdtemp(prefix='spmig-import-bench-')
    server, ready = start_server(binary, data)
    try:
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            sites = []
            for k in range(njobs):
                url = '/sites/bench%d' % k
                mt.emu(ready['sp'], TOKEN, 'POST', 'sites', {'url': url, 'title': url})
                sites.append(url)
            migrations = [prepare(ready['sp'], s, nfiles, size, pool) for s in sites]
        cpu0 = proc_cpu(server.pid)
        rss_before = proc_status(server.pid, 'VmRSS')
        t0 = time.monotonic()
        for m in migrations:
            m.submit()
        peak = rss_before
        pending = {m.job_id: m for m in migrations}
        deadline = t0 + 1800
        while pending and time.monotonic() < deadline:
            for jid in list(pending):
                if pending[jid].sp.job_status(jid) == 0:
                    del pending[jid]
            peak = max(peak, proc_status(server.pid, 'VmRSS'))
            time.sleep(0.02)
        elapsed = time.monotonic() - t0
        cpu = proc_cpu(server.pid) - cpu0
        if pending:
            raise RuntimeError('jobs did not end within the deadline')
        # Every job must have imported every file.
        for m in migrations:
            events, _ = m.sp.all_progress(m.job_id)
            ends = [e for e in events if e.get('Event') == 'JobEnd']
            got = int(ends[-1]['FilesCreated'])
            if got != nfiles or int(ends[-1]['TotalErrors']):
                raise RuntimeError('job %s imported %d of %d files' % (m.job_id, got, nfiles))
        total_files = nfiles * njobs
        mb = total_files * size / 1e6
        return {'files_s': total_files / elapsed, 'mb_s': mb / elapsed, 'seconds': elapsed,
                'cpu_s': cpu, 'rss_before': rss_before, 'rss_peak': peak}
    finally:
        server.terminate()
        server.wait(timeout=60)
        shutil.rmtree(data, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('spmigd')
    ap.add_argument('--small', type=int, default=10000)
    ap.add_argument('--large', type=int, default=64)
    ap.add_argument('--runs', type=int, default=3)
    a = ap.parse_args()
    cases = [('4 KiB x %d' % a.small, a.small, 4096), ('16 MiB x %d' % a.large, a.large, 16 << 20)]
    print('| case | jobs | files/s | MB/s | seconds | server CPU s | RSS before → peak MiB | runs (files/s) |')
    print('| --- | --- | --- | --- | --- | --- | --- | --- |')
    for name, n, size in cases:
        for njobs in (1, 4):
            rs = [run_case(a.spmigd, n, size, njobs) for _ in range(a.runs)]
            med = sorted(rs, key=lambda r: r['files_s'])[len(rs) // 2]
            print('| %s | %d | %.0f | %.0f | %.2f | %.2f | %.0f → %.0f | %s |' % (
                name, njobs, med['files_s'], med['mb_s'], med['seconds'], med['cpu_s'],
                med['rss_before'], med['rss_peak'],
                ' / '.join('%.0f' % r['files_s'] for r in rs)), flush=True)


if __name__ == '__main__':
    main()
