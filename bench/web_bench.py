#!/usr/bin/python3
"""
Migration center benchmark: fills spmigd with 50,000 tasks (one bulk CSV) and 100,000
provisioned containers (lifecycle_bench's provisioning), then loads the page in headless
Chromium, signed in, and times from the start of navigation until the first view's table
shows its rows (and, apart, the time the server takes for that view's requests): the Tasks view and the Containers and queues view, five loads each. Also the
page's own size, gzip-compressed as spmigd sends it.

    bench/web_bench.py [--tasks 50000] [--containers 100000] [--spmigd build/server/spmigd]

Needs Debian's chromium, chromium-driver and python3-selenium. Prints one JSON line;
docs/benchmarks.md records it.
"""
import argparse
import json
import os
import shutil
import tempfile
import time
import urllib.parse

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from lifecycle_bench import TOKEN, provision, start_spmigd
from mm_bench import call

PAGE_FILES = ('/', '/app.css', '/app.js', '/api.js', '/dom.js', '/views.js', '/tasks.js',
              '/storage.js')


def page_bytes(sp):
    import http.client
    total = 0
    for p in PAGE_FILES:
        c = http.client.HTTPConnection(sp.hostname, sp.port, timeout=30)
        c.request('GET', p, headers={'Accept-Encoding': 'gzip'})
        total += len(c.getresponse().read())
        c.close()
    return total


def load_ms(driver, url, view, rows_css):
    """Loads url#view with the token already in sessionStorage; ms until rows_css shows."""
    driver.get('about:blank')
    t0 = time.monotonic()
    driver.get(url + '#' + view)
    while not driver.execute_script('return document.querySelectorAll(arguments[0]).length',
                                    rows_css):
        if time.monotonic() - t0 > 30:
            raise SystemExit('the %s view did not show in 30 s' % view)
        time.sleep(0.005)
    return (time.monotonic() - t0) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--tasks', type=int, default=50000)
    ap.add_argument('--containers', type=int, default=100000)
    ap.add_argument('--threads', type=int, default=16)
    ap.add_argument('--spmigd', default=os.path.join(os.path.dirname(__file__), '..', 'build',
                                                     'server', 'spmigd'))
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix='spmigd-bench-')
    proc = start_spmigd(a.spmigd, tmp)
    driver = None
    try:
        base = json.loads(proc.stdout.readline())['sp']
        sp = urllib.parse.urlsplit(base)
        call(sp, 'POST', '/_emu/sites', {'url': '/sites/bench'})
        csv = '\r\n'.join('\\\\srv\\bench\\%06d,,,/sites/bench,Documents,' % i
                          for i in range(a.tasks)).encode()
        status, _ = call(sp, 'POST', '/api/mm/tasks/bulk', csv, ctype='text/csv')
        if status != 201:
            raise SystemExit('bulk upload failed: %d' % status)
        provision_s = provision(sp, a.containers // 2, a.threads)

        opts = webdriver.ChromeOptions()
        opts.binary_location = shutil.which('chromium')
        for arg in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'):
            opts.add_argument(arg)
        driver = webdriver.Chrome(service=Service(shutil.which('chromedriver')), options=opts)
        driver.get(base + '/')
        driver.execute_script('sessionStorage.setItem("spmig.token", arguments[0])', TOKEN)
        out = {'tasks': a.tasks, 'containers': a.containers // 2 * 2,
               'provision_s': round(provision_s, 1), 'page_gzip_bytes': page_bytes(sp)}
        # What the server spends on each view's first requests, apart from the browser.
        for name, paths in (('tasks', ['/_emu/clock', '/api/mm/tasks?top=50']),
                            ('containers', ['/_emu/clock', '/_emu/containers?top=50',
                                            '/_emu/audit?top=200'])):
            ms = []
            for _ in range(5):
                t0 = time.monotonic()
                for p in paths:
                    call(sp, 'GET', p)
                ms.append((time.monotonic() - t0) * 1000)
            out[name + '_api_ms'] = round(sorted(ms)[2], 1)
        for view in ('tasks', 'containers'):
            ms = sorted(load_ms(driver, base + '/', view, 'main table tbody tr td:not(.empty)')
                        for _ in range(5))
            out[view + '_first_view_ms'] = {'median': round(ms[2]), 'max': round(ms[-1])}
        print(json.dumps(out))
    finally:
        if driver:
            driver.quit()
        proc.terminate()
        proc.wait(timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
