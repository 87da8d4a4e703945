"""End-to-end: CSOM's ProcessQuery against the real spmigd, with requests written as
Microsoft's clients write them: the context, the site and web and their properties, the web's
lists (one by title, all with their child items), a list's root folder, at the tenant root and
under /sites/<name>; the answer's header and encodings; errors as ErrorInfo in an HTTP 200
(unknown members, missing lists and files, loops, malformed XML, a DTD), and HTTP errors
before the protocol (no token, GET). A whole encrypted migration through CSOM's SP.Site
methods: containers and queue provisioned, the package uploaded, the job submitted with an
SP.EncryptionOption, followed to its end, and the file read back.

The binary comes from $SPMIGD (meson sets it). Run with /usr/bin/python3."""
import base64
import json
import re
import time
import unittest

import migration_tool as mt
from harness import ServerTestCase

ADMIN = 'csom-admin'
NS = 'http://schemas.microsoft.com/sharepoint/clientquery/2009'
CONTEXT = ('<StaticProperty Id="0" TypeId="{3747adcd-a3c3-41b9-bfab-4a64dd2f1e0a}" '
           'Name="Current" />')


def request(actions, paths):
    return ('<Request xmlns="%s" SchemaVersion="15.0.0.0" LibraryVersion="16.0.0.0" '
            'ApplicationName="Javascript Library"><Actions>%s</Actions><ObjectPaths>%s'
            '</ObjectPaths></Request>' % (NS, actions, paths))


def query(aid, path, props=(), all_props=False, child=None):
    q = '<Query SelectAllProperties="%s"><Properties>%s</Properties></Query>' % (
        'true' if all_props else 'false',
        ''.join('<Property Name="%s" ScalarProperty="true" />' % p for p in props))
    if child is not None:
        q += ('<ChildItemQuery SelectAllProperties="false"><Properties>%s</Properties>'
              '</ChildItemQuery>' % ''.join('<Property Name="%s" />' % p for p in child))
    return '<Query Id="%d" ObjectPathId="%d">%s</Query>' % (aid, path, q)


class CsomCase(ServerTestCase):
    server_args = ('--admin-token', ADMIN)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        mt.emu(cls.server.sp, ADMIN, 'POST', 'sites', {'url': '/sites/hr', 'title': 'HR'})

    def post(self, site, body, token=ADMIN, method='POST'):
        h = {'Content-Type': 'text/xml'}
        if token:
            h['Authorization'] = 'Bearer ' + token
        return mt.http_call(method, self.server.sp + site + '/_vti_bin/client.svc/ProcessQuery',
                            body.encode(), h)

    def process(self, site, body):
        r = self.post(site, body)
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(r.headers.get('Content-Type').startswith('application/json'))
        arr = json.loads(r.body)
        head = arr[0]
        self.assertEqual(head['SchemaVersion'], '15.0.0.0')
        self.assertTrue(head['LibraryVersion'])
        self.assertRegex(head['TraceCorrelationId'], r'^[0-9a-f-]{36}$')
        return head, dict(zip(arr[1::2], arr[2::2]))

    def error(self, site, body):
        head, results = self.process(site, body)
        self.assertIsNotNone(head['ErrorInfo'], head)
        self.assertEqual(results, {})
        e = head['ErrorInfo']
        self.assertTrue(e['ErrorMessage'])
        self.assertEqual(e['TraceCorrelationId'], head['TraceCorrelationId'])
        return e


class CsomTest(CsomCase):
    def test_site_web_and_lists(self):
        for site in ('', '/sites/hr'):
            with self.subTest(site=site):
                sp = mt.SharePoint(self.server.sp, ADMIN, site=site or '/', accept=mt.NOMETADATA)
                web = sp.entity('web')
                body = request(
                    '<ObjectPath Id="10" ObjectPathId="1" />' + query(11, 1, ['Id', 'Url']) +
                    query(12, 2, ['Id', 'Title', 'ServerRelativeUrl', 'Url']) +
                    query(13, 4, ['Id', 'Title', 'ItemCount', 'BaseTemplate']) +
                    query(14, 5, ['ServerRelativeUrl', 'Name']) +
                    query(15, 3, child=['Title', 'Id']) +
                    '<ObjectIdentityQuery Id="16" ObjectPathId="4" />',
                    CONTEXT + '<Property Id="1" ParentId="0" Name="Site" />'
                    '<Property Id="2" ParentId="0" Name="Web" />'
                    '<Property Id="5" ParentId="4" Name="RootFolder" />'
                    '<Method Id="4" ParentId="3" Name="GetByTitle"><Parameters>'
                    '<Parameter Type="String">Documents</Parameter></Parameters></Method>'
                    '<Property Id="3" ParentId="2" Name="Lists" />')
                head, res = self.process(site, body)
                self.assertIsNone(head['ErrorInfo'])
                self.assertEqual(res[10], {'IsNull': False})
                self.assertEqual(res[11]['_ObjectType_'], 'SP.Site')
                self.assertEqual(res[11]['Url'], self.server.sp + site)
                w = res[12]
                self.assertEqual(w['_ObjectType_'], 'SP.Web')
                self.assertEqual(w['Id'], '/Guid(%s)/' % web['Id'])
                self.assertEqual(w['Title'], web['Title'])
                self.assertEqual(w['ServerRelativeUrl'], web['ServerRelativeUrl'])
                self.assertTrue(w['_ObjectIdentity_'].endswith(web['Id']))
                lst = res[13]
                self.assertEqual((lst['_ObjectType_'], lst['Title'], lst['BaseTemplate']),
                                 ('SP.List', 'Documents', 101))
                rest = sp.entity("web/lists/getbytitle('Documents')")
                self.assertEqual(lst['ItemCount'], rest['ItemCount'])
                self.assertEqual(lst['Id'], '/Guid(%s)/' % rest['Id'])
                self.assertEqual(res[14]['ServerRelativeUrl'],
                                 sp.entity("web/lists/getbytitle('Documents')/RootFolder")[
                                     'ServerRelativeUrl'])
                titles = [c['Title'] for c in res[15]['_Child_Items_']]
                self.assertIn('Documents', titles)
                self.assertEqual(res[16]['_ObjectType_'], 'SP.List')
                self.assertNotIn('Title', res[16])

    def test_errors_as_error_info(self):
        base = CONTEXT + '<Property Id="2" ParentId="0" Name="Web" />'
        e = self.error('', request(query(1, 2, ['NoSuchField']), base))
        self.assertEqual(e['ErrorTypeName'],
                         'Microsoft.SharePoint.Client.InvalidClientQueryException')
        self.assertIn('NoSuchField', e['ErrorMessage'])
        e = self.error('', request(
            query(1, 4, ['Title']),
            base + '<Property Id="3" ParentId="2" Name="Lists" /><Method Id="4" ParentId="3" '
            'Name="GetByTitle"><Parameters><Parameter Type="String">Nope</Parameter>'
            '</Parameters></Method>'))
        self.assertEqual((e['ErrorCode'], e['ErrorTypeName']),
                         (-2130575322, 'System.ArgumentException'))
        self.assertIn("List 'Nope' does not exist", e['ErrorMessage'])
        e = self.error('', request(
            query(1, 5, ['Name']),
            base + '<Method Id="5" ParentId="2" Name="GetFileByServerRelativeUrl"><Parameters>'
            '<Parameter Type="String">/Shared Documents/none.txt</Parameter></Parameters>'
            '</Method>'))
        self.assertEqual(e['ErrorTypeName'], 'System.IO.FileNotFoundException')
        # Paths that refer to each other, and one that is not in the request.
        e = self.error('', request(query(1, 7, ['Title']),
                                   '<Property Id="7" ParentId="8" Name="Web" />'
                                   '<Property Id="8" ParentId="7" Name="Site" />'))
        self.assertIn('loop', e['ErrorMessage'])
        e = self.error('', request('<ObjectPath Id="1" ObjectPathId="42" />', ''))
        self.assertIn('42', e['ErrorMessage'])
        # The actions before the failing one answer nothing either: all or the error.
        e = self.error('', request('<ObjectPath Id="1" ObjectPathId="2" />' +
                                   query(3, 2, ['Bogus']), base))
        # 10,000 actions: refused whole, quickly, with the protocol's error.
        many = ''.join('<ObjectPath Id="%d" ObjectPathId="0" />' % (i + 1) for i in range(10000))
        t0 = time.monotonic()
        e = self.error('', request(many, CONTEXT))
        self.assertLess(time.monotonic() - t0, 5)
        self.assertIn('more than', e['ErrorMessage'])
        for bad in ('<Request', '<Other/>',
                    '<!DOCTYPE Request [<!ENTITY x "y">]><Request xmlns="%s"/>' % NS):
            e = self.error('', bad)
            self.assertEqual(e['ErrorTypeName'],
                             'Microsoft.SharePoint.Client.InvalidClientQueryException')

    def test_http_errors_before_the_protocol(self):
        body = request('<ObjectPath Id="1" ObjectPathId="0" />', CONTEXT)
        r = self.post('', body, token=None)
        self.assertEqual(r.status, 401)
        r = self.post('', body, token='wrong')
        self.assertEqual(r.status, 401)
        r = self.post('', '', method='GET')
        self.assertEqual(r.status, 405)
        # A member of the root site only may not read /sites/hr.
        member = mt.emu(self.server.sp, ADMIN, 'POST', 'users',
                        {'login': 'csom-member@contoso.com', 'role': 'Member', 'site': '/'})
        r = self.post('/sites/hr', body, token=member['token'])
        self.assertEqual(r.status, 200)
        e = json.loads(r.body)[0]['ErrorInfo']
        self.assertEqual(e['ErrorTypeName'], 'System.UnauthorizedAccessException')


SITE_PATH = CONTEXT + '<Property Id="1" ParentId="0" Name="Site" />'


def site_method(aid, name, params=''):
    return '<Method Name="%s" Id="%d" ObjectPathId="1"><Parameters>%s</Parameters></Method>' % (
        name, aid, params)


def string(v):
    return '<Parameter Type="String">%s</Parameter>' % v.replace('&', '&amp;')


def guid(v):
    return '<Parameter Type="Guid">{%s}</Parameter>' % v


class CsomMigrationTest(CsomCase):
    def call(self, site, name, params=''):
        head, res = self.process(site, request(site_method(2, name, params), SITE_PATH))
        if head['ErrorInfo']:
            return head['ErrorInfo']
        return res.get(2)

    def test_encrypted_migration(self):
        site = '/sites/hr'
        sp = mt.SharePoint(self.server.sp, ADMIN, site=site, accept=mt.NOMETADATA)
        info = self.call(site, 'ProvisionMigrationContainers')
        self.assertEqual(info['_ObjectType_'], 'SP.ProvisionedMigrationContainersInfo')
        key_b64 = re.fullmatch(r'/Base64Binary\((.+)\)/', info['EncryptionKey']).group(1)
        key = base64.b64decode(key_b64)
        self.assertEqual(len(key), 32)
        queue = self.call(site, 'ProvisionMigrationQueue')
        self.assertEqual(queue['_ObjectType_'], 'SP.ProvisionedMigrationQueueInfo')

        target = mt.fetch_target(sp)
        pkg = mt.Package(target)
        pkg.add_folder('CSOM')
        pkg.add_file('CSOM/hello.txt', b'migrated through CSOM')
        m = mt.Migration(sp, pkg, queue_uri=queue['JobQueueUri'])
        m.containers = {'DataContainerUri': info['DataContainerUri'],
                        'MetadataContainerUri': info['MetadataContainerUri'],
                        'EncryptionKey': key_b64}
        m.key = key
        m.upload()
        args = (guid(target.web_id) + string(m.data_uri) + string(m.manifest_uri) +
                string(m.queue_uri))
        option = ('<Parameter TypeId="{85614ad4-7a40-49e0-b272-6d1807dbfcc6}">'
                  '<Property Name="AES256CBCKey" Type="Base64Binary">%s</Property></Parameter>'
                  % key_b64)
        # The same rules as REST: a wrong web id and a short key are refused.
        err = self.call(site, 'CreateMigrationJobEncrypted',
                        guid('00000000-0000-0000-0000-000000000001') + args[len(
                            guid(target.web_id)):] + option)
        self.assertEqual((err['ErrorCode'], err['ErrorTypeName']),
                         (-2147024809, 'System.ArgumentException'))
        err = self.call(site, 'CreateMigrationJobEncrypted', args + option.replace(
            key_b64, base64.b64encode(key[:16]).decode()))
        self.assertIn('AES256CBCKey', err['ErrorMessage'])
        job = self.call(site, 'CreateMigrationJobEncrypted', args + option)
        job_id = re.fullmatch(r'/Guid\(([0-9a-f-]{36})\)/', job).group(1)
        m.job_id = job_id
        deadline = time.monotonic() + 60
        while self.call(site, 'GetMigrationJobStatus', guid(job_id)) != 0:
            self.assertLess(time.monotonic(), deadline, 'the job never ended')
            time.sleep(0.1)
        progress = self.call(site, 'GetMigrationJobProgress', guid(job_id) + string('0'))
        self.assertEqual(progress['_ObjectType_'], 'SP.MigrationJobProgress')
        events = [json.loads(x)['Event'] for x in progress['Logs']]
        self.assertEqual(events[0], 'JobQueued')
        self.assertEqual(events[-1], 'JobEnd')
        self.assertNotIn('JobError', events)
        self.assertEqual([e['Event'] for e in m.wait()][-1], 'JobEnd')
        self.assertIs(self.call(site, 'DeleteMigrationJob', guid(job_id)), False)
        # The file, by CSOM and by REST.
        url = target.server_relative('CSOM/hello.txt')
        head, res = self.process(site, request(
            query(3, 4, ['Length', 'Name', 'ServerRelativeUrl']),
            CONTEXT + '<Property Id="2" ParentId="0" Name="Web" /><Method Id="4" ParentId="2" '
            'Name="GetFileByServerRelativeUrl"><Parameters>%s</Parameters></Method>' % string(url)))
        self.assertIsNone(head['ErrorInfo'])
        self.assertEqual((res[3]['Name'], res[3]['Length']), ('hello.txt', 21))
        self.assertEqual(sp.value("web/GetFileByServerRelativeUrl(%s)/$value"
                                  % mt.quote_literal(url)), b'migrated through CSOM')

    def test_member_may_not_provision(self):
        member = mt.emu(self.server.sp, ADMIN, 'POST', 'users',
                        {'login': 'csom-reader@contoso.com', 'role': 'Member', 'site': '/'})
        r = self.post('', request(site_method(2, 'ProvisionMigrationContainers'), SITE_PATH),
                      token=member['token'])
        e = json.loads(r.body)[0]['ErrorInfo']
        self.assertEqual(e['ErrorTypeName'], 'System.UnauthorizedAccessException')
        head, _ = self.process('', request(site_method(2, 'NoSuchMethod'), SITE_PATH))
        self.assertIn('NoSuchMethod', head['ErrorInfo']['ErrorMessage'])


if __name__ == '__main__':
    unittest.main()
