"""End-to-end: Microsoft's own CSOM client, the SharePoint JavaScript Object Model (JSOM, from
npm's sp-jsom-node, run under node by tests/e2e/js/jsom_client.cjs), drives a whole encrypted
migration against the real spmigd: it reads the web and its lists, provisions the containers
and the queue (the key comes back as JSOM's byte array); the package is uploaded with the
containers' SAS; JSOM submits CreateMigrationJobEncrypted with an SP.EncryptionOption and
follows GetMigrationJobStatus until the job is gone; the file is read back through REST and the
events off the queue.

Needs node and `npm install` in tests/e2e/js (.ci/run does it); skipped without them. The
binary comes from $SPMIGD (meson sets it). Run with /usr/bin/python3."""
import json
import os
import shutil
import subprocess
import unittest

import migration_tool as mt
from harness import ServerTestCase

ADMIN = 'jsom-admin'
HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.join(HERE, 'js', 'jsom_client.cjs')
MODULES = os.path.join(HERE, 'js', 'node_modules', 'sp-jsom-node')


@unittest.skipUnless(shutil.which('node') and os.path.isdir(MODULES),
                     'needs node and `npm install` in tests/e2e/js')
class JsomMigrationTest(ServerTestCase):
    server_args = ('--admin-token', ADMIN)

    def jsom(self, *args):
        p = subprocess.run(['node', CLIENT] + list(args), capture_output=True, timeout=120,
                           cwd=os.path.join(HERE, 'js'))
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors='replace'))
        return json.loads(p.stdout.decode().splitlines()[-1])

    def test_encrypted_migration_with_jsom(self):
        mt.emu(self.server.sp, ADMIN, 'POST', 'sites', {'url': '/sites/jsom', 'title': 'JSOM'})
        site_url = self.server.sp + '/sites/jsom'
        got = self.jsom('provision', site_url, ADMIN)
        sp = mt.SharePoint(self.server.sp, ADMIN, site='/sites/jsom', accept=mt.NOMETADATA)
        web = sp.entity('web')
        self.assertEqual(got['web'], {'id': web['Id'], 'title': 'JSOM',
                                      'url': '/sites/jsom'})
        self.assertIn('Documents', got['lists'])

        target = mt.fetch_target(sp)
        pkg = mt.Package(target)
        pkg.add_folder('From JSOM')
        pkg.add_file('From JSOM/report.txt', b'imported through JSOM')
        m = mt.Migration(sp, pkg, queue_uri=got['queue'])
        m.containers = {'DataContainerUri': got['containers']['data'],
                        'MetadataContainerUri': got['containers']['metadata'],
                        'EncryptionKey': got['key']}
        m.key = __import__('base64').b64decode(got['key'])
        self.assertEqual(len(m.key), 32)
        m.upload()

        job = self.jsom('submit', site_url, ADMIN, web['Id'], m.data_uri, m.manifest_uri,
                        m.queue_uri, got['key'])
        self.assertEqual(job['states'][-1], 0, job)
        self.assertIs(job['deletedAfterEnd'], False)
        m.job_id = job['jobId']
        events = m.wait(timeout=60)
        self.assertEqual(events[-1]['Event'], 'JobEnd')
        self.assertEqual([e for e in events if e['Event'] in ('JobError', 'JobFatalError')], [])
        url = target.server_relative('From JSOM/report.txt')
        self.assertEqual(sp.value("web/GetFileByServerRelativeUrl(%s)/$value"
                                  % mt.quote_literal(url)), b'imported through JSOM')


if __name__ == '__main__':
    unittest.main()
