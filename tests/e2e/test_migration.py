"""
The Migration API end to end (SPEC sections 2, 3, 5, 6): migration_tool.py plays a third-party
migration tool written from the public documentation against the real spmigd, through
provisioning, packaging, encryption, upload, submission, the report queue, the progress API
and the import logs, then reads everything back through the SharePoint REST API.

Every wait polls with a deadline; no test sleeps longer than 0.2 s at a time. Slow jobs (to see
the Queued and Processing states, or to have a job still queued when the server dies) are made
cheaply: many files of a package share one content blob, so the upload is small while the import
reads and decrypts a lot.
"""
import base64
import binascii
import datetime
import json
import os
import re
import time
import unittest
import urllib.parse
import uuid

import harness
from harness import ServerTestCase, unique_name
import migration_tool as mt

ADMIN = 'e2e-migration-admin-' + uuid.uuid4().hex
TIME_RE = re.compile(r'^\d\d/\d\d/\d{4} \d\d:\d\d:\d\d\.\d{3}$')

# HRESULTs (signed) of the package checks, as package.h documents them.
E_INVALIDARG = -2147024809
E_ACCESSDENIED = -2147024891
E_NOT_FOUND = -2147024894
E_PATH_NOT_FOUND = -2147024893
E_ALREADY_EXISTS = -2147024713
E_INVALID_NAME = -2130575245
E_XML = -2146232000
E_JOB_NOT_FOUND = -2147213145


def iso_z(t):
    return t.strftime('%Y-%m-%dT%H:%M:%SZ')


def norm(g):
    return str(uuid.UUID(g))


class MigrationCase(ServerTestCase):
    """One spmigd per class, started with a known admin token."""
    server_args = ('--admin-token', ADMIN)
    accept = mt.VERBOSE

    # -- clients --------------------------------------------------------------------------------

    def sp(self, site='/', accept=None, token=ADMIN):
        return mt.SharePoint(self.server.sp, token, site=site, accept=accept or self.accept)

    def new_site(self, prefix='mig', accept=None):
        """A fresh site (so every test has an empty library and free list item ids)."""
        url = '/sites/%s' % unique_name(prefix)
        mt.emu(self.server.sp, ADMIN, 'POST', 'sites', {'url': url, 'title': prefix})
        return self.sp(url, accept)

    def small_package(self, sp, target=None):
        """Reports/, Reports/a.txt, Reports/b.txt and c.txt (at the library root)."""
        p = mt.Package(target or mt.fetch_target(sp))
        p.add_folder('Reports')
        p.add_file('Reports/a.txt', b'alpha ' * 300)
        p.add_file('Reports/b.txt', b'bravo ' * 77, editor=2)
        p.add_file('c.txt', b'charlie')
        return p

    def slow_package(self, sp, n, size=256 * 1024, folder=None, target=None):
        """n files that all name one content blob of size bytes."""
        p = mt.Package(target or mt.fetch_target(sp))
        folder = folder or unique_name('slow')
        p.add_folder(folder)
        data = os.urandom(size)
        blob = '%s.dat' % uuid.uuid4()
        for i in range(n):
            p.add_file('%s/f%04d.bin' % (folder, i), data).current.blob = blob
        return p

    # -- checks ---------------------------------------------------------------------------------

    def assertServing(self):
        self.assertTrue(self.server.running(), 'spmigd died; stderr:\n' + self.server.stderr_tail())
        web = self.sp().entity('web')
        self.assertTrue(web['Id'])

    def assertEventShape(self, events, job_id):
        """The documented shape: JobQueued first, JobEnd last and once, every value a string,
        JobId the job's, Time MM/dd/yyyy HH:mm:ss.fff (UTC, now-ish, never going back)."""
        names = [e.get('Event') for e in events]
        self.assertTrue(events, 'no events')
        self.assertEqual(names[0], 'JobQueued', names)
        self.assertEqual(names[-1], 'JobEnd', names)
        self.assertEqual(names.count('JobEnd'), 1, names)
        self.assertEqual(names.count('JobQueued'), 1, names)
        self.assertIn('JobStart', names)
        self.assertLess(names.index('JobQueued'), names.index('JobStart'))
        now = datetime.datetime.utcnow()
        last = None
        for e in events:
            for k, v in e.items():
                self.assertIsInstance(v, str, 'event %s: %s=%r is not a string' % (
                    e.get('Event'), k, v))
            self.assertEqual(norm(e['JobId']), norm(job_id), e)
            self.assertRegex(e['Time'], TIME_RE, e)
            t = datetime.datetime.strptime(e['Time'], '%m/%d/%Y %H:%M:%S.%f')
            self.assertLess(abs((t - now).total_seconds()), 600, 'Time %s is not UTC now' % e)
            if last is not None:
                self.assertGreaterEqual(t, last, 'Time goes back: %r' % names)
            last = t
            uuid.UUID(e['CorrelationId'])
            if e['Event'] in ('JobProgress', 'JobEnd'):
                for k in ('CreatedOrUpdatedFileStatsBySize', 'ObjectsStatsByType'):
                    self.assertIsInstance(mt.json.loads(e[k]), dict, e)
                for k in ('FilesCreated', 'BytesProcessed', 'ObjectsProcessed', 'TotalErrors',
                          'TotalWarnings', 'TotalExpectedSPObjects'):
                    self.assertRegex(e[k], r'^\d+$', e)
            if e['Event'] in ('JobError', 'JobWarning', 'JobFatalError'):
                for k in ('ObjectType', 'Url', 'Id', 'ErrorCode', 'ErrorType', 'Message'):
                    self.assertIn(k, e)
                self.assertRegex(e['ErrorCode'], r'^-?\d+$', e)
                self.assertTrue(e['Message'], e)

    @staticmethod
    def issues(events):
        return [e for e in events if e['Event'] in ('JobError', 'JobWarning', 'JobFatalError')]

    def assertClean(self, events):
        self.assertEqual(self.issues(events), [])
        end = events[-1]
        self.assertEqual((end['TotalErrors'], end['TotalWarnings']), ('0', '0'), end)

    def assertErrors(self, events, expected):
        """expected: {web-relative url: (ObjectType, Id or None, ErrorCode or None)}. Every issue
        is a JobError on one of these urls, and each url has one with that code."""
        iss = self.issues(events)
        for e in iss:
            self.assertEqual(e['Event'], 'JobError', iss)
            self.assertIn(e['Url'], expected, iss)
        for url, (otype, oid, code) in expected.items():
            mine = [e for e in iss if e['Url'] == url]
            self.assertTrue(mine, 'no JobError for %s in %r' % (url, iss))
            self.assertTrue(any(e['ObjectType'] == otype and
                                (oid is None or norm(e['Id']) == norm(oid)) and
                                (code is None or int(e['ErrorCode']) == code) for e in mine),
                            'JobError for %s is not (%s, %s, %s): %r' % (url, otype, oid, code,
                                                                       mine))
        self.assertEqual(events[-1]['TotalErrors'], str(len([e for e in iss])), events[-1])

    def assertFatal(self, events, code=None, word=None):
        """One JobFatalError, the last issue, then JobEnd."""
        iss = self.issues(events)
        fatal = [e for e in iss if e['Event'] == 'JobFatalError']
        self.assertEqual(len(fatal), 1, iss)
        self.assertIs(iss[-1], fatal[0], iss)
        after = [e['Event'] for e in events[events.index(fatal[0]) + 1:]]
        self.assertEqual([n for n in after if n != 'JobProgress'], ['JobEnd'], after)
        if code is not None:
            self.assertEqual(int(fatal[0]['ErrorCode']), code, fatal[0])
        if word is not None:
            self.assertIn(word, fatal[0]['Message'].lower(), fatal[0])
        return fatal[0]

    def file_url(self, target, rel):
        return "web/GetFileByServerRelativeUrl(%s)" % mt.quote_literal(
            target.server_relative(rel))

    def folder_url(self, target, rel):
        return "web/GetFolderByServerRelativeUrl(%s)" % mt.quote_literal(
            target.server_relative(rel))

    def assertFileBytes(self, sp, target, rel, data):
        got = sp.value(self.file_url(target, rel) + '/$value')
        self.assertEqual(len(got), len(data), rel)
        self.assertEqual(got, data, rel)

    def assertAbsent(self, sp, target, rel, folder=False):
        with self.assertRaises(mt.SpError, msg=rel) as cm:
            sp.entity((self.folder_url if folder else self.file_url)(target, rel))
        self.assertEqual(cm.exception.status, 404, cm.exception)

    def assertImported(self, sp, pkg, rels):
        for rel in rels:
            o = pkg.find(rel)
            if o.kind == 'file':
                f = sp.entity(self.file_url(pkg.target, rel))
                self.assertEqual(norm(f['UniqueId']), norm(o.id), rel)
                self.assertFileBytes(sp, pkg.target, rel, o.current.data)
            else:
                f = sp.entity(self.folder_url(pkg.target, rel))
                self.assertEqual(norm(f['UniqueId']), norm(o.id), rel)

    def assertNothingImported(self, sp, pkg):
        items = sp.collection("web/lists/getbytitle('Documents')/items")
        self.assertEqual(items, [])
        for o in pkg.objects:
            self.assertAbsent(sp, pkg.target, o.rel, folder=o.kind == 'folder')

    def sp_error(self, fn, *args, **kw):
        with self.assertRaises(mt.SpError) as cm:
            fn(*args, **kw)
        return cm.exception

    def assertSpError(self, err, status, hresult, error_type=None):
        self.assertEqual(err.status, status, err)
        self.assertEqual(err.hresult, hresult, err)
        if error_type:
            self.assertEqual(err.error_type, error_type, err)
        self.assertTrue(err.message, err)


# -- the whole flow --------------------------------------------------------------------------------

# Around 131072 too: imported files up to that size are kept inline in the database.
SIZES = [0, 1, 15, 16, 17, 100, 511, 1000, 1024, 4095, 4096, 4097, 10000, 65535, 65536, 65537,
         100000, 131071, 131072, 131073, 262149, 1 << 20, 3 * (1 << 20) + 7]


def make_tree(pkg):
    """Nested folders, ~30 files of varied sizes (0 bytes to 3 MiB) and names, one file with
    two versions by two users. Returns the package."""
    folders = ['Projects', 'Projects/Alpha', 'Projects/Alpha/Specs 2024', 'Projects/Beta',
               'Media', 'Media/Photos (raw)', 'Empty folder', 'Ünïcödé & Co']
    for f in folders:
        pkg.add_folder(f, author=1 + len(f) % 2, editor=2 - len(f) % 2)
    names = ['readme.txt', 'report 2024.docx', 'Résumé.pdf', 'a&b.txt', "it's here.txt",
             'data.bin', 'notes.md', 'archive.zip', 'photo.jpg', 'budget.xlsx']
    places = ['', 'Projects', 'Projects/Alpha', 'Projects/Alpha/Specs 2024', 'Projects/Beta',
              'Media/Photos (raw)', 'Ünïcödé & Co']
    i = 0
    for place in places:
        for name in names[:4 if place else 6]:
            rel = (place + '/' if place else '') + ('%02d %s' % (i, name))
            size = SIZES[i % len(SIZES)]
            pkg.add_file(rel, os.urandom(size), author=1 + i % 2, editor=1 + (i // 2) % 2)
            i += 1
    v1, v2 = os.urandom(5000), os.urandom(7001)
    pkg.add_file('Projects/Alpha/plan.xlsx', versions=[('1.0', v1, 1), ('2.0', v2, 2)],
                 author=1)
    return pkg


class WholeMigrationTests(MigrationCase):

    def check_files(self, sp, pkg):
        """Every byte, the ids, times, authors and versions of every file."""
        t = pkg.target
        users = {u.id: u.login for u in pkg.users}
        for o in [o for o in pkg.objects if o.kind == 'file']:
            f = sp.entity(self.file_url(t, o.rel))
            self.assertEqual(f['Name'], o.name)
            self.assertEqual(f['ServerRelativeUrl'], t.server_relative(o.rel))
            self.assertEqual(norm(f['UniqueId']), norm(o.id), o.rel)
            self.assertEqual(int(f['Length']), len(o.current.data), o.rel)
            self.assertEqual(f['TimeCreated'], iso_z(o.created), o.rel)
            self.assertEqual(f['TimeLastModified'], iso_z(o.modified), o.rel)
            self.assertEqual(f['UIVersionLabel'], o.current.label, o.rel)
            self.assertFileBytes(sp, t, o.rel, o.current.data)
            author = sp.entity(self.file_url(t, o.rel) + '/Author')
            self.assertEqual(author['LoginName'], users[o.author], o.rel)
            self.assertEqual(author['Id'], f['AuthorId'], o.rel)
            editor = sp.entity(self.file_url(t, o.rel) + '/ModifiedBy')
            self.assertEqual(editor['LoginName'], users[o.editor], o.rel)
            # File/Versions lists the earlier versions, as SharePoint does.
            versions = sp.collection(self.file_url(t, o.rel) + '/Versions')
            earlier = o.versions[:-1]
            self.assertEqual([v['VersionLabel'] for v in versions], [v.label for v in earlier],
                             o.rel)
            ids = {users[o.author]: author['Id'], users[o.editor]: editor['Id']}
            for v, got in zip(earlier, versions):
                self.assertEqual(int(got['Size']), len(v.data))
                self.assertEqual(got['Created'], iso_z(v.modified), o.rel)
                if users[v.editor] in ids:
                    self.assertEqual(got['CreatedById'], ids[users[v.editor]], o.rel)
                self.assertFalse(got['IsCurrentVersion'])
                major, minor = (int(x) for x in v.label.split('.'))
                self.assertEqual(got['ID'], major * 512 + minor)
                data = sp.value(self.file_url(t, o.rel) + '/Versions(%d)/$value' % got['ID'])
                self.assertEqual(data, v.data, '%s version %s' % (o.rel, v.label))

    def check_folders(self, sp, pkg):
        """Folders: their ids and times, and exactly the children the package gave them."""
        t = pkg.target
        for rel in [''] + [o.rel for o in pkg.objects if o.kind == 'folder']:
            kids = [o for o in pkg.objects if (o.parent.rel if o.parent else '') == rel]
            got_folders = sp.collection(self.folder_url(t, rel) + '/Folders')
            got_files = sp.collection(self.folder_url(t, rel) + '/Files')
            self.assertEqual(sorted(f['Name'] for f in got_folders if not (
                rel == '' and f['Name'] == 'Forms')),
                sorted(o.name for o in kids if o.kind == 'folder'), 'folders of %r' % rel)
            self.assertEqual(sorted(f['Name'] for f in got_files),
                             sorted(o.name for o in kids if o.kind == 'file'),
                             'files of %r' % rel)
            for f in got_files + got_folders:
                o = pkg.find((rel + '/' if rel else '') + f['Name'])
                self.assertEqual(norm(f['UniqueId']), norm(o.id))
                self.assertEqual(f['ServerRelativeUrl'], t.server_relative(o.rel))
            if rel:
                o = pkg.find(rel)
                f = sp.entity(self.folder_url(t, rel))
                self.assertEqual(norm(f['UniqueId']), norm(o.id), rel)
                self.assertEqual(f['TimeCreated'], iso_z(o.created), rel)
                self.assertEqual(f['TimeLastModified'], iso_z(o.modified), rel)

    def check_items(self, sp, pkg, top):
        """One list item per folder and file, with the package's ids, urls, times and users;
        read in pages of top (the next links must keep $select and $expand)."""
        t = pkg.target
        users = {u.id: u.login for u in pkg.users}
        items = sp.collection("web/lists/getbytitle('Documents')/items",
                              {'$select': 'Id,GUID,FileLeafRef,FileRef,UniqueId,Created,Modified,'
                                          'Author/LoginName,Editor/LoginName,FSObjType',
                               '$expand': 'Author,Editor', '$top': str(top)})
        self.assertEqual(len(items), len(pkg.objects))
        by_ref = {i['FileRef']: i for i in items}
        for o in pkg.objects:
            it = by_ref.get(t.server_relative(o.rel))
            self.assertIsNotNone(it, 'no list item for %s' % o.rel)
            self.assertEqual(it['FileLeafRef'], o.name)
            self.assertEqual(norm(it['UniqueId']), norm(o.id), o.rel)
            self.assertEqual(int(it['Id']), o.int_id, o.rel)
            self.assertEqual(norm(it['GUID']), norm(o.item_id), o.rel)
            self.assertEqual(int(it['FSObjType']), 1 if o.kind == 'folder' else 0, o.rel)
            self.assertEqual(it['Created'], iso_z(o.created), o.rel)
            self.assertEqual(it['Modified'], iso_z(o.modified), o.rel)
            self.assertIn('Author', it, 'item %s (Id %s) lacks $expand=Author' % (o.rel, it['Id']))
            self.assertEqual(it['Author']['LoginName'], users[o.author], o.rel)
            self.assertEqual(it['Editor']['LoginName'], users[o.editor], o.rel)

    def check_totals(self, pkg, end):
        files = [o for o in pkg.objects if o.kind == 'file']
        self.assertEqual(end['FilesCreatedIrrespectiveOfVersions'], str(len(files)), end)
        self.assertEqual(end['FilesCreated'], str(sum(len(o.versions) for o in files)), end)
        self.assertEqual(end['BytesProcessedOnlyCurrentVersion'],
                         str(sum(len(o.current.data) for o in files)), end)
        self.assertEqual(end['BytesProcessed'],
                         str(sum(len(v.data) for o in files for v in o.versions)), end)
        self.assertEqual(end['ObjectsProcessed'], end['TotalExpectedSPObjects'], end)

    def migrate_tree(self, accept):
        sp = self.new_site('tree', accept)
        pkg = make_tree(mt.Package(mt.fetch_target(sp)))
        m = mt.Migration(sp, pkg)
        events = m.run(timeout=40)
        self.assertEventShape(events, m.job_id)
        self.assertClean(events)
        self.assertEqual(sp.job_status(m.job_id), 0)
        queued, start = events[0], [e for e in events if e['Event'] == 'JobStart'][0]
        self.assertEqual(norm(queued['SiteId']), norm(pkg.target.site_id), queued)
        self.assertEqual(norm(start['SiteId']), norm(pkg.target.site_id), start)
        self.assertEqual(norm(start['WebId']), norm(pkg.target.web_id), start)
        # Envelopes: every message of an encrypted job is encrypted, with a fresh IV each.
        raw = m.queue.raw[m.job_id.lower()]
        self.assertTrue(all(r.get('Label') == 'Encrypted' for r in raw), raw[:2])
        self.assertEqual(len({r['IV'] for r in raw}), len(raw))
        self.assertEqual(set(raw[0]), {'Label', 'JobId', 'IV', 'Content'})
        # The same events through GetMigrationJobProgress.
        self.assertEqual(sp.all_progress(m.job_id)[0], events)
        # The logs in the manifest container: encrypted with a fresh IV in metadata.
        raw_log, meta = mt.Container(m.manifest_uri).get('Import-%s-1.log' % m.job_id)
        ivs = [v for k, v in meta.items() if k.lower() == 'iv']
        self.assertEqual(len(ivs), 1, meta)
        self.assertEqual(len(base64.b64decode(ivs[0])), 16)
        log = m.import_log('log')
        self.assertNotIn(log[:40].encode(), raw_log)
        self.assertIn(pkg.target.web_relative('Projects/Alpha/plan.xlsx'), log)
        self.assertEqual(m.import_log('err').strip(), '')
        # Read everything back; each part reports on its own.
        with self.subTest('files'):
            self.check_files(sp, pkg)
        with self.subTest('folders'):
            self.check_folders(sp, pkg)
        with self.subTest('list items'):
            self.check_items(sp, pkg, 5000)
        with self.subTest('list items in pages of 10'):
            self.check_items(sp, pkg, 10)
        with self.subTest('JobEnd totals'):
            self.check_totals(pkg, events[-1])

    def test_provisioned_containers_and_queue(self):
        sp = self.new_site('provision')
        a, b = sp.provision_containers(), sp.provision_containers()
        uris = [a['DataContainerUri'], a['MetadataContainerUri'], b['DataContainerUri'],
                b['MetadataContainerUri']]
        names = [mt.urllib.parse.urlsplit(u).path.rsplit('/', 1)[-1] for u in uris]
        self.assertEqual(len(set(names)), 4, 'fresh containers on every call')
        self.assertNotEqual(a['EncryptionKey'], b['EncryptionKey'])
        for key in (a['EncryptionKey'], b['EncryptionKey']):
            self.assertEqual(len(base64.b64decode(key, validate=True)), 32)
        for u, n in zip(uris, names):
            q = dict(mt.urllib.parse.parse_qsl(mt.urllib.parse.urlsplit(u).query))
            self.assertEqual((q.get('sp'), q.get('sr')), ('rw', 'c'), u)
            st = datetime.datetime.strptime(q['st'], '%Y-%m-%dT%H:%M:%SZ')
            se = datetime.datetime.strptime(q['se'], '%Y-%m-%dT%H:%M:%SZ')
            self.assertEqual(se - st, datetime.timedelta(days=3), u)
            self.assertRegex(n, r'^\d+-\d+-%s-[0-9a-f]{32}$' % se.strftime('%Y%m%d'))
        # No list permission: a tool must know its blob names.
        from azure.core.exceptions import HttpResponseError
        with self.assertRaises(HttpResponseError) as cm:
            list(mt.Container(a['DataContainerUri']).client.list_blobs())
        self.assertEqual(cm.exception.status_code, 403)
        queue = sp.provision_queue()
        q = dict(mt.urllib.parse.parse_qsl(mt.urllib.parse.urlsplit(queue).query))
        self.assertEqual(q.get('sp'), 'rap', queue)
        st = datetime.datetime.strptime(q['st'], '%Y-%m-%dT%H:%M:%SZ')
        se = datetime.datetime.strptime(q['se'], '%Y-%m-%dT%H:%M:%SZ')
        self.assertEqual(se - st, datetime.timedelta(days=21), queue)
        self.assertEqual(list(mt.ReportQueue(queue).client.peek_messages()), [])

    def test_argument_forms_of_the_migration_methods(self):
        """Names are case-insensitive; GUIDs in any case or in braces; arguments in the body or
        the URL, in the forms public clients use."""
        sp = self.new_site('forms', mt.VERBOSE)
        m = mt.Migration(sp, self.small_package(sp)).provision().upload()
        t = m.package.target
        body = {'options': {'__metadata': {'type': 'SP.EncryptionOption'},
                            'AES256CBCKey': m.containers['EncryptionKey']},
                'gWebId': '{%s}' % t.web_id.upper(), 'azureContainerSourceUri': m.data_uri,
                'azureContainerManifestUri': m.manifest_uri, 'azureQueueReportUri': m.queue_uri}
        m.job_id = sp.invoke('createmigrationjobencrypted', body)
        self.assertClean(m.wait())
        j = m.job_id
        for tail, method in (("getMigrationJobStatus('%s')" % j, 'GET'),
                             ("GetMigrationJobStatus('%s')" % j.upper(), 'POST')):
            _, r = sp.raw(method, 'site/' + tail, {} if method == 'POST' else None)
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.json(), {'d': {'GetMigrationJobStatus': 0}})
        self.assertEqual(sp.invoke('GetMigrationJobStatus', {'id': j}), 0)
        for args in ("jobId='%s',nextToken=0" % j, "jobId=guid'%s',nextToken='0'" % j,
                     "'%s','0'" % j.upper()):
            r = sp.invoke('GetMigrationJobProgress', method='GET', params_in_url=args)
            self.assertEqual([mt.json.loads(x) for x in r['Logs']], m.events, args)
        r = sp.invoke('GetMigrationJobProgress', {'jobId': j, 'nextToken': '0'})
        self.assertEqual([mt.json.loads(x) for x in r['Logs']], m.events)

    def test_whole_tree_odata_verbose(self):
        self.migrate_tree(mt.VERBOSE)

    def test_whole_tree_odata_nometadata(self):
        self.migrate_tree(mt.NOMETADATA)

    def test_resubmitted_file_replaces_the_old_one(self):
        sp = self.new_site('resubmit')
        t = mt.fetch_target(sp)
        p1 = mt.Package(t)
        p1.add_folder('Docs')
        f1 = p1.add_file('Docs/contract.docx', versions=[('1.0', b'first draft' * 50, 1),
                                                         ('2.0', b'second draft' * 60, 2)])
        g1 = p1.add_file('Docs/other.txt', b'left alone')
        m1 = mt.Migration(sp, p1)
        self.assertClean(m1.run())
        items_before = sp.collection("web/lists/getbytitle('Documents')/items")
        # Round two: the same ids, one version with new bytes and a later time.
        p2 = mt.Package(t)
        d2 = p2.add_folder('Docs', int_id=p1.find('Docs').int_id)
        d2.id, d2.item_id = p1.find('Docs').id, p1.find('Docs').item_id
        later = f1.modified + datetime.timedelta(days=3)
        f2 = p2.add_file('Docs/contract.docx', b'the signed contract ' * 99, editor=2,
                         int_id=f1.int_id, created=f1.created, modified=later)
        f2.id, f2.item_id = f1.id, f1.item_id
        m2 = mt.Migration(sp, p2)
        events = m2.run()
        self.assertEventShape(events, m2.job_id)
        self.assertClean(events)
        f = sp.entity(self.file_url(t, 'Docs/contract.docx'))
        self.assertEqual(norm(f['UniqueId']), norm(f1.id))
        self.assertEqual(f['UIVersionLabel'], '1.0')
        self.assertEqual(f['TimeLastModified'], iso_z(later))
        self.assertFileBytes(sp, t, 'Docs/contract.docx', f2.current.data)
        self.assertEqual(sp.collection(self.file_url(t, 'Docs/contract.docx') + '/Versions'), [],
                         'the old versions went with the old file')
        self.assertFileBytes(sp, t, 'Docs/other.txt', g1.current.data)
        items_after = sp.collection("web/lists/getbytitle('Documents')/items")
        self.assertEqual(sorted(i['Id'] for i in items_after),
                         sorted(i['Id'] for i in items_before))


    def test_resubmission_between_inline_and_file_backed(self):
        # Small bytes are kept in the database, larger ones in a file; each replaces the other.
        sp = self.new_site('inline')
        t = mt.fetch_target(sp)
        first = None
        for data in (os.urandom(100), os.urandom(65537), os.urandom(65536), b''):
            p = mt.Package(t)
            f = p.add_file('swap.bin', versions=[('1.0', os.urandom(10), 1), ('2.0', data, 1)],
                           int_id=first.int_id if first else None)
            if first:
                f.id, f.item_id = first.id, first.item_id
            else:
                first = f
            self.assertClean(mt.Migration(sp, p).run())
            self.assertFileBytes(sp, t, 'swap.bin', data)
            url = self.file_url(t, 'swap.bin')
            self.assertEqual(sp.value(url + '/Versions(512)/$value'), f.versions[0].data)


class EventTests(MigrationCase):
    """One import worker, so that a job can be seen waiting behind another."""
    server_args = ('--admin-token', ADMIN, '--import-workers', '1')
    accept = mt.NOMETADATA

    def test_status_queued_processing_none_and_progress_paging(self):
        sp = self.new_site('events')
        queue = sp.provision_queue()
        t = mt.fetch_target(sp)
        ma = mt.Migration(sp, self.slow_package(sp, 400, target=t), queue_uri=queue)
        mb = mt.Migration(sp, self.slow_package(sp, 120, target=t), queue_uri=queue)
        for m in (ma, mb):
            m.provision().upload()
        ma.submit()
        mb.submit()
        self.assertEqual(sp.job_status(mb.job_id), 2, 'B waits behind A: Queued')
        first_page, token = sp.job_progress(mb.job_id, '0')
        self.assertGreaterEqual(len(first_page), 1)
        self.assertEqual(mt.json.loads(first_page[0])['Event'], 'JobQueued')
        seen = {ma.job_id: [], mb.job_id: []}
        deadline = time.monotonic() + 30
        while any(not s or s[-1] != 0 for s in seen.values()):
            self.assertLess(time.monotonic(), deadline, seen)
            for job, s in seen.items():
                v = sp.job_status(job)
                if not s or s[-1] != v:
                    s.append(v)
        self.assertEqual(seen[ma.job_id][-2:], [4, 0], seen)
        self.assertIn(seen[ma.job_id][0], (2, 4), seen)
        self.assertEqual(seen[mb.job_id], [2, 4, 0], seen)
        # The queue (shared by both jobs) and the progress log tell the same story.
        q = mt.ReportQueue(queue)
        for m in (mb, ma):
            m.wait(queue=q)
            self.assertEventShape(m.events, m.job_id)
            self.assertClean(m.events)
        self.assertIn('JobProgress', [e['Event'] for e in ma.events])
        rest, last = sp.all_progress(mb.job_id, token)
        via_progress = [mt.json.loads(x) for x in first_page] + rest
        self.assertEqual(via_progress, mb.events)
        full, _ = sp.all_progress(ma.job_id)
        self.assertEqual(full, ma.events)
        # Nothing new: an empty page and the same token, again and again.
        for _ in range(2):
            logs, tok = sp.job_progress(mb.job_id, last)
            self.assertEqual((logs, str(tok)), ([], str(last)))
        # In odata=verbose too.
        vfull, _ = self.sp(sp.site, mt.VERBOSE).all_progress(mb.job_id)
        self.assertEqual(vfull, mb.events)

    def test_progress_pages_over_a_thousand_events(self):
        sp = self.new_site('pages')
        t = mt.fetch_target(sp)
        pkg = mt.Package(t)
        for i in range(1100):
            pkg.add_file('missing-%04d.txt' % i, b'never uploaded')
        m = mt.Migration(sp, pkg).provision()
        m.build()
        m.skip = set(m.blobs)  # every content blob is absent: one JobError per file
        m.upload()
        m.submit()
        events = m.wait(timeout=40)
        self.assertEventShape(events, m.job_id)
        self.assertEqual(len([e for e in events if e['Event'] == 'JobError']), 1100)
        pages, tok, got = 0, '0', []
        while True:
            logs, nxt = sp.job_progress(m.job_id, tok)
            if not logs:
                self.assertEqual(str(nxt), str(tok))
                break
            pages += 1
            got += [mt.json.loads(x) for x in logs]
            self.assertNotEqual(str(nxt), str(tok))
            tok = nxt
            self.assertLess(pages, 100)
        self.assertGreaterEqual(pages, 2, 'over a thousand events come in more than one page')
        self.assertEqual(got, events)
        # A log past the small-blob limit is streamed to a file of its own, an empty one is
        # put from memory: both read back decrypted.
        err = m.import_log('err')
        self.assertGreater(len(err), 128 * 1024)
        self.assertEqual(len([x for x in err.splitlines() if 'missing-' in x]), 1100)
        self.assertEqual(m.import_log('wrn').strip(), '')


class ConcurrentJobsTests(MigrationCase):
    """Two import workers take two jobs into one library at once, as Migration Manager runs
    many tasks into one library."""
    server_args = ('--admin-token', ADMIN, '--import-workers', '2')

    def test_two_jobs_sharing_folder_paths(self):
        """Both packages carry the folders Shared and Shared/Sub with ids of their own (two
        tools, each with its own ids) and one file path in common. Both jobs end clean and
        truthful; the library holds one Shared with one Sub and every file of both, the common
        path holding one of the two files. Submitted back to back, each job wakes a worker of
        its own, so they import side by side (each reads a lot: its files share one 128 KiB
        blob)."""
        sp = self.new_site('together')
        t = mt.fetch_target(sp)  # one target, so the packages' list item ids differ
        data = os.urandom(128 * 1024)
        pkgs = []
        for tag in ('one', 'two'):
            p = mt.Package(t)
            p.add_folder('Shared')
            p.add_folder('Shared/Sub')
            blob = '%s.dat' % uuid.uuid4()
            for i in range(120):
                p.add_file('Shared/%s-%03d.bin' % (tag, i), data).current.blob = blob
            p.add_file('Shared/Sub/deep-%s.txt' % tag, ('deep %s' % tag).encode() * 99)
            p.add_file('Shared/same.txt', ('the file of job %s' % tag).encode())
            pkgs.append(p)
        self.assertNotEqual(pkgs[0].find('Shared').id, pkgs[1].find('Shared').id)
        migs = [mt.Migration(sp, p).provision() for p in pkgs]
        for m in migs:
            m.upload()
        for m in migs:
            m.submit()
        for m, p in zip(migs, pkgs):
            events = m.wait(timeout=60)
            self.assertEventShape(events, m.job_id)
            self.assertClean(events)
            end = events[-1]
            files = [o for o in p.objects if o.kind == 'file']
            self.assertEqual(end['ObjectsProcessed'], end['TotalExpectedSPObjects'], end)
            self.assertEqual(end['FilesCreated'], str(len(files)), end)
            self.assertEqual(end['FilesCreatedIrrespectiveOfVersions'], str(len(files)), end)
            self.assertEqual(mt.json.loads(end['ObjectsStatsByType'])['SPFolder']['Count'], 2,
                             end)
            self.assertEqual(m.import_log('err').strip(), '')

        # One Shared and one Sub, each with the ids of one of the packages.
        got = sp.collection(self.folder_url(t, '') + '/Folders')
        self.assertEqual([f['Name'] for f in got if f['Name'] != 'Forms'], ['Shared'])
        shared = sp.entity(self.folder_url(t, 'Shared'))
        sub = sp.entity(self.folder_url(t, 'Shared/Sub'))
        owner = [p for p in pkgs if norm(p.find('Shared').id) == norm(shared['UniqueId'])]
        self.assertEqual(len(owner), 1, shared)
        self.assertEqual(norm(sub['UniqueId']), norm(owner[0].find('Shared/Sub').id))
        self.assertEqual([f['Name'] for f in sp.collection(self.folder_url(t, 'Shared') +
                                                           '/Folders')], ['Sub'])
        # The union of the files, each with its package's id and bytes, under those folders.
        files = sp.collection(self.folder_url(t, 'Shared') + '/Files')
        want = {o.name for p in pkgs for o in p.objects
                if o.kind == 'file' and o.parent.rel == 'Shared'}
        self.assertEqual(sorted(f['Name'] for f in files), sorted(want))
        self.assertEqual(sorted(f['Name'] for f in sp.collection(
            self.folder_url(t, 'Shared/Sub') + '/Files')), ['deep-one.txt', 'deep-two.txt'])
        for p in pkgs:
            self.assertImported(sp, p, [o.rel for o in p.objects if o.kind == 'file' and
                                        o.name != 'same.txt' and o.name.startswith(
                                            ('one-000', 'two-000', 'one-119', 'two-119',
                                             'deep-'))])
        # The common path holds one of the two files, whole, with its own id.
        same = sp.entity(self.file_url(t, 'Shared/same.txt'))
        winner = [p.find('Shared/same.txt') for p in pkgs
                  if norm(p.find('Shared/same.txt').id) == norm(same['UniqueId'])]
        self.assertEqual(len(winner), 1, same)
        self.assertFileBytes(sp, t, 'Shared/same.txt', winner[0].current.data)
        # Every item once: two folders, both jobs' files, the common one once.
        items = sp.collection("web/lists/getbytitle('Documents')/items", {'$top': '5000'})
        self.assertEqual(len(items), 2 + 2 * 121 + 1)
        lst = sp.entity("web/lists/getbytitle('Documents')")
        self.assertEqual(lst['ItemCount'], len(items))
        self.assertServing()


class KeyNotOnDiskTests(MigrationCase):

    def test_key_never_lands_on_disk(self):
        sp = self.new_site('nokey')
        pkg = self.small_package(sp)
        pkg.add_file('big.bin', os.urandom(300000))
        m = mt.Migration(sp, pkg)
        self.assertClean(m.run())
        self.assertIn('Imported', m.import_log('log'))
        key = m.key
        needles = {
            'raw': key,
            'base64': base64.b64encode(key),
            'base64url': base64.urlsafe_b64encode(key).rstrip(b'='),
            'hex': binascii.hexlify(key),
            'HEX': binascii.hexlify(key).upper(),
        }
        self.server.stop()
        hits, seen_marker, files = [], False, 0
        marker = pkg.find('Reports/a.txt').current.data  # stored: the search must find it
        for root, _, names in os.walk(self.server.tmp):
            for n in names:
                path = os.path.join(root, n)
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                with open(path, 'rb') as f:
                    data = f.read()
                files += 1
                seen_marker = seen_marker or marker in data
                for what, needle in needles.items():
                    if needle in data:
                        hits.append('%s in %s' % (what, os.path.relpath(path, self.server.tmp)))
        self.assertGreater(files, 3)
        self.assertTrue(seen_marker, 'the search cannot even find imported content')
        self.assertEqual(hits, [], 'the job key is on disk')


class LostKeyTests(MigrationCase):
    server_args = ('--admin-token', ADMIN, '--import-workers', '1')

    def test_restart_ends_queued_encrypted_job_with_fatal_error(self):
        sp = self.new_site('lostkey', mt.NOMETADATA)
        queue = sp.provision_queue()
        t = mt.fetch_target(sp)
        blocker = mt.Migration(sp, self.slow_package(sp, 500, target=t), queue_uri=queue)
        m = mt.Migration(sp, self.small_package(sp, target=t), queue_uri=queue)
        for x in (blocker, m):
            x.provision().upload()
        blocker.submit()
        m.submit()
        # m is queued behind the blocker (one worker) when the server dies, the blocker started.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and 'JobStart' not in [
                e['Event'] for e in sp.all_progress(blocker.job_id)[0]]:
            time.sleep(0.01)
        old = (self.server.blob, self.server.queue)
        self.assertEqual(self.server.kill9(), -9)
        self.server.start()
        # The harness restarts on new ports: point the SAS URIs there.
        new = (self.server.blob, self.server.queue)
        for x in (blocker, m):
            x.queue_uri = x.queue_uri.replace(old[1] + '/', new[1] + '/')
            for k in ('DataContainerUri', 'MetadataContainerUri'):
                x.containers[k] = x.containers[k].replace(old[0] + '/', new[0] + '/')
        sp = self.sp(sp.site, mt.NOMETADATA)
        m.sp = sp
        events = m.wait(timeout=60)
        # The blocker (before m on the one worker), taken again after the restart, went on as
        # a retry: one JobStart, and what followed counts the retry.
        blocked, _ = sp.all_progress(blocker.job_id)
        names = [e['Event'] for e in blocked]
        self.assertEqual(names.count('JobStart'), 1, names)
        self.assertEqual(names[-1], 'JobEnd', names)
        self.assertEqual(blocked[-1]['TotalRetryCount'], '1', blocked[-1])
        self.assertEventShape(events, m.job_id)
        fatal = self.assertFatal(events, word='key')
        self.assertEqual([e['Event'] for e in events if e['Event'] != 'JobProgress'],
                         ['JobQueued', 'JobStart', 'JobFatalError', 'JobEnd'])
        self.assertEqual(fatal['ObjectType'], '', fatal)
        progress, _ = sp.all_progress(m.job_id)
        self.assertEqual(progress, events)
        self.assertEqual(sp.job_status(m.job_id), 0)
        self.assertNothingImported(sp, m.package)
        # The client resubmits the same containers with its key, and this time it works.
        m.submit()
        events = m.wait(timeout=30)
        self.assertEventShape(events, m.job_id)
        self.assertClean(events)
        self.assertImported(sp, m.package, ['Reports', 'Reports/a.txt', 'Reports/b.txt',
                                            'c.txt'])


# -- bad input ------------------------------------------------------------------------------------

def urlsafe_key():
    """A 32-byte key in base64url that differs from its standard base64 ('-' or '_')."""
    while True:
        k = base64.urlsafe_b64encode(os.urandom(32)).decode()
        if '-' in k or '_' in k:
            return k


class BadInputTests(MigrationCase):
    """Each bad input has one precise outcome, and the server keeps serving."""
    accept = mt.NOMETADATA

    def tearDown(self):
        self.assertServing()
        super().tearDown()

    def prepared(self, prefix):
        sp = self.new_site(prefix)
        pkg = self.small_package(sp)
        m = mt.Migration(sp, pkg).provision()
        m.build()
        return sp, pkg, m

    def run_job(self, m):
        m.upload()
        m.submit()
        events = m.wait()
        self.assertEventShape(events, m.job_id)
        return events

    def url(self, pkg, rel):
        return pkg.target.web_relative(rel)

    # -- refused at submit -------------------------------------------------------------------

    def test_malformed_json_body(self):
        sp, pkg, m = self.prepared('badjson')
        m.upload()
        for body in ('{"gWebId": "%s",' % pkg.target.web_id, '[1, 2', 'not json at all'):
            url, r = sp.raw('POST', 'site/CreateMigrationJobEncrypted', body,
                            content_type='application/json')
            err = mt.SpError('POST', url, r.status, r.body)
            self.assertSpError(err, 400, -1,
                               'Microsoft.SharePoint.Client.InvalidClientQueryException')
        self.assertEqual(sp.invoke('GetMigrationStatus'), [])

    def test_missing_or_malformed_key(self):
        sp, pkg, m = self.prepared('badkey')
        m.upload()
        t = pkg.target
        body = {'gWebId': t.web_id, 'azureContainerSourceUri': m.data_uri,
                'azureContainerManifestUri': m.manifest_uri, 'azureQueueReportUri': m.queue_uri}
        cases = {
            'no options': dict(body),
            'no key': dict(body, options={}),
            'not base64': dict(body, options={'AES256CBCKey': '***not base64***'}),
            '16 bytes': dict(body, options={'AES256CBCKey': mt.b64(os.urandom(16))}),
            '31 bytes': dict(body, options={'AES256CBCKey': mt.b64(os.urandom(31))}),
            '33 bytes': dict(body, options={'AES256CBCKey': mt.b64(os.urandom(33))}),
            'number': dict(body, options={'AES256CBCKey': 12345}),
            'base64url': dict(body, options={'AES256CBCKey': urlsafe_key()}),
        }
        for what, b in cases.items():
            err = self.sp_error(sp.invoke, 'CreateMigrationJobEncrypted', b)
            self.assertSpError(err, 400, E_INVALIDARG)
        self.assertEqual(sp.invoke('GetMigrationStatus'), [], 'no job was queued')
        # The refusals used nothing up: the right key still works on the same containers.
        m.submit()
        self.assertClean(m.wait())

    def test_storage_of_another_host(self):
        sp, pkg, m = self.prepared('elsewhere')
        m.upload()
        t = pkg.target
        port = self.server.blob.rsplit(':', 1)[1]
        other = str(int(port) + 1 if int(port) < 65535 else int(port) - 1)

        def moved(uri, how):
            if how == 'port':
                return uri.replace(':%s/' % port, ':%s/' % other, 1)
            return 'https://devstoreaccount1.blob.core.windows.net/' + uri.split('/', 4)[4]

        for which in ('azureContainerSourceUri', 'azureContainerManifestUri',
                      'azureQueueReportUri'):
            for how in ('port', 'azure'):
                body = {'gWebId': t.web_id, 'azureContainerSourceUri': m.data_uri,
                        'azureContainerManifestUri': m.manifest_uri,
                        'azureQueueReportUri': m.queue_uri,
                        'options': {'AES256CBCKey': m.containers['EncryptionKey']}}
                if which == 'azureQueueReportUri' and how == 'port':
                    qport = self.server.queue.rsplit(':', 1)[1]
                    body[which] = body[which].replace(':%s/' % qport, ':%s/' % port, 1)
                else:
                    body[which] = moved(body[which], how)
                err = self.sp_error(sp.invoke, 'CreateMigrationJobEncrypted', body)
                self.assertSpError(err, 400, E_INVALIDARG)
                self.assertIn('not this server', err.message, (which, how))
        self.assertEqual(sp.invoke('GetMigrationStatus'), [], 'no job was queued')

    def test_unknown_web_id(self):
        sp, pkg, m = self.prepared('badweb')
        m.upload()
        other = self.new_site('otherweb')
        for web in (str(uuid.uuid4()), mt.fetch_target(other).web_id, 'not-a-guid'):
            err = self.sp_error(sp.create_job_encrypted, web, m.data_uri, m.manifest_uri,
                                m.queue_uri, m.containers['EncryptionKey'])
            self.assertSpError(err, 400, E_INVALIDARG)

    def test_caller_without_rights(self):
        sp, pkg, m = self.prepared('rights')
        m.upload()
        login = 'member-%s@contoso.com' % uuid.uuid4().hex[:8]
        u = mt.emu(self.server.sp, ADMIN, 'POST', 'users',
                   {'login': login, 'role': 'Member', 'site': sp.site})
        member = sp.with_(token=u['token'])
        self.assertEqual(member.entity('web')['Id'], pkg.target.web_id, 'the member may read')
        for call in (lambda: member.provision_containers(), lambda: member.provision_queue(),
                     lambda: member.create_job_encrypted(
                         pkg.target.web_id, m.data_uri, m.manifest_uri, m.queue_uri,
                         m.containers['EncryptionKey'])):
            err = self.sp_error(call)
            self.assertSpError(err, 403, E_ACCESSDENIED, 'System.UnauthorizedAccessException')
        # The admin's job is the admin's.
        m.submit()
        m.wait()
        err = self.sp_error(member.job_progress, m.job_id, '0')
        self.assertSpError(err, 403, E_ACCESSDENIED)
        # A site owner may do what the member may not.
        u = mt.emu(self.server.sp, ADMIN, 'POST', 'users',
                   {'login': 'owner-' + login, 'role': 'SiteOwner', 'site': sp.site})
        owner = sp.with_(token=u['token'])
        self.assertIn('EncryptionKey', owner.provision_containers())

    def test_unencrypted_job_on_provisioned_containers_refused(self):
        sp, pkg, m = self.prepared('plainprov')
        m.upload()
        err = self.sp_error(sp.create_job, pkg.target.web_id, m.data_uri, m.manifest_uri,
                            m.queue_uri)
        self.assertSpError(err, 400, E_INVALIDARG)
        self.assertEqual(sp.invoke('GetMigrationStatus'), [])

    def test_same_container_for_source_and_manifest_refused(self):
        sp, pkg, m = self.prepared('samecont')
        m.upload()
        for uri in (m.data_uri, m.manifest_uri):
            err = self.sp_error(sp.create_job_encrypted, pkg.target.web_id, uri, uri,
                                m.queue_uri, m.containers['EncryptionKey'])
            self.assertSpError(err, 400, E_INVALIDARG)

    def own_storage(self):
        """Two containers and a queue in devstoreaccount1, made with the SDK."""
        svc = harness.blob_service(self.server)
        names = [unique_name('own-data'), unique_name('own-meta')]
        for n in names:
            svc.create_container(n)
        qname = unique_name('own-q')
        harness.queue_service(self.server).create_queue(qname)
        return names, qname

    def own_sas(self, container, perms):
        from azure.storage.blob import generate_container_sas
        now = datetime.datetime.now(datetime.timezone.utc)
        sas = generate_container_sas(harness.ACCOUNT, container, account_key=harness.ACCOUNT_KEY,
                                     permission=perms, start=now - datetime.timedelta(minutes=5),
                                     expiry=now + datetime.timedelta(hours=2))
        return '%s/%s?%s' % (self.server.blob_account_url, container, sas)

    def own_queue_sas(self, queue, perms):
        from azure.storage.queue import generate_queue_sas
        now = datetime.datetime.now(datetime.timezone.utc)
        sas = generate_queue_sas(harness.ACCOUNT, queue, account_key=harness.ACCOUNT_KEY,
                                 permission=perms, start=now - datetime.timedelta(minutes=5),
                                 expiry=now + datetime.timedelta(hours=2))
        return '%s/%s?%s' % (self.server.queue_account_url, queue, sas)

    def test_own_storage_sas_permissions(self):
        sp = self.new_site('own')
        pkg = self.small_package(sp)
        (data, meta), qname = self.own_storage()
        m = mt.Migration(sp, pkg, queue_uri=self.own_queue_sas(qname, 'rau'), encrypted=False)
        m.containers = {'DataContainerUri': self.own_sas(data, 'rwl'),
                        'MetadataContainerUri': self.own_sas(meta, 'rwl')}
        m.upload()
        web = pkg.target.web_id
        refused = [('r', 'rwl'), ('rw', 'rwl'), ('rl', 'rw'), ('rl', 'rl'), ('l', 'rwl')]
        for dp, mp in refused:
            err = self.sp_error(sp.create_job, web, self.own_sas(data, dp),
                                self.own_sas(meta, mp), m.queue_uri)
            self.assertSpError(err, 400, E_INVALIDARG)
            self.assertIn('SAS', err.message, (dp, mp, err))
        # A SAS that starts in the future is refused too.
        from azure.storage.blob import generate_container_sas
        now = datetime.datetime.now(datetime.timezone.utc)
        future = generate_container_sas(harness.ACCOUNT, data, account_key=harness.ACCOUNT_KEY,
                                        permission='rl', start=now + datetime.timedelta(hours=1),
                                        expiry=now + datetime.timedelta(hours=3))
        err = self.sp_error(sp.create_job, web, '%s/%s?%s' % (self.server.blob_account_url,
                                                              data, future),
                            self.own_sas(meta, 'rwl'), m.queue_uri)
        self.assertSpError(err, 400, E_INVALIDARG)
        # The documented permissions work: content rl, manifest rwl, queue rau.
        m.containers = {'DataContainerUri': self.own_sas(data, 'rl'),
                        'MetadataContainerUri': self.own_sas(meta, 'rwl')}
        m.submit()
        reader = mt.ReportQueue(self.own_queue_sas(qname, 'rp'))
        events = m.wait(queue=reader)
        self.assertEventShape(events, m.job_id)
        self.assertClean(events)
        self.assertTrue(all('Label' not in r for r in reader.raw[m.job_id.lower()]),
                        'events of an unencrypted job are not enveloped')
        self.assertImported(sp, pkg, ['Reports', 'Reports/a.txt', 'Reports/b.txt', 'c.txt'])
        self.assertIn('Imported', m.import_log('log'))

    def test_progress_of_unknown_job(self):
        sp = self.sp()
        for accept in (mt.NOMETADATA, mt.VERBOSE):
            err = self.sp_error(sp.with_(accept=accept).job_progress, str(uuid.uuid4()), '0')
            self.assertSpError(err, 500, E_JOB_NOT_FOUND)
        self.assertEqual(sp.job_status(str(uuid.uuid4())), 0, 'an unknown job is None (0)')

    # -- the job runs and reports ------------------------------------------------------------

    def test_wrong_key_at_submit(self):
        sp, pkg, m = self.prepared('wrongkey')
        m.upload()
        other = os.urandom(32)
        m.submit(key_b64=mt.b64(other))
        events = m.wait(key=other)  # events are encrypted with the key the job was given
        self.assertFatal(events)
        self.assertNothingImported(sp, pkg)

    def test_corrupt_ciphertext(self):
        sp, pkg, m = self.prepared('corrupt')
        a = pkg.find('Reports/a.txt')
        m.blob_opts[a.current.blob] = {'transform': lambda ct: ct[:-5]}
        events = self.run_job(m)
        self.assertErrors(events, {self.url(pkg, 'Reports/a.txt'): ('File', a.id, None)})
        self.assertAbsent(sp, pkg.target, 'Reports/a.txt')
        self.assertImported(sp, pkg, ['Reports', 'Reports/b.txt', 'c.txt'])
        self.assertIn(self.url(pkg, 'Reports/a.txt'), m.import_log('err'))

    def test_wrong_key_on_a_blob_bad_padding(self):
        sp, pkg, m = self.prepared('padding')
        b = pkg.find('Reports/b.txt')
        other = os.urandom(32)
        while True:  # an IV whose ciphertext does not unpad under the job key
            iv = mt.new_iv()
            try:
                mt.aes_decrypt(m.key, iv, mt.aes_encrypt(other, iv, b.current.data))
            except ValueError:
                break
        m.blob_opts[b.current.blob] = {'key': other, 'iv': iv}
        events = self.run_job(m)
        self.assertErrors(events, {self.url(pkg, 'Reports/b.txt'): ('File', b.id, None)})
        self.assertAbsent(sp, pkg.target, 'Reports/b.txt')
        self.assertImported(sp, pkg, ['Reports', 'Reports/a.txt', 'c.txt'])

    def test_missing_iv(self):
        sp, pkg, m = self.prepared('noiv')
        c = pkg.find('c.txt')
        m.blob_opts[c.current.blob] = {'set_iv': False}
        events = self.run_job(m)
        self.assertErrors(events, {self.url(pkg, 'c.txt'): ('File', c.id, None)})
        self.assertAbsent(sp, pkg.target, 'c.txt')
        self.assertImported(sp, pkg, ['Reports', 'Reports/a.txt', 'Reports/b.txt'])

    def test_missing_iv_on_a_manifest_blob(self):
        sp, pkg, m = self.prepared('noivxml')
        m.blob_opts['Manifest.xml'] = {'set_iv': False}
        self.assertFatal(self.run_job(m))
        self.assertNothingImported(sp, pkg)

    def test_content_blob_without_snapshot(self):
        sp, pkg, m = self.prepared('nosnap')
        a = pkg.find('Reports/a.txt')
        m.blob_opts[a.current.blob] = {'snapshot': False}
        events = self.run_job(m)
        self.assertErrors(events, {self.url(pkg, 'Reports/a.txt'): ('File', a.id, None)})
        self.assertIn('snapshot', self.issues(events)[0]['Message'].lower())
        self.assertAbsent(sp, pkg.target, 'Reports/a.txt')
        self.assertImported(sp, pkg, ['Reports', 'Reports/b.txt', 'c.txt'])

    def test_manifest_blob_without_snapshot(self):
        sp, pkg, m = self.prepared('nosnapxml')
        m.blob_opts['Manifest.xml'] = {'snapshot': False}
        self.assertFatal(self.run_job(m), word='snapshot')
        self.assertNothingImported(sp, pkg)

    def test_latest_snapshot_is_what_counts(self):
        """Changing a blob after its snapshot changes nothing; a newer snapshot does."""
        sp, pkg, m = self.prepared('snapshots')
        m.upload()
        data = mt.Container(m.data_uri)
        a, c = pkg.find('Reports/a.txt'), pkg.find('c.txt')
        # a: overwritten without a new snapshot (the import must use the snapshot).
        data.put(a.current.blob, b'changed later' * 7, key=m.key, snapshot=False)
        # c: overwritten with same-size bytes and snapshotted again (the newest one counts).
        c.current.data = b'CHARLIE'
        data.put(c.current.blob, c.current.data, key=m.key)
        m.submit()
        events = m.wait()
        self.assertClean(events)
        self.assertImported(sp, pkg, ['Reports/a.txt', 'c.txt'])

    def test_content_md5_mismatch(self):
        sp, pkg, m = self.prepared('md5')
        m.upload()
        from azure.storage.blob import ContentSettings
        a = pkg.find('Reports/a.txt')
        bc = mt.Container(m.data_uri).blob(a.current.blob)
        bc.set_http_headers(ContentSettings(content_type='application/octet-stream',
                                            content_md5=bytearray(os.urandom(16))))
        bc.create_snapshot()
        m.submit()
        events = m.wait()
        self.assertEventShape(events, m.job_id)
        self.assertErrors(events, {self.url(pkg, 'Reports/a.txt'): ('File', a.id, None)})
        self.assertAbsent(sp, pkg.target, 'Reports/a.txt')
        self.assertImported(sp, pkg, ['Reports', 'Reports/b.txt', 'c.txt'])

    def test_missing_required_xml_file(self):
        for name in ('UserGroup.xml', 'Manifest.xml', 'ExportSettings.xml', 'SystemData.xml'):
            with self.subTest(name=name):
                sp, pkg, m = self.prepared('noxml')
                m.skip.add(name)
                self.assertFatal(self.run_job(m), code=E_NOT_FOUND)
                self.assertNothingImported(sp, pkg)

    def test_missing_optional_xml_file_warns(self):
        sp, pkg, m = self.prepared('optxml')
        m.skip.add('Requirements.xml')
        events = self.run_job(m)
        iss = self.issues(events)
        self.assertEqual([e['Event'] for e in iss], ['JobWarning'], iss)
        self.assertIn('Requirements.xml', iss[0]['Message'] + iss[0]['Url'])
        self.assertEqual(events[-1]['TotalWarnings'], '1')
        self.assertIn('Requirements.xml', m.import_log('wrn'))
        self.assertEqual(m.import_log('err').strip(), '')
        self.assertImported(sp, pkg, ['Reports', 'Reports/a.txt', 'Reports/b.txt', 'c.txt'])

    def test_wrong_namespace(self):
        for name, ns in (('Manifest.xml', 'urn:deployment-manifest-schema'),
                         ('UserGroup.xml', 'urn:deployment-usergroupmap-schema')):
            with self.subTest(name=name):
                sp, pkg, m = self.prepared('badns')
                xml = m.xml[name].decode()
                self.assertIn(ns, xml)
                m.xml[name] = xml.replace(ns, 'urn:not-' + ns[4:]).encode()
                self.assertFatal(self.run_job(m), code=E_XML)
                self.assertNothingImported(sp, pkg)

    def test_xml_bomb(self):
        sp, pkg, m = self.prepared('bomb')
        lol = ['<!ENTITY lol0 "lololololololololololol">']
        for i in range(1, 10):
            lol.append('<!ENTITY lol%d "%s">' % (i, ('&lol%d;' % (i - 1)) * 10))
        xml = m.xml['Manifest.xml'].decode()
        head, rest = xml.split('\n', 1)
        rest = rest.replace('Name="Reports"', 'Name="&lol9;"', 1)
        m.xml['Manifest.xml'] = ('%s\n<!DOCTYPE SPObjects [%s]>\n%s' % (
            head, ''.join(lol), rest)).encode()
        t0 = time.monotonic()
        self.assertFatal(self.run_job(m), code=E_XML)
        self.assertLess(time.monotonic() - t0, 20)
        self.assertNothingImported(sp, pkg)

    def test_external_entity(self):
        sp, pkg, m = self.prepared('xxe')
        xml = m.xml['Manifest.xml'].decode()
        head, rest = xml.split('\n', 1)
        rest = rest.replace('Name="Reports"', 'Name="&ext;"', 1)
        m.xml['Manifest.xml'] = ('%s\n<!DOCTYPE SPObjects [<!ENTITY ext SYSTEM '
                                 '"file:///etc/hostname">]>\n%s' % (head, rest)).encode()
        self.assertFatal(self.run_job(m), code=E_XML)
        self.assertNothingImported(sp, pkg)

    def test_manifest_names_an_absent_blob(self):
        sp, pkg, m = self.prepared('absent')
        b = pkg.find('Reports/b.txt')
        m.skip.add(b.current.blob)
        events = self.run_job(m)
        self.assertErrors(events, {self.url(pkg, 'Reports/b.txt'): ('File', b.id, None)})
        self.assertAbsent(sp, pkg.target, 'Reports/b.txt')
        self.assertImported(sp, pkg, ['Reports', 'Reports/a.txt', 'c.txt'])

    def test_duplicate_ids(self):
        sp, pkg, m = self.prepared('dupid')
        a, b = pkg.find('Reports/a.txt'), pkg.find('Reports/b.txt')
        b.id = a.id
        m.xml = None
        m.build()
        events = self.run_job(m)
        self.assertErrors(events, {self.url(pkg, 'Reports/b.txt'): ('File', a.id,
                                                                    E_ALREADY_EXISTS)})
        self.assertAbsent(sp, pkg.target, 'Reports/b.txt')
        self.assertImported(sp, pkg, ['Reports', 'Reports/a.txt', 'c.txt'])

    def test_duplicate_list_item_int_id(self):
        sp, pkg, m = self.prepared('dupint')
        a, c = pkg.find('Reports/a.txt'), pkg.find('c.txt')
        c.int_id = a.int_id
        m.xml = None
        m.build()
        events = self.run_job(m)
        self.assertErrors(events, {self.url(pkg, 'c.txt'): ('File', c.id, E_ALREADY_EXISTS)})
        self.assertAbsent(sp, pkg.target, 'c.txt')
        self.assertImported(sp, pkg, ['Reports', 'Reports/a.txt', 'Reports/b.txt'])

    def test_list_item_id_taken_by_other_content_of_the_library(self):
        """A new file whose list item id belongs to another item of the library: a JobError
        with ERROR_ALREADY_EXISTS (as for a duplicate IntId inside one package), the existing
        item untouched."""
        sp, pkg, m = self.prepared('taken')
        self.assertClean(self.run_job(m))
        t = pkg.target
        a = pkg.find('Reports/a.txt')
        p2 = mt.Package(t)
        x = p2.add_file('x.txt', b'new file, old int id', int_id=a.int_id)
        p2.add_file('z.txt', b'new file, new ids')
        m2 = mt.Migration(sp, p2).provision()
        events = self.run_job(m2)
        self.assertErrors(events, {self.url(p2, 'x.txt'): ('File', x.id, E_ALREADY_EXISTS)})
        self.assertAbsent(sp, t, 'x.txt')
        self.assertImported(sp, pkg, ['Reports/a.txt', 'Reports/b.txt', 'c.txt'])
        self.assertImported(sp, p2, ['z.txt'])

    def test_child_before_parent(self):
        sp, pkg, m = self.prepared('order')
        folder = pkg.find('Reports')
        pkg.objects.remove(folder)
        pkg.objects.insert(pkg.objects.index(pkg.find('c.txt')), folder)
        m.xml = None
        m.build()
        a, b = pkg.find('Reports/a.txt'), pkg.find('Reports/b.txt')
        events = self.run_job(m)
        self.assertErrors(events, {self.url(pkg, 'Reports/a.txt'): ('File', a.id,
                                                                    E_PATH_NOT_FOUND),
                                   self.url(pkg, 'Reports/b.txt'): ('File', b.id,
                                                                    E_PATH_NOT_FOUND)})
        self.assertAbsent(sp, pkg.target, 'Reports/a.txt')
        self.assertAbsent(sp, pkg.target, 'Reports/b.txt')
        self.assertImported(sp, pkg, ['Reports', 'c.txt'])

    def test_invalid_names(self):
        sp = self.new_site('names')
        pkg = self.small_package(sp)
        bad = ['a:b.txt', 'CON', 'Reports/q?.txt', 'Reports/~$lock.docx', 'trailing .txt ',
               'x_vti_y.txt', 'desktop.ini']
        for rel in bad:
            pkg.add_file(rel, b'never')
        bad_folders = ['bad|folder', 'forms', 'Page_files', '~drafts']
        for rel in bad_folders:
            pkg.add_folder(rel)
        m = mt.Migration(sp, pkg).provision()
        events = self.run_job(m)
        expected = {self.url(pkg, rel): ('File', pkg.find(rel).id, E_INVALID_NAME)
                    for rel in bad}
        for rel in bad_folders:
            expected[self.url(pkg, rel)] = ('Folder', pkg.find(rel).id, E_INVALID_NAME)
        self.assertErrors(events, expected)
        self.assertAbsent(sp, pkg.target, 'a:b.txt')
        self.assertAbsent(sp, pkg.target, 'CON')
        self.assertImported(sp, pkg, ['Reports', 'Reports/a.txt', 'Reports/b.txt', 'c.txt'])

    def test_file_size_not_as_declared(self):
        sp, pkg, m = self.prepared('size')
        a, b = pkg.find('Reports/a.txt'), pkg.find('Reports/b.txt')
        a.current.file_size = len(a.current.data) - 1   # the blob is larger than declared
        b.current.file_size = len(b.current.data) + 10  # the blob is smaller than declared
        m.xml = None
        m.build()
        events = self.run_job(m)
        self.assertErrors(events, {self.url(pkg, 'Reports/a.txt'): ('File', a.id, None),
                                   self.url(pkg, 'Reports/b.txt'): ('File', b.id, None)})
        self.assertAbsent(sp, pkg.target, 'Reports/a.txt')
        self.assertAbsent(sp, pkg.target, 'Reports/b.txt')
        self.assertImported(sp, pkg, ['Reports', 'c.txt'])


class PublicHostTests(unittest.TestCase):
    """The storage URLs ProvisionMigrationContainers and ProvisionMigrationQueue hand out name a
    host clients can reach: on a wildcard listener (a container's 0.0.0.0) the one each client
    called the SharePoint listener by, or --public-host when it is set. The admin token comes
    from a file, as a mounted secret does."""

    def setUp(self):
        harness.warnings.simplefilter('ignore', ResourceWarning)  # the SDK's pooled sockets

    def provision(self, server, host_header, token):
        port = urllib.parse.urlsplit(server.sp).port
        got = {}
        for method, key in (('ProvisionMigrationContainers', 'DataContainerUri'),
                            ('ProvisionMigrationQueue', 'JobQueueUri')):
            r = harness.request('POST', 'http://127.0.0.1:%d/_api/site/%s' % (port, method),
                                headers={'Host': host_header, 'Authorization': 'Bearer ' + token,
                                         'Accept': 'application/json;odata=nometadata'},
                                body=b'', version=None)
            self.assertEqual(r.status, 200, r.body)
            got[method] = urllib.parse.urlsplit(json.loads(r.body)[key])
        return got['ProvisionMigrationContainers'], got['ProvisionMigrationQueue']

    def start(self, args):
        server = harness.Server(args)
        self.addCleanup(server.cleanup)
        self.addCleanup(lambda: server.running() and server.stop())
        return server

    def test_wildcard_listener_names_the_host_the_client_called(self):
        token = 'file-token-' + uuid.uuid4().hex
        server = self.start(['--host', '0.0.0.0'])
        path = os.path.join(server.tmp, 'token')
        with open(path, 'w') as f:
            f.write(token + '\n')
        server.stop()
        server.extra_args += ['--admin-token-file', path]
        server.start()
        blob_port = urllib.parse.urlsplit(server.blob).port
        queue_port = urllib.parse.urlsplit(server.queue).port
        for header, host in (('localhost:8080', 'localhost'), ('spmigd:8080', 'spmigd'),
                             ('[::1]:8080', '[::1]'), ('bad host/x', 'localhost')):
            data, queue = self.provision(server, header, token)
            self.assertEqual(data.netloc, '%s:%d' % (host, blob_port), header)
            self.assertEqual(queue.netloc, '%s:%d' % (host, queue_port), header)
        # What it hands out is what it takes back: the containers work through that name.
        data, _ = self.provision(server, 'localhost:1', token)
        c = mt.Container(urllib.parse.urlunsplit(data))
        c.client.upload_blob('probe.bin', b'x')

    def test_public_host_is_used_whatever_the_client_called(self):
        token = 'pub-' + uuid.uuid4().hex
        server = self.start(['--host', '0.0.0.0', '--public-host', 'storage.test',
                             '--admin-token', token])
        blob_port = urllib.parse.urlsplit(server.blob).port
        data, queue = self.provision(server, 'localhost:8080', token)
        self.assertEqual(data.netloc, 'storage.test:%d' % blob_port)
        self.assertEqual(urllib.parse.urlsplit(server.sp).hostname, 'storage.test')


if __name__ == '__main__':
    unittest.main()
