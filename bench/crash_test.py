#!/usr/bin/env python3
"""Crash test: kills spmigd with SIGKILL at random points of a mixed write load and a running
migration, restarts it on the same data directory, and checks every acknowledged write.

Each round starts spmigd (or restarts it), runs writer threads for a random time, kills the
server while they are in full flight, restarts it and checks the ledger:

- blobs (Put Blob small and large, Put Block + Put Block List, overwrites, deletes, each
  thread on names of its own): a name whose last write was acknowledged holds exactly those
  bytes (or is gone, for a delete); a write cut by the kill may have happened or not, never
  half;
- queue messages: every acknowledged Put Message that no acknowledged Delete Message removed
  is there again; no acknowledged delete comes back;
- a migration by the real `spmig migrate` of a generated share, killed with the server: run
  again after the restart, it completes and every file reads back through REST.

Bounded: --rounds rounds of at most --seconds of load each, every request with a timeout, the
whole run under --deadline seconds. Exits 0 when every check held, 1 otherwise, and prints
what it checked.

    build/server/spmigd and build/client/spmig (meson) must exist; run with Debian's python3:
    /usr/bin/python3 bench/crash_test.py --rounds 20 --seconds 3
"""
import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'e2e'))
import harness  # noqa: E402  (the e2e helpers: spmigd runner, SharedKey signing, raw HTTP)

TOKEN = 'crash-admin'
ABSENT = None  # a blob that is not there


def digest(data):
    return hashlib.sha256(data).hexdigest()


class Ledger:
    """What each name may hold after a crash: the last acknowledged state, plus the states of
    writes that were cut (in doubt)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {}     # name -> digest or ABSENT
        self.doubt = {}     # name -> set of digests (or ABSENT) a cut write may have left
        self.writes = 0

    def ack(self, name, state):
        with self.lock:
            self.acked[name] = state
            self.doubt.pop(name, None)
            self.writes += 1

    def cut(self, name, state):
        with self.lock:
            self.doubt.setdefault(name, set()).add(state)

    def allowed(self, name):
        with self.lock:
            return {self.acked.get(name, ABSENT)} | self.doubt.get(name, set())


class Load:
    """Writer threads against one running server, until stop is set."""

    def __init__(self, server, container, queue, ledger, qledger, seed):
        self.server, self.container, self.queue = server, container, queue
        self.ledger, self.qledger = ledger, qledger
        self.stop = threading.Event()
        self.rnd = random.Random(seed)
        self.errors = []

    def url(self, name, query=''):
        return '%s/%s/%s%s' % (self.server.blob_account_url, self.container,
                               urllib.parse.quote(name), query)

    def put_blob(self, name, data):
        r = harness.request('PUT', self.url(name), auth='sharedkey', body=data,
                            headers={'x-ms-blob-type': 'BlockBlob'}, timeout=10)
        return r.status == 201

    def put_blocks(self, name, data, rnd):
        ids = []
        for i in range(0, len(data), 64 * 1024):
            bid = harness.base64.b64encode(b'b%05d' % len(ids)).decode()
            r = harness.request('PUT', self.url(name, '?comp=block&blockid=%s' %
                                                urllib.parse.quote(bid, safe='')),
                                auth='sharedkey', body=data[i:i + 64 * 1024], timeout=10)
            if r.status != 201:
                return False
            ids.append(bid)
        body = '<BlockList>%s</BlockList>' % ''.join('<Latest>%s</Latest>' % b for b in ids)
        r = harness.request('PUT', self.url(name, '?comp=blocklist'), auth='sharedkey',
                            body=body, timeout=10)
        return r.status == 201

    def delete_blob(self, name):
        r = harness.request('DELETE', self.url(name), auth='sharedkey', timeout=10)
        return r.status in (202, 404)

    def blob_writer(self, tid):
        rnd = random.Random(self.rnd.random())
        names = ['t%d/blob-%02d' % (tid, i) for i in range(12)]
        while not self.stop.is_set():
            name = rnd.choice(names)
            kind = rnd.random()
            if kind < 0.15:
                state, op = ABSENT, lambda: self.delete_blob(name)
            else:
                size = rnd.choice([0, 1, 100, 4096, 130 * 1024, 300 * 1024])
                data = rnd.randbytes(size)
                state = digest(data)
                if kind < 0.35 and size > 64 * 1024:
                    op = (lambda d: lambda: self.put_blocks(name, d, rnd))(data)
                else:
                    op = (lambda d: lambda: self.put_blob(name, d))(data)
            try:
                ok = op()
            except OSError:
                ok = None  # the connection broke: the server is gone
            if ok:
                self.ledger.ack(name, state)
            elif ok is None:
                self.ledger.cut(name, state)
                return
            # A refusal (not ok) changed nothing; go on.

    def queue_writer(self, tid):
        rnd = random.Random(self.rnd.random())
        base = '%s/%s/messages' % (self.server.queue_account_url, self.queue)
        n = 0
        while not self.stop.is_set():
            if rnd.random() < 0.7:
                text = 'm-%d-%d-%d' % (tid, n, rnd.getrandbits(32))
                n += 1
                body = '<QueueMessage><MessageText>%s</MessageText></QueueMessage>' % text
                try:
                    r = harness.request('POST', base, auth='sharedkey', body=body, timeout=10)
                except OSError:
                    self.qledger.cut(text, 'sent')
                    return
                if r.status == 201:
                    self.qledger.ack(text, 'sent')
            else:
                try:
                    r = harness.request('GET', base + '?numofmessages=4&visibilitytimeout=1',
                                        auth='sharedkey', timeout=10)
                    if r.status != 200:
                        continue
                    root = r.xml()
                    for m in root.findall('QueueMessage'):
                        text = m.findtext('MessageText')
                        if not text.startswith('m-%d-' % tid):
                            continue  # another writer's: leave it
                        mid, pop = m.findtext('MessageId'), m.findtext('PopReceipt')
                        try:
                            d = harness.request('DELETE', '%s/%s?popreceipt=%s' % (
                                base, mid, urllib.parse.quote(pop, safe='')),
                                auth='sharedkey', timeout=10)
                        except OSError:
                            self.qledger.cut(text, ABSENT)  # deleted or not: in doubt
                            raise
                        if d.status == 204:
                            self.qledger.ack(text, ABSENT)
                except OSError:
                    return


def migrate(spmig, server, share, state, reports, library, timeout=120):
    return subprocess.Popen([spmig, 'migrate', share, '--site', server.sp, '--token', TOKEN,
                             '--library', library, '--state-dir', state, '--report-dir',
                             reports, '--no-progress'],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_share(root, n, rnd):
    files = {}
    for i in range(n):
        rel = 'd%d/file-%03d.bin' % (i % 5, i)
        data = rnd.randbytes(rnd.choice([0, 10, 5000, 200 * 1024]))
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
        with open(os.path.join(root, rel), 'wb') as fh:
            fh.write(data)
        files[rel] = data
    return files


def check_blobs(server, container, ledger, problems):
    names = set(ledger.acked) | set(ledger.doubt)
    for name in sorted(names):
        url = '%s/%s/%s' % (server.blob_account_url, container, urllib.parse.quote(name))
        r = harness.request('GET', url, auth='sharedkey', timeout=30)
        got = digest(r.body) if r.status == 200 else ABSENT if r.status == 404 else 'error %d' % r.status
        if got not in ledger.allowed(name):
            problems.append('blob %s: holds %s, allowed %s' % (name, got, ledger.allowed(name)))
    return len(names)


def check_queue(server, queue, qledger, problems):
    base = '%s/%s/messages' % (server.queue_account_url, queue)
    time.sleep(1.2)  # messages received before the kill (visibility 1 s) are visible again
    seen, taken = set(), []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r = harness.request('GET', base + '?numofmessages=32&visibilitytimeout=60',
                            auth='sharedkey', timeout=30)
        msgs = r.xml().findall('QueueMessage') if r.status == 200 else []
        if not msgs:
            break
        for m in msgs:
            seen.add(m.findtext('MessageText'))
            taken.append((m.findtext('MessageId'), m.findtext('PopReceipt')))
    # Make them visible again for the rounds to come.
    for mid, pop in taken:
        harness.request('PUT', '%s/%s?popreceipt=%s&visibilitytimeout=0' % (
            base, mid, urllib.parse.quote(pop, safe='')), auth='sharedkey', body=b'',
            timeout=30)
    names = set(qledger.acked) | set(qledger.doubt)
    for text in names:
        present = 'sent' if text in seen else ABSENT
        if present not in qledger.allowed(text):
            problems.append('message %s: %s, allowed %s' % (text, present, qledger.allowed(text)))
    return len(names)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--rounds', type=int, default=10)
    ap.add_argument('--seconds', type=float, default=3.0, help='longest load before a kill')
    ap.add_argument('--deadline', type=float, default=900, help='stop after this many seconds')
    ap.add_argument('--seed', type=int, default=None)
    ap.add_argument('--spmigd', default=os.path.join(HERE, '..', 'build', 'server', 'spmigd'))
    ap.add_argument('--spmig', default=os.path.join(HERE, '..', 'build', 'client', 'spmig'))
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rnd = random.Random(seed)
    os.environ['SPMIGD'] = os.path.abspath(args.spmigd)
    start = time.monotonic()
    server = harness.Server(['--admin-token', TOKEN])
    tmp = tempfile.mkdtemp(prefix='spmig-crash-')
    problems = []
    try:
        container, queue = 'crash', 'crash'
        r = harness.request('PUT', '%s/%s?restype=container' % (server.blob_account_url,
                                                               container), auth='sharedkey')
        assert r.status == 201, r.status
        r = harness.request('PUT', '%s/%s' % (server.queue_account_url, queue), auth='sharedkey')
        assert r.status == 201, r.status
        ledger, qledger = Ledger(), Ledger()
        share = os.path.join(tmp, 'share')
        files = make_share(share, 60, rnd)
        state, reports = os.path.join(tmp, 'state'), os.path.join(tmp, 'reports')
        kills = checked_blobs = checked_msgs = 0
        for rnd_no in range(args.rounds):
            if time.monotonic() - start > args.deadline:
                break
            load = Load(server, container, queue, ledger, qledger, rnd.random())
            threads = [threading.Thread(target=load.blob_writer, args=(i,)) for i in range(3)]
            threads += [threading.Thread(target=load.queue_writer, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            mig = migrate(args.spmig, server, share, state, reports, 'Documents') \
                if rnd_no % 2 == 0 else None
            time.sleep(rnd.uniform(0.2, args.seconds))
            server.kill9()
            kills += 1
            load.stop.set()
            for t in threads:
                t.join(30)
            if mig:
                mig.wait(60)
            server.start()
            checked_blobs = check_blobs(server, container, ledger, problems)
            checked_msgs = check_queue(server, queue, qledger, problems)
        # The migration, run again on the restarted server, completes with every file.
        p = migrate(args.spmig, server, share, state, reports, 'Documents')
        _, err = p.communicate(timeout=300)
        if p.returncode != 0:
            problems.append('spmig migrate after the crashes exited %d: %s'
                            % (p.returncode, err.decode(errors='replace')[-2000:]))
        for rel, data in files.items():
            url = "%s/_api/web/GetFileByServerRelativeUrl('%s')/$value" % (
                server.sp, urllib.parse.quote('/Shared Documents/' + rel))
            r = harness.request('GET', url, headers={'Authorization': 'Bearer ' + TOKEN},
                                version=None, timeout=30)
            if r.status != 200 or r.body != data:
                problems.append('file %s: %d, %d bytes' % (rel, r.status, len(r.body)))
        server.stop()
        print(json.dumps({'seed': seed, 'kills': kills, 'acknowledged writes': ledger.writes +
                          qledger.writes, 'blobs checked': checked_blobs,
                          'messages checked': checked_msgs, 'files checked': len(files),
                          'problems': len(problems), 'seconds': round(time.monotonic() - start, 1)}))
    finally:
        server.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    for p in problems[:50]:
        print('PROBLEM', p)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
