"""
test_odata.py: OData as SharePoint speaks it, against the real spmigd with a library filled by
the real spmig. Items by key (and 404 for one that does not exist), $select, $filter,
$orderby, $expand, $top with $skiptoken paging whose every page has the shape of an unpaged
answer, the canonical uris, etags and deferred links an entity carries, navigating from an
item to its file and its bytes through the uris the server handed out, folder and file keys;
and the refusals, each with SharePoint's status and error code.
"""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import migration_tool as mt
from test_client import ADMIN, ClientCase, make_share

LIB = 'Queried'
JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'js')
ITEMS = "web/lists/getbytitle('%s')/items" % LIB


class ODataTest(ClientCase):
    share = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.src = tempfile.mkdtemp(prefix='spmig-odata-')
        cls.files = make_share(cls.src, n_files=30, seed=11)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.src, True)
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        if not ODataTest.share:
            ODataTest.share = self.make_library(LIB)
            self.migrate(self.src, LIB)
        self.verbose = mt.SharePoint(self.server.sp, ADMIN, accept=mt.VERBOSE)
        self.all = self.sp.collection(ITEMS, {'$top': '5000'})

    def get(self, url, accept=mt.VERBOSE):
        r = mt.http_call('GET', url, None, {'Accept': accept, 'Authorization': 'Bearer ' + ADMIN})
        self.assertEqual(r.status, 200, (url, r.body))
        return r

    def test_item_by_key_and_its_uris(self):
        some = self.all[len(self.all) // 2]
        n = some['Id']
        it = self.verbose.get_json("%s(%d)" % (ITEMS, n))['d']
        self.assertEqual(it['Id'], n)
        md = it['__metadata']
        self.assertEqual(md['type'], 'SP.ListItem')
        self.assertTrue(md['uri'].endswith('/Items(%d)' % n), md)
        self.assertEqual(md['id'], md['uri'])
        self.assertTrue(md['etag'].startswith('"'), md)
        # The canonical uri answers with the same item; deferred links lead to its users.
        again = self.get(md['uri']).json()['d']
        self.assertEqual(again['GUID'], it['GUID'])
        author = self.get(it['Author']['__deferred']['uri']).json()['d']
        self.assertEqual(author['Id'], it['AuthorId'])
        # Minimal metadata names the same address.
        m = self.sp.raw('GET', "%s(%d)" % (ITEMS, n), headers={'Accept': 'application/json'})[1]
        mj = m.json()
        self.assertEqual(mj['odata.id'], md['uri'])
        self.assertTrue(md['uri'].endswith(mj['odata.editLink']))
        self.assertEqual(mj['odata.etag'], md['etag'])
        # GetById is the same; an item that does not exist is a 404, a bad key a 400.
        self.assertEqual(self.sp.entity("%s/GetById(%d)" % (ITEMS, n))['Id'], n)
        _, r = self.sp.raw('GET', '%s(987654)' % ITEMS)
        self.assertEqual(r.status, 404, r.body)
        self.assertTrue(r.json()['error']['code'].startswith('-2147024809, '))
        _, r = self.sp.raw('GET', "%s('abc')" % ITEMS)
        self.assertEqual(r.status, 400, r.body)

    def test_select_filter_orderby(self):
        got = self.sp.collection(ITEMS, {'$select': 'Id,FileLeafRef', '$top': '5000'})
        self.assertEqual({k for i in got for k in i}, {'Id', 'ID', 'FileLeafRef'})
        v = self.verbose.get_json(ITEMS, {'$select': 'FileLeafRef', '$top': '2'})['d']['results']
        self.assertEqual(set(v[0]), {'__metadata', 'FileLeafRef'})
        v = self.verbose.get_json(ITEMS, {'$select': 'Id,Author', '$top': '1'})['d']['results']
        self.assertIn('__deferred', v[0]['Author'])

        files = [i for i in self.all if i['FSObjType'] == 0]
        want = sorted((i['Id'] for i in files if i['FileLeafRef'].lower().startswith('file 01')))
        got = self.sp.collection(ITEMS, {'$filter': "FSObjType eq 0 and startswith(FileLeafRef,"
                                                    "'file 01')", '$top': '5000'})
        self.assertEqual([i['Id'] for i in got], want)
        self.assertTrue(want)
        big = [i['Id'] for i in files if int(i['File_x0020_Size']) > 4096]
        got = self.sp.collection(ITEMS, {'$filter': 'File_x0020_Size gt 4096', '$top': '5000'})
        self.assertEqual([i['Id'] for i in got], big)
        some = self.all[3]
        got = self.sp.collection(ITEMS, {'$filter': "not (Id ne %d) or substringof('Q1', "
                                                    "FileRef) and FSObjType eq 1" % some['Id']})
        want = [i['Id'] for i in self.all
                if i['Id'] == some['Id'] or ('Q1' in i['FileRef'] and i['FSObjType'] == 1)]
        self.assertEqual([i['Id'] for i in got], want)

        by_name = sorted(self.all, key=lambda i: (-i['FSObjType'], i['FileLeafRef'].lower()),
                         reverse=False)
        got = self.sp.collection(ITEMS, {'$orderby': 'FSObjType desc,FileLeafRef asc',
                                         '$top': '5000'})
        self.assertEqual([i['Id'] for i in got], [i['Id'] for i in by_name])

    def test_paging_keeps_options_and_shape(self):
        q = {'$filter': 'FSObjType eq 0', '$orderby': 'FileLeafRef desc',
             '$select': 'Id,FileLeafRef,Author/Title', '$expand': 'Author', '$top': '4'}
        url, r = self.verbose.raw('GET', ITEMS, params=q)
        pages = 0
        seen = []
        while True:
            self.assertEqual(r.status, 200, r.body)
            self.assertIn('odata=verbose', r.headers.get('Content-Type'))
            d = r.json()['d']
            for it in d['results']:
                self.assertEqual(it['__metadata']['type'], 'SP.ListItem')
                self.assertEqual(set(it), {'__metadata', 'Id', 'ID', 'FileLeafRef', 'Author'})
                self.assertIn('Title', it['Author'])
                seen.append(it['FileLeafRef'])
            pages += 1
            if '__next' not in d:
                break
            self.assertLessEqual(len(d['results']), 4)
            r = self.get(d['__next'])
        want = sorted((i['FileLeafRef'] for i in self.all if i['FSObjType'] == 0),
                      key=str.lower, reverse=True)
        self.assertEqual(seen, want)
        self.assertGreater(pages, 2)
        # Equal sort keys page in the order of ids, each item once.
        paged = self.sp.collection(ITEMS, {'$orderby': 'FSObjType desc', '$top': '3'})
        want = sorted(self.all, key=lambda i: (-i['FSObjType'], i['Id']))
        self.assertEqual([i['Id'] for i in paged], [i['Id'] for i in want])

    def test_item_to_file_to_bytes(self):
        rel = sorted(r for r in self.files if '/' in r and self.files[r])[0]
        leaf = rel.rsplit('/', 1)[1]
        items = self.verbose.get_json(ITEMS, {'$filter': "FileLeafRef eq '%s'" % leaf.replace(
            "'", "''"), '$expand': 'File'})['d']['results']
        self.assertEqual(len(items), 1)
        f = items[0]['File']
        self.assertEqual(f['__metadata']['type'], 'SP.File')
        self.assertEqual(f['Name'], leaf)
        body = self.get(f['__metadata']['uri'] + '/$value').body
        self.assertEqual(body, self.files[rel])
        ent = self.get(f['__metadata']['uri']).json()['d']
        self.assertEqual(ent['UniqueId'], f['UniqueId'])
        self.assertIn('__deferred', ent['ListItemAllFields'])
        back = self.get(ent['ListItemAllFields']['__deferred']['uri']).json()['d']
        self.assertEqual(back['Id'], items[0]['Id'])

    def test_folder_and_file_keys(self):
        root = "web/GetFolderByServerRelativeUrl(%s)" % mt.quote_literal(ODataTest.share)
        sub = self.sp.entity(root + "/Folders('Reports')")
        self.assertEqual(sub['ServerRelativeUrl'], ODataTest.share + '/Reports')
        name = sorted(r for r in self.files if '/' not in r)[0]
        f = self.sp.entity(root + "/Files(%s)" % mt.quote_literal(name))
        self.assertEqual(f['Name'], name)
        _, r = self.sp.raw('GET', root + "/Folders('nope')")
        self.assertEqual(r.status, 404, r.body)
        _, r = self.sp.raw('GET', root + "/Files('Reports')")
        self.assertEqual(r.status, 404, r.body)
        names = [x['Name'] for x in self.sp.collection(root + '/Folders',
                                                       {'$orderby': 'Name desc', '$top': '2'})]
        self.assertEqual(len(names), 2)
        self.assertEqual(names, sorted(names, key=str.lower, reverse=True))
        folder = self.verbose.get_json(root, {'$expand': 'Files,Folders'})['d']
        self.assertIsInstance(folder['Files']['results'], list)
        self.assertEqual(folder['Folders']['results'][0]['__metadata']['type'], 'SP.Folder')

    def test_every_deferred_link_answers(self):
        """Each __deferred uri and each __metadata uri handed out is an address served."""
        file_item = next(i for i in self.all if i['FSObjType'] == 0)
        folder_item = next(i for i in self.all if i['FSObjType'] == 1)
        starts = ['web', 'site', "web/lists/getbytitle('%s')" % LIB,
                  "%s(%d)" % (ITEMS, file_item['Id']), "%s(%d)" % (ITEMS, folder_item['Id']),
                  "web/GetFolderByServerRelativeUrl(%s)" % mt.quote_literal(folder_item['FileRef']),
                  "web/GetFileByServerRelativeUrl(%s)" % mt.quote_literal(file_item['FileRef'])]
        for tail in starts:
            d = self.verbose.get_json(tail)['d']
            self.get(d['__metadata']['uri'])
            for name, v in d.items():
                if isinstance(v, dict) and '__deferred' in v:
                    r = self.get(v['__deferred']['uri'])
                    self.assertIn('odata=verbose', r.headers.get('Content-Type'), (tail, name))

    def test_method_override(self):
        """POST with X-HTTP-Method stands for that method: a DELETE of an item is refused as
        a DELETE is (405, Allow), an unknown override is a 400; no request digest is needed
        with a bearer token."""
        n = self.all[0]['Id']
        _, r = self.sp.raw('POST', '%s(%d)' % (ITEMS, n), headers={'X-HTTP-Method': 'DELETE',
                                                                   'IF-MATCH': '*'})
        self.assertEqual(r.status, 405, r.body)
        self.assertEqual(r.headers.get('Allow'), 'GET, HEAD')
        self.assertIn('DELETE', r.json()['error']['message']['value'])
        _, r = self.sp.raw('POST', '%s(%d)' % (ITEMS, n), headers={'X-HTTP-Method': 'FROB'})
        self.assertEqual(r.status, 400, r.body)
        self.assertTrue(r.json()['error']['code'].startswith('-1, '))
        self.assertEqual(self.sp.entity('%s(%d)' % (ITEMS, n))['Id'], n)

    @unittest.skipUnless(shutil.which('node') and
                         os.path.isdir(os.path.join(JS_DIR, 'node_modules', '@pnp', 'sp')),
                         'PnPjs is not installed: npm install in tests/e2e/js')
    def test_pnpjs(self):
        """PnPjs, unmodified, with only a bearer token added: what it reads means what it
        means on a tenant."""
        p = subprocess.run(['node', os.path.join(JS_DIR, 'pnp_items.mjs'), self.server.sp, ADMIN,
                            LIB], capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors='replace'))
        out = json.loads(p.stdout)
        ids = [i['Id'] for i in self.all]
        self.assertEqual([i['Id'] for i in out['all']], ids)
        first = next(i for i in self.all if i['FSObjType'] == 0)
        self.assertEqual(out['byId']['Id'], first['Id'])
        self.assertEqual(out['byId']['GUID'], first['GUID'])
        self.assertEqual(len(out['selected']), 2)
        self.assertEqual({k for i in out['selected'] for k in i if not k.startswith('odata.')},
                         {'Id', 'ID', 'FileLeafRef'})
        self.assertEqual([i['Id'] for i in out['filtered']],
                         [i['Id'] for i in self.all if i['FSObjType'] == 0 and
                          i['FileLeafRef'].lower().startswith('file 01')])
        self.assertEqual([i['Id'] for i in out['ordered']],
                         [i['Id'] for i in sorted(self.all, key=lambda i: i['FileLeafRef'].lower(),
                                                  reverse=True)])
        self.assertEqual(out['expanded']['File']['Name'], first['FileLeafRef'])
        self.assertTrue(out['expanded']['Author']['Title'])
        pages = out['pages']
        self.assertGreater(len(pages), 1)
        self.assertTrue(all(len(pg) <= 4 for pg in pages))
        self.assertEqual(sum(pages, []), [i['Id'] for i in self.all if i['FSObjType'] == 0])
        self.assertEqual(out['file']['UniqueId'], first['UniqueId'])
        rel = first['FileRef'][len(ODataTest.share) + 1:]
        self.assertEqual(base64.b64decode(out['fileBytes']), self.files[rel])
        self.assertEqual(out['missing'], 404)

    def test_refusals(self):
        cases = [
            (ITEMS, {'$top': 'abc'}, 400, -1),
            (ITEMS, {'$top': '5000/File'}, 400, -1),
            (ITEMS, {'$skip': '2'}, 400, -1),
            (ITEMS, {'$filter': 'Id eq'}, 400, -1),
            (ITEMS, {'$filter': "endswith(FileLeafRef,'x')"}, 400, -1),
            (ITEMS, {'$count': 'true'}, 400, -1),
            (ITEMS, {'$inlinecount': 'allpages'}, 400, -1),
            (ITEMS, {'$select': 'NoSuchColumn'}, 400, -2147024809),
            (ITEMS, {'$orderby': 'NoSuchColumn'}, 400, -2147024809),
            (ITEMS, {'$select': 'Author/Title'}, 400, -1),
            (ITEMS, {'$expand': 'NoSuchLookup'}, 400, -1),
            ('%s(1)' % ITEMS, {'$filter': 'Id eq 1'}, 400, -1),
            ('web', {'$select': 'NoSuchProperty'}, 400, -1),
            ('web/lists', {'$skiptoken': 'Paged=TRUE&p_ID=1'}, 400, -1),
        ]
        for tail, params, status, hresult in cases:
            _, r = self.sp.raw('GET', tail, params=params)
            self.assertEqual(r.status, status, (tail, params, r.body))
            err = r.json()['error']
            self.assertTrue(err['code'].startswith('%d, ' % hresult), (params, err))
            self.assertTrue(err['message']['value'], params)


if __name__ == '__main__':
    unittest.main()
