"""End-to-end checks of the SharePoint listener beyond the migration flow: bearer auth, the
three OData shapes, libraries, sites and users through /_emu, and throttling through
/_emu/faults. Raw HTTP (http.client via migration_tool.http_call) against the real spmigd."""
import json
import unittest

import migration_tool as mt
from harness import ServerTestCase

TOKEN = 'sp-api-admin'


class SharePointApiTests(ServerTestCase):
    server_args = ('--admin-token', TOKEN)

    def call(self, method, path, token=TOKEN, accept=mt.NOMETADATA, body=None):
        h = {'Accept': accept}
        if token:
            h['Authorization'] = 'Bearer ' + token
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h['Content-Type'] = 'application/json'
        return mt.http_call(method, self.server.sp + path, data, h)

    def assertSpError(self, r, status, hresult):
        self.assertEqual(r.status, status, r.body)
        err = json.loads(r.body)['error']
        self.assertTrue(err['code'].startswith('%d, ' % hresult), err)
        self.assertEqual(err['message']['lang'], 'en-US')
        self.assertTrue(err['message']['value'])

    def test_auth(self):
        self.assertSpError(self.call('GET', '/_api/web', token=None), 401, -2147024891)
        self.assertSpError(self.call('GET', '/_api/web', token='wrong'), 401, -2147024891)
        self.assertEqual(self.call('GET', '/_api/web').status, 200)
        # A member may read but not provision.
        u = mt.emu(self.server.sp, TOKEN, 'POST', 'users',
                   {'login': 'member@contoso.com', 'role': 'Member', 'site': '/'})
        self.assertEqual(self.call('GET', '/_api/web', token=u['token']).status, 200)
        r = self.call('POST', '/_api/site/ProvisionMigrationContainers', token=u['token'])
        self.assertSpError(r, 403, -2147024891)
        # Only admins reach /_emu.
        r = self.call('GET', '/_emu/sites', token=u['token'])
        self.assertSpError(r, 403, -2147024891)
        self.assertEqual(self.call('GET', '/_emu/health', token=None).status, 200)

    def test_routes(self):
        # A registered site method is matched case-insensitively; a POST-only one answers 405
        # with Allow; an unknown method is an argument error; /_emu routes before /_api.
        r = self.call('GET', '/_api/site/provisionmigrationcontainers')
        self.assertSpError(r, 405, -2147024809)
        self.assertEqual(r.headers.get('Allow'), 'POST')
        r = self.call('GET', "/_api/site/getmigrationjobstatus('00000000-0000-0000-0000-000000000000')")
        self.assertEqual(r.status, 200, r.body)
        self.assertSpError(self.call('POST', '/_api/site/NoSuchMethod'), 400, -2147024809)
        self.assertSpError(self.call('GET', '/_emu/nosuchcontrol/_api/web'), 404, -2147024894)
        self.assertSpError(self.call('GET', '/nosuchpage'), 404, -2147024894)
        r = self.call('PUT', '/_emu/clock')
        self.assertSpError(r, 405, -2147024809)
        self.assertEqual(r.headers.get('Allow'), 'GET, POST')

    def test_odata_shapes(self):
        v = json.loads(self.call('GET', '/_api/web', accept=mt.VERBOSE).body)
        self.assertEqual(v['d']['__metadata']['type'], 'SP.Web')
        n = json.loads(self.call('GET', '/_api/web').body)
        self.assertNotIn('__metadata', n)
        self.assertNotIn('odata.type', n)
        self.assertEqual(n['Id'], v['d']['Id'])
        m = json.loads(self.call('GET', '/_api/web', accept='application/json').body)
        self.assertEqual(m['odata.type'], 'SP.Web')
        lv = json.loads(self.call('GET', '/_api/web/lists', accept=mt.VERBOSE).body)
        self.assertIsInstance(lv['d']['results'], list)
        ln = json.loads(self.call('GET', '/_api/web/lists').body)
        self.assertIsInstance(ln['value'], list)
        ci = json.loads(self.call('POST', '/_api/contextinfo', accept=mt.VERBOSE).body)
        self.assertIn('FormDigestValue', ci['d']['GetContextWebInformation'])

    def test_sites_and_libraries(self):
        r = mt.emu(self.server.sp, TOKEN, 'POST', 'sites', {'url': '/sites/hr', 'title': 'HR'})
        self.assertEqual(r['url'], '/sites/hr')
        web = json.loads(self.call('GET', '/sites/HR/_api/web').body)  # case-insensitive
        self.assertEqual(web['ServerRelativeUrl'], '/sites/hr')
        self.assertEqual(web['Id'], r['webId'])
        r = self.call('POST', '/sites/hr/_api/web/lists', body={'Title': 'Team Docs',
                                                                  'BaseTemplate': 101})
        self.assertEqual(r.status, 201, r.body)
        lst = json.loads(self.call(
            'GET', "/sites/hr/_api/web/lists/GetByTitle('team%20docs')?$expand=RootFolder").body)
        self.assertEqual(lst['RootFolder']['ServerRelativeUrl'], '/sites/hr/Team Docs')
        r = self.call('POST', '/sites/hr/_api/web/lists', body={'Title': 'Team Docs',
                                                                  'BaseTemplate': 101})
        self.assertSpError(r, 500, -2130575342)
        self.assertSpError(self.call('GET', "/sites/hr/_api/web/lists/getbytitle('nope')"),
                           404, -2130575322)
        self.assertSpError(self.call('GET', '/sites/none/_api/web'), 404, -2147024894)
        self.assertSpError(self.call('GET', "/_api/web/getbytitle('open"), 400, -2147024809)
        self.assertSpError(self.call('POST', '/_api/web/lists', body=None), 400, -2147024809)
        r = mt.http_call('POST', self.server.sp + '/_api/web/lists', b'{not json',
                         {'Authorization': 'Bearer ' + TOKEN, 'Content-Type': 'application/json'})
        self.assertEqual(r.status, 400)

    def test_faults(self):
        fid = mt.emu(self.server.sp, TOKEN, 'POST', 'faults',
                     {'status': 429, 'retryAfter': 3, 'operation': 'web', 'count': 2})['id']
        self.assertGreater(fid, 0)
        for _ in range(2):
            r = self.call('GET', '/_api/web')
            self.assertSpError(r, 429, -2147024860)
            self.assertEqual(r.headers.get('Retry-After'), '3')
        self.assertEqual(self.call('GET', '/_api/web').status, 200)  # count used up
        mt.emu(self.server.sp, TOKEN, 'POST', 'faults',
               {'status': 503, 'retryAfter': 1, 'user': 'someone@else'})
        self.assertEqual(self.call('GET', '/_api/web').status, 200)  # another user's rule
        self.assertEqual(len(mt.emu(self.server.sp, TOKEN, 'GET', 'faults')['faults']), 1)
        mt.emu(self.server.sp, TOKEN, 'DELETE', 'faults')
        self.assertEqual(mt.emu(self.server.sp, TOKEN, 'GET', 'faults')['faults'], [])
        r = self.call('POST', '/_emu/faults', body={'status': 418})
        self.assertSpError(r, 400, -2147024809)


if __name__ == '__main__':
    unittest.main()
