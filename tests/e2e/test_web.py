"""
test_web.py: the Migration center (spmigd's page at /) in a real browser: Debian's chromium
and chromium-driver through python3-selenium, against the real spmigd and a real `spmig agent`.

One server and one browser for the whole file (starting Chromium is the slow part); the tests
run in order and each leaves what the next needs. They check the page's headers (CSP, nosniff,
gzip, ETag), sign-in with a token kept out of the URL, creating a task through the form and
watching it complete, the details panel and its report against the API's, a bulk upload with
one bad line (its error shown, nothing created), pause and run, the clock moving a container
along its timeline, the audit log showing a refused access, names with markup shown as text,
a user who is not an admin seeing no admin actions, and keyboard-only navigation. Screenshots
of each view go to $SPMIG_SCREENSHOTS (default: a temp dir); the first view's load time is
printed for docs/benchmarks.md.

Skipped when chromium, chromedriver or selenium is missing. Run with /usr/bin/python3.
"""
import gzip
import json
import os
import shutil
import tempfile
import time
import unittest
import urllib.request

from harness import Server
from test_agent import Agent

try:
    from selenium import webdriver
    from selenium.common.exceptions import (NoAlertPresentException, NoSuchElementException,
                                            StaleElementReferenceException)
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait
    HAVE_SELENIUM = True
except ImportError:
    HAVE_SELENIUM = False

ADMIN = 'web-admin-token'
MARKUP_TASK = '<img src=x onerror=alert(1)>'
MARKUP_FILE = '&lt;i&gt;x.txt'  # shown as typed; parsed as HTML it would read "<i>x.txt"
AXE = os.environ.get('SPMIG_AXE') or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), 'js', 'node_modules', 'axe-core', 'axe.min.js')
CHROMIUM = shutil.which('chromium')
DRIVER = shutil.which('chromedriver')
WAIT = 60


def http(method, url, body=None, token=ADMIN, headers=None):
    h = dict(headers or {})
    if token:
        h['Authorization'] = 'Bearer ' + token
    if body is not None:
        h['Content-Type'] = 'application/json'
        body = json.dumps(body).encode()
    req = urllib.request.Request(url, data=body, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@unittest.skipUnless(HAVE_SELENIUM and CHROMIUM and DRIVER,
                     'needs chromium, chromium-driver and python3-selenium')
class MigrationCenterTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='spmig-web-')
        cls.shots = os.environ.get('SPMIG_SCREENSHOTS') or os.path.join(cls.tmp, 'shots')
        os.makedirs(cls.shots, exist_ok=True)
        cls.downloads = os.path.join(cls.tmp, 'downloads')
        os.makedirs(cls.downloads)
        cls.share = os.path.join(cls.tmp, 'share')
        os.makedirs(os.path.join(cls.share, 'reports'))
        for i in range(6):
            with open(os.path.join(cls.share, 'reports', 'r%d.txt' % i), 'wb') as f:
                f.write(b'report %d\n' % i * 50)
        with open(os.path.join(cls.share, MARKUP_FILE), 'wb') as f:
            f.write(b'markup in a name')
        cls.server = Server(['--admin-token', ADMIN])
        cls.sp = cls.server.sp
        cls.agent = Agent(cls.sp, 'web-agent', [cls.share], os.path.join(cls.tmp, 'agent'),
                          token=ADMIN, max_tasks=2)
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
                  '--window-size=1400,1000', '--lang=en-US'):
            opts.add_argument(a)
        opts.add_experimental_option('prefs', {'download.default_directory': cls.downloads,
                                               'download.prompt_for_download': False})
        opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
        cls.driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
        cls.driver.implicitly_wait(0)

    @classmethod
    def tearDownClass(cls):
        cls.driver.quit()
        cls.agent.stop()
        cls.server.stop()
        cls.server.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # -- helpers --

    def wait(self, pred, what, timeout=WAIT):
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1, ignored_exceptions=(
                StaleElementReferenceException, NoSuchElementException)).until(lambda d: pred())
        except Exception:
            self.shot('failed')
            raise AssertionError('timed out waiting for ' + what)

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def click(self, css, by=By.CSS_SELECTOR if HAVE_SELENIUM else None):
        """Clicks css, finding it again if a live refresh replaced it meanwhile."""
        self.wait(lambda: self.driver.find_element(by, css).click() or True, 'to click ' + css)

    def text(self, css='main'):
        return self.find(css).text

    def shot(self, name):
        self.driver.save_screenshot(os.path.join(self.shots, 'web-%s.png' % name))

    def sign_in(self, token):
        d = self.driver
        d.get(self.sp + '/')
        self.wait(lambda: self.find('#token').is_displayed(), 'the sign-in form')
        self.find('#token').send_keys(token + Keys.ENTER)
        self.wait(lambda: self.find('#app').is_displayed() and self.text('#who'), 'the signed-in page')
        self.assertNotIn(token, d.current_url)
        self.assertEqual(d.execute_script('return document.cookie'), '')

    def go(self, view):
        self.click('#nav-' + view)
        self.wait(lambda: self.find('#nav-' + view).get_attribute('aria-current') == 'page', view)

    def api(self, method, path, body=None, token=ADMIN):
        status, _, raw = http(method, self.sp + path, body, token)
        return status, (json.loads(raw) if raw and raw[:1] in (b'{', b'[') else raw)

    def task_status(self, tid):
        return self.api('GET', '/api/mm/tasks/' + tid)[1]['status']

    def no_alert(self):
        try:
            self.driver.switch_to.alert.dismiss()
        except NoAlertPresentException:
            return
        self.fail('an alert ran: markup was run as code')

    # -- the tests, in order --

    def test_01_headers(self):
        status, h, body = http('GET', self.sp + '/', token=None,
                               headers={'Accept-Encoding': 'gzip'})
        self.assertEqual(status, 200)
        csp = h['Content-Security-Policy']
        self.assertIn("default-src 'self'", csp)
        self.assertIn("frame-ancestors 'none'", csp)
        self.assertNotIn('unsafe', csp)
        self.assertEqual(h['X-Content-Type-Options'], 'nosniff')
        self.assertEqual(h['Content-Encoding'], 'gzip')
        self.assertIn(b'Migration center', gzip.decompress(body))
        self.assertEqual(h['Cache-Control'], 'no-cache')
        status, h2, body = http('GET', self.sp + '/app.js', token=None,
                                headers={'If-None-Match': h['ETag']})
        self.assertEqual(status, 200)  # the plain variant has its own tag
        status, _, _ = http('GET', self.sp + '/app.js', token=None,
                            headers={'If-None-Match': h2['ETag']})
        self.assertEqual(status, 304)
        self.assertTrue(h2['Content-Type'].startswith('text/javascript'))
        total = sum(len(http('GET', self.sp + p, token=None,
                             headers={'Accept-Encoding': 'gzip'})[2])
                    for p in ('/', '/app.css', '/app.js', '/api.js', '/dom.js', '/views.js',
                              '/tasks.js', '/storage.js'))
        self.assertLess(total, 200 * 1024)
        print('page size, gzip: %d bytes' % total)
        # A refused access, for the audit log test.
        self.assertEqual(http('GET', self.sp + '/_emu/clock', token='not-a-token')[0], 401)

    def test_02_sign_in_and_agents(self):
        d = self.driver
        d.get(self.sp + '/')
        self.find('#token').send_keys('wrong' + Keys.ENTER)
        self.wait(lambda: 'not valid' in self.text('#sign-in-error'), 'the refusal')
        t0 = time.monotonic()
        self.sign_in(ADMIN)
        self.wait(lambda: 'web-agent' in self.text(), 'the agent in Agents')
        print('first view usable after %.0f ms' % ((time.monotonic() - t0) * 1000))
        self.assertIn('spmig agent --server ' + self.sp, self.text('#agent-command'))
        self.shot('agents')

    def test_03_add_task_and_watch_it(self):
        self.go('tasks')
        self.find('#add-task').click()
        form = self.find('#task-form')
        form.find_element(By.NAME, 'name').send_keys(MARKUP_TASK)
        form.find_element(By.NAME, 'source').send_keys(self.share)
        form.find_element(By.CSS_SELECTOR, 'button[type=submit]').click()
        self.wait(lambda: MARKUP_TASK in self.text('main table'), 'the new task in the list')
        self.no_alert()
        self.assertEqual(self.driver.find_elements(By.CSS_SELECTOR, 'main table img'), [])
        tasks = self.api('GET', '/api/mm/tasks')[1]['value']
        self.__class__.task_id = [t for t in tasks if t['name'] == MARKUP_TASK][0]['id']
        self.click('[data-key="open-%s"]' % self.task_id)
        self.wait(lambda: self.text('.details .state') == 'Completed', 'the task to complete')
        api_task = self.api('GET', '/api/mm/tasks/' + self.task_id)[1]
        p = api_task['progress']
        self.assertIn('%d file(s) out of %d migrated' % (p['filesMigrated'], p['filesTotal']),
                      self.text('.details'))
        self.assertEqual(p['filesMigrated'], 7, api_task)
        self.assertEqual(int(self.find('.details progress').get_attribute('value')), 100)
        self.shot('tasks')
        self.wait(lambda: self.find('#download-task-report').is_enabled(), 'reports')
        self.find('#download-task-report').click()
        path = os.path.join(self.downloads, 'TaskReport-%s.zip' % self.task_id)
        self.wait(lambda: os.path.exists(path) and os.path.getsize(path) > 0, 'the download')
        _, _, want = http('GET', self.sp + '/api/mm/tasks/%s/reports.zip' % self.task_id)
        with open(path, 'rb') as f:
            self.assertEqual(f.read(), want)
        self.no_alert()

    def test_04_bulk_upload_with_a_bad_line(self):
        before = len(self.api('GET', '/api/mm/tasks')[1]['value'])
        csv = os.path.join(self.tmp, 'tasks.csv')
        with open(csv, 'w') as f:
            f.write('%s,,,/,Documents,bulk1\n,,,/,Documents,bulk2\n' % self.share)
        self.find('#bulk-upload').click()
        self.find('#bulk-form input[type=file]').send_keys(csv)
        self.find('#bulk-form button[type=submit]').click()
        self.wait(lambda: 'Task 2' in self.text('#bulk-form'), "the bad line's error")
        self.assertIn('Nothing was created', self.text('#bulk-form'))
        self.assertEqual(len(self.api('GET', '/api/mm/tasks')[1]['value']), before)
        self.shot('bulk-upload')

    def test_05_pause_and_run(self):
        status, t = self.api('POST', '/api/mm/tasks', {
            'name': 'later', 'source': self.share, 'schedule': '2099-01-01T00:00:00Z',
            'destination': {'site': '/', 'library': 'Documents', 'folder': 'later'}})
        self.assertEqual(status, 201, t)
        self.wait(lambda: 'later' in self.text('main table'), 'the scheduled task')
        box = '[data-key="sel-%s"]' % t['id']
        self.click(box)
        self.find('#tasks-pause').click()
        self.wait(lambda: self.task_status(t['id']) == 'Paused', 'the pause')
        self.wait(lambda: 'Paused' in self.text('main table'), 'Paused in the list')
        self.find('#tasks-run').click()
        self.wait(lambda: self.task_status(t['id']) in ('Queued', 'InProgress', 'Completed'),
                  'the run')
        Select(self.find('main select')).select_by_value('Paused')
        self.wait(lambda: 'later' not in self.text('main table'), 'the status filter')
        Select(self.find('main select')).select_by_value('')

    def test_05b_scans(self):
        self.go('scans')
        self.find('#scan-sources').send_keys(self.share)
        self.find('#scan-add').click()
        # The view shows where the scan ends; scans themselves are Migration Manager's and the
        # agent's business (test_mm, test_agent).
        # A scan has a source and no destination; the agent reads the share and nothing else,
        # and the scan ends ready (Failed would read "Not ready").
        self.wait(lambda: any(w in self.text('main table')
                              for w in ('Ready to migrate', 'Ready with issues', 'Not ready')),
                  'the scan to finish')
        text = self.wait(lambda: self.text('main table'), 'the scans table')
        self.assertNotIn('Not ready', text)
        self.assertNotIn('Failed', text)
        self.shot('scans')

    def test_06_jobs(self):
        self.go('jobs')
        self.wait(lambda: 'Ended' in self.text('main table'), 'an ended job')
        self.click('main table button')
        self.wait(lambda: 'JobEnd' in self.text(), 'the event log')
        self.assertIn('JobQueued', self.text())
        self.shot('jobs')
        # The API behind the view (GET /_emu/jobs): paged newest first, events in order.
        status, page = self.api('GET', '/_emu/jobs?top=1')
        self.assertEqual(status, 200)
        self.assertEqual(len(page['value']), 1)
        self.assertTrue(page['nextLink'].startswith('/_emu/jobs?top=1&skiptoken=1'))
        status, rest = self.api('GET', page['nextLink'])
        self.assertEqual(status, 200)
        self.assertNotEqual(rest['value'][0]['id'], page['value'][0]['id'])
        self.assertGreaterEqual(page['value'][0]['created'], rest['value'][0]['created'])
        jid = page['value'][0]['id']
        status, ev = self.api('GET', '/_emu/jobs/%s/events' % jid)
        self.assertEqual(status, 200)
        self.assertEqual(ev['value'][0]['Event'], 'JobQueued')
        self.assertEqual(ev['value'][-1]['Event'], 'JobEnd')
        status, more = self.api('GET', '/_emu/jobs/%s/events?after=%d' % (jid, ev['last']))
        self.assertEqual((status, more['value']), (200, []))
        self.assertEqual(self.api('GET', '/_emu/jobs/nope/events')[0], 404)
        self.assertEqual(self.api('GET', '/_emu/jobs?top=0')[0], 400)
        self.assertEqual(self.api('POST', '/_emu/jobs', {})[0], 405)

    def test_07_clock_and_timeline(self):
        self.go('containers')
        self.wait(lambda: 'active' in self.text('main table'), 'active containers')
        before = self.text('#clock-now')
        self.find('#advance-P3D').click()
        self.wait(lambda: 'key-expired' in self.text('main table'), 'the key to expire')
        self.assertNotEqual(self.text('#clock-now'), before)
        self.assertIn('Next deadline', self.text('#clock-now'))
        self.find('#advance-next').click()  # the first data deletion
        self.wait(lambda: 'soft-deleted' in self.text('main table')
                  or 'data-delinked' in self.text('main table'), 'the next deadline')
        status, page = self.api('GET', '/_emu/containers?top=1')
        self.assertEqual((status, len(page['containers'])), (200, 1))
        self.assertTrue(page['nextLink'].startswith('/_emu/containers?top=1&skiptoken=1'))
        self.find('#advance-P30D').click()
        self.wait(lambda: 'active' not in self.text('main table')
                  and 'key-expired' not in self.text('main table'), 'data deletion')
        self.shot('containers')

    def test_08_audit_log(self):
        self.go('audit')
        self.wait(lambda: 'refused' in self.text('main table'), 'a refused access')
        self.assertIn('401', self.text('main table'))
        Select(self.find('main select')).select_by_value('refused')
        self.wait(lambda: 'provision' not in self.text('main table'), 'the kind filter')
        self.shot('audit')

    def test_09_sites_show_names_as_text(self):
        self.go('sites')
        self.wait(lambda: MARKUP_FILE in self.text('main table'), 'the file with markup')
        self.assertEqual(self.driver.find_elements(By.CSS_SELECTOR, 'main table i'), [])
        self.click('//main//table//button[text()="reports/"]', By.XPATH)
        self.wait(lambda: 'r0.txt' in self.text('main table'), 'the folder')
        self.click('[aria-label="Download r0.txt"]')
        path = os.path.join(self.downloads, 'r0.txt')
        self.wait(lambda: os.path.exists(path) and os.path.getsize(path) > 0, 'the file')
        with open(path, 'rb') as f:
            self.assertEqual(f.read(), b'report 0\n' * 50)
        self.shot('sites')
        self.no_alert()

    def test_10_keyboard_only(self):
        d = self.driver
        d.get(self.sp + '/')
        d.execute_script('sessionStorage.clear()')
        d.refresh()
        keys = lambda *k: ActionChains(d).send_keys(*k).perform()
        keys(Keys.TAB)
        self.assertEqual(d.switch_to.active_element.get_attribute('id'), 'token')
        keys(ADMIN, Keys.ENTER)
        self.wait(lambda: self.find('#app').is_displayed(), 'signed in by keyboard')
        seen = []
        for _ in range(12):
            keys(Keys.TAB)
            seen.append(d.switch_to.active_element.get_attribute('id'))
            if seen[-1] == 'nav-tasks':
                break
        self.assertEqual(seen[-1], 'nav-tasks', seen)
        keys(Keys.ENTER)
        self.wait(lambda: self.find('#nav-tasks').get_attribute('aria-current') == 'page',
                  'Tasks by keyboard')
        for _ in range(6):
            keys(Keys.TAB)
            if d.switch_to.active_element.get_attribute('id') == 'add-task':
                break
        self.assertEqual(d.switch_to.active_element.get_attribute('id'), 'add-task')
        keys(Keys.ENTER)
        self.wait(lambda: self.find('#task-form').is_displayed(), 'the form by keyboard')
        self.assertEqual(d.switch_to.active_element.get_attribute('name'), 'name')

    def test_11_user_sees_no_admin_actions(self):
        status, u = self.api('POST', '/_emu/users', {'login': 'member@contoso.com',
                                                    'role': 'Member'})
        self.assertEqual(status, 201, u)
        self.find('#sign-out').click()
        self.wait(lambda: self.find('#token').is_displayed(), 'signed out')
        self.sign_in(u['token'])
        labels = [b.text for b in self.driver.find_elements(By.CSS_SELECTOR, '#nav button')]
        self.assertEqual(labels, ['Sites and libraries'])
        self.assertEqual(self.driver.find_elements(By.ID, 'add-task'), [])
        self.assertIn('no admin actions', self.text('#who'))

    def test_12_no_csp_violations(self):
        logs = self.driver.get_log('browser')
        bad = [l['message'] for l in logs if 'Content Security Policy' in l['message']]
        self.assertEqual(bad, [])

    def test_13_accessibility(self):
        if not os.path.exists(AXE):
            self.skipTest('axe-core is not installed (npm install in tests/e2e/js)')
        with open(AXE) as f:
            axe = f.read()
        d = self.driver
        d.get(self.sp + '/')
        d.execute_script('sessionStorage.clear()')
        d.refresh()
        self.sign_in(ADMIN)
        found = {}
        for view in ('agents', 'tasks', 'scans', 'jobs', 'containers', 'audit', 'sites'):
            self.go(view)
            self.wait(lambda: self.driver.find_elements(By.CSS_SELECTOR, 'main table'), view)
            if view == 'tasks':
                self.find('#add-task').click()
            d.execute_script(axe)  # through the driver: the page's CSP does not apply
            r = d.execute_async_script(
                'const done = arguments[0];'
                'axe.run(document, {resultTypes: ["violations"]}).then(r => done(r.violations'
                '.map(v => [v.id, v.impact, v.nodes.length, v.nodes[0].target.join(" ")])));')
            print('axe on %s: %s' % (view, r or 'no violations'))
            bad = [v for v in r if v[1] in ('serious', 'critical')]
            if bad:
                found[view] = bad
        self.assertEqual(found, {})


if __name__ == '__main__':
    unittest.main()
