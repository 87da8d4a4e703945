"""
Blob service through the official Azure SDK for Python (Debian's azure.storage.blob 12.x):
SharedKey (connection string), account SAS and service SAS, plus the SAS rules of SPEC section 3
and hand-built SAS tokens of several signed versions.
"""
import datetime
import hashlib
import os
import unittest

from azure.core import MatchConditions
from azure.core.exceptions import (ClientAuthenticationError, HttpResponseError,
                                   ResourceExistsError, ResourceModifiedError,
                                   ResourceNotFoundError)
from azure.storage.blob import (AccountSasPermissions, BlobSasPermissions, BlobServiceClient,
                                ContainerSasPermissions, ContentSettings, ResourceTypes,
                                generate_account_sas, generate_blob_sas, generate_container_sas)

import harness
from harness import ACCOUNT, ACCOUNT_KEY, SDK_KW, ServerTestCase, request, unique_name, utcnow


def hours(n):
    return datetime.timedelta(hours=n)


class BlobSharedKeyTests(ServerTestCase):
    """Every blob operation of SPEC section 4 through a connection string (SharedKey)."""

    def setUp(self):
        self.svc = harness.blob_service(self.server)
        self.cname = unique_name(self._testMethodName)
        self.container = self.svc.create_container(self.cname)

    def test_container_create_properties_metadata_delete(self):
        name = unique_name('meta')
        cc = self.svc.create_container(name, metadata={'project': 'spmig', 'n': '1'})
        props = cc.get_container_properties()
        self.assertEqual(props.name, name)
        self.assertEqual(dict(props.metadata), {'project': 'spmig', 'n': '1'})
        self.assertTrue(props.etag)
        self.assertIsNotNone(props.last_modified)
        cc.set_container_metadata({'owner': 'e2e'})
        props2 = cc.get_container_properties()
        self.assertEqual(dict(props2.metadata), {'owner': 'e2e'})
        self.assertNotEqual(props2.etag, props.etag, 'Set Container Metadata must change the ETag')
        with self.assertRaises(ResourceExistsError) as ctx:
            self.svc.create_container(name)
        self.assertSdkError(ctx.exception, 409, 'ContainerAlreadyExists')
        names = [c.name for c in self.svc.list_containers(name_starts_with='meta-')]
        self.assertIn(name, names)
        cc.delete_container()
        with self.assertRaises(ResourceNotFoundError) as ctx:
            cc.get_container_properties()
        self.assertSdkError(ctx.exception, 404, 'ContainerNotFound')
        names = [c.name for c in self.svc.list_containers(name_starts_with='meta-')]
        self.assertNotIn(name, names)

    def test_list_blobs_prefix_flat_and_paging(self):
        names = ['a/1.txt', 'a/2.txt', 'a/sub/3.txt', 'b/1.txt', 'b/2.txt', 'c.txt', 'd.txt']
        for n in names:
            self.container.upload_blob(n, n.encode())
        listed = [b.name for b in self.container.list_blobs()]
        self.assertEqual(listed, sorted(names), 'flat listing, sorted, no virtual directories')
        self.assertEqual([b.name for b in self.container.list_blobs(name_starts_with='a/')],
                         ['a/1.txt', 'a/2.txt', 'a/sub/3.txt'])
        self.assertEqual([b.name for b in self.container.list_blobs(name_starts_with='zzz')], [])
        pages = self.container.list_blobs(results_per_page=2).by_page()
        got, sizes, tokens = [], [], []
        for page in pages:
            items = list(page)
            sizes.append(len(items))
            got += [b.name for b in items]
            tokens.append(pages.continuation_token)
        self.assertEqual(got, sorted(names))
        self.assertEqual(sizes, [2, 2, 2, 1])
        self.assertTrue(all(tokens[:-1]), 'every page but the last has a NextMarker')
        self.assertFalse(tokens[-1])
        # Resume from a marker taken from the first page.
        first = self.container.list_blobs(results_per_page=3).by_page()
        self.assertEqual(len(list(next(first))), 3)
        rest = self.container.list_blobs(results_per_page=100).by_page(
            continuation_token=first.continuation_token)
        self.assertEqual([b.name for p in rest for b in p], sorted(names)[3:])
        sizes = {b.name: b.size for b in self.container.list_blobs()}
        self.assertEqual(sizes['a/sub/3.txt'], len('a/sub/3.txt'))

    def test_put_blob_small_roundtrip(self):
        data = os.urandom(10_000)
        bc = self.container.get_blob_client('small.bin')
        info = bc.upload_blob(data)
        self.assertTrue(info['etag'])
        self.assertIsNotNone(info['last_modified'])
        props = bc.get_blob_properties()
        self.assertEqual(props.size, len(data))
        self.assertEqual(props.blob_type, 'BlockBlob')
        self.assertEqual(props.etag, info['etag'])
        self.assertEqual(bytes(props.content_settings.content_md5), hashlib.md5(data).digest(),
                         'Put Blob stores the MD5 of the content')
        self.assertEqual(bc.download_blob().readall(), data)
        # A single Put Blob leaves no committed block list entries.
        self.assertEqual(bc.get_block_list('committed')[0], [])
        empty = self.container.get_blob_client('empty.bin').upload_blob(b'')
        self.assertTrue(empty['etag'])
        self.assertEqual(self.container.download_blob('empty.bin').readall(), b'')

    def test_large_blob_uses_put_block_and_put_block_list(self):
        svc = BlobServiceClient.from_connection_string(
            self.server.connection_string(), max_single_put_size=64 * 1024,
            max_block_size=64 * 1024, **SDK_KW)
        cc = svc.get_container_client(self.cname)
        data = os.urandom(300 * 1024 + 123)
        cc.upload_blob('large.bin', data, max_concurrency=3)
        bc = cc.get_blob_client('large.bin')
        committed, uncommitted = bc.get_block_list('all')
        self.assertEqual(len(committed), 5, 'the SDK uploaded five 64 KiB blocks')
        self.assertEqual(uncommitted, [])
        self.assertEqual([b.size for b in committed], [65536] * 4 + [len(data) - 4 * 65536])
        self.assertEqual(bc.get_blob_properties().size, len(data))
        self.assertEqual(bc.download_blob().readall(), data)

    def test_download_ranges(self):
        data = bytes(range(256)) * 40  # 10240 bytes
        bc = self.container.get_blob_client('ranges.bin')
        bc.upload_blob(data)
        self.assertEqual(bc.download_blob(offset=100, length=50).readall(), data[100:150])
        self.assertEqual(bc.download_blob(offset=0, length=1).readall(), data[:1])
        self.assertEqual(bc.download_blob(offset=len(data) - 1, length=1).readall(), data[-1:])
        self.assertEqual(bc.download_blob(offset=10000).readall(), data[10000:])
        # Length past the end is clamped to the blob.
        self.assertEqual(bc.download_blob(offset=10200, length=500).readall(), data[10200:])
        # A client that downloads in 1 KiB ranged chunks reassembles the blob.
        small = BlobServiceClient.from_connection_string(
            self.server.connection_string(), max_single_get_size=1024, max_chunk_get_size=1024,
            **SDK_KW)
        got = small.get_blob_client(self.cname, 'ranges.bin').download_blob(max_concurrency=4)
        self.assertEqual(got.readall(), data)
        with self.assertRaises(HttpResponseError) as ctx:
            bc.download_blob(offset=len(data) + 10, length=5).readall()
        self.assertSdkError(ctx.exception, 416, 'InvalidRange')

    def test_block_list_committed_and_uncommitted(self):
        bc = self.container.get_blob_client('blocks.bin')
        bc.stage_block('block-000', b'A' * 100)
        bc.stage_block('block-001', b'B' * 200)
        committed, uncommitted = bc.get_block_list('all')
        self.assertEqual(committed, [])
        self.assertEqual(sorted((b.id, b.size) for b in uncommitted),
                         [('block-000', 100), ('block-001', 200)])
        with self.assertRaises(ResourceNotFoundError):
            bc.get_blob_properties()  # staged blocks alone are not a blob
        bc.commit_block_list(['block-001', 'block-000'])
        self.assertEqual(bc.download_blob().readall(), b'B' * 200 + b'A' * 100)
        committed, uncommitted = bc.get_block_list('all')
        self.assertEqual([(b.id, b.size) for b in committed],
                         [('block-001', 200), ('block-000', 100)])
        self.assertEqual(uncommitted, [], 'commit discards the uncommitted blocks')
        bc.stage_block('block-002', b'C' * 10)
        committed, uncommitted = bc.get_block_list('all')
        self.assertEqual([b.id for b in committed], ['block-001', 'block-000'])
        self.assertEqual([(b.id, b.size) for b in uncommitted], [('block-002', 10)])
        self.assertEqual(bc.get_block_list('uncommitted')[0], [])
        self.assertEqual([b.id for b in bc.get_block_list('uncommitted')[1]], ['block-002'])
        # Reuse a committed block and a new one.
        bc.commit_block_list(['block-000', 'block-002'])
        self.assertEqual(bc.download_blob().readall(), b'A' * 100 + b'C' * 10)
        with self.assertRaises(HttpResponseError) as ctx:
            bc.commit_block_list(['block-000', 'no-such-block'])
        self.assertSdkError(ctx.exception, 400, 'InvalidBlockList')
        self.assertEqual(bc.download_blob().readall(), b'A' * 100 + b'C' * 10)

    def test_metadata_set_get(self):
        bc = self.container.get_blob_client('meta.txt')
        bc.upload_blob(b'x', metadata={'first': 'one'})
        self.assertEqual(dict(bc.get_blob_properties().metadata), {'first': 'one'})
        etag = bc.get_blob_properties().etag
        bc.set_blob_metadata({'color': 'blue', 'size': '10'})
        props = bc.get_blob_properties()
        self.assertEqual(dict(props.metadata), {'color': 'blue', 'size': '10'})
        self.assertNotEqual(props.etag, etag)
        self.assertEqual(dict(bc.download_blob().properties.metadata),
                         {'color': 'blue', 'size': '10'})
        bc.set_blob_metadata({})
        self.assertEqual(dict(bc.get_blob_properties().metadata), {})
        self.assertEqual(bc.download_blob().readall(), b'x', 'metadata does not touch content')

    def test_set_http_headers(self):
        bc = self.container.get_blob_client('headers.txt')
        bc.upload_blob(b'hello', content_settings=ContentSettings(content_type='text/plain'))
        self.assertEqual(bc.get_blob_properties().content_settings.content_type, 'text/plain')
        settings = ContentSettings(content_type='application/json', cache_control='max-age=60',
                                   content_language='fr-FR', content_encoding='identity',
                                   content_disposition='attachment; filename="h.json"')
        bc.set_http_headers(settings)
        cs = bc.get_blob_properties().content_settings
        self.assertEqual(cs.content_type, 'application/json')
        self.assertEqual(cs.cache_control, 'max-age=60')
        self.assertEqual(cs.content_language, 'fr-FR')
        self.assertEqual(cs.content_encoding, 'identity')
        self.assertEqual(cs.content_disposition, 'attachment; filename="h.json"')
        dl = bc.download_blob()
        self.assertEqual(dl.properties.content_settings.content_type, 'application/json')
        self.assertEqual(dl.properties.content_settings.cache_control, 'max-age=60')
        self.assertEqual(dl.readall(), b'hello')

    def test_snapshot_read_and_delete_including_snapshots(self):
        bc = self.container.get_blob_client('snap.txt')
        bc.upload_blob(b'version 1', metadata={'v': '1'})
        snap = bc.create_snapshot()
        self.assertTrue(snap['snapshot'])
        bc.upload_blob(b'version 2', overwrite=True, metadata={'v': '2'})
        at_snap = self.container.get_blob_client('snap.txt', snapshot=snap['snapshot'])
        self.assertEqual(at_snap.download_blob().readall(), b'version 1')
        self.assertEqual(dict(at_snap.get_blob_properties().metadata), {'v': '1'})
        self.assertEqual(bc.download_blob().readall(), b'version 2')
        listed = [(b.name, b.snapshot) for b in self.container.list_blobs(include=['snapshots'])]
        self.assertEqual(listed, [('snap.txt', snap['snapshot']), ('snap.txt', None)])
        self.assertEqual([b.name for b in self.container.list_blobs()], ['snap.txt'])
        with self.assertRaises(HttpResponseError) as ctx:
            bc.delete_blob()
        self.assertSdkError(ctx.exception, 409, 'SnapshotsPresent')
        bc.delete_blob(delete_snapshots='include')
        self.assertEqual(list(self.container.list_blobs(include=['snapshots'])), [])
        with self.assertRaises(ResourceNotFoundError):
            at_snap.download_blob().readall()
        with self.assertRaises(ResourceNotFoundError):
            bc.get_blob_properties()

    def test_delete_only_snapshots(self):
        bc = self.container.get_blob_client('snaps-only.txt')
        bc.upload_blob(b'base')
        bc.create_snapshot()
        bc.create_snapshot()
        self.assertEqual(len(list(self.container.list_blobs(include=['snapshots']))), 3)
        bc.delete_blob(delete_snapshots='only')
        listed = list(self.container.list_blobs(include=['snapshots']))
        self.assertEqual([(b.name, b.snapshot) for b in listed], [('snaps-only.txt', None)])
        self.assertEqual(bc.download_blob().readall(), b'base')

    def test_conditional_requests(self):
        bc = self.container.get_blob_client('cond.txt')
        info = bc.upload_blob(b'one')
        etag, modified = info['etag'], info['last_modified']
        # If-Match with the current ETag: served.
        got = bc.download_blob(etag=etag, match_condition=MatchConditions.IfNotModified)
        self.assertEqual(got.readall(), b'one')
        # If-Match with another ETag: 412 ConditionNotMet.
        with self.assertRaises(ResourceModifiedError) as ctx:
            bc.download_blob(etag='"0x1234"', match_condition=MatchConditions.IfNotModified)
        self.assertSdkError(ctx.exception, 412, 'ConditionNotMet')
        # If-None-Match with the current ETag on a read: 304 (this SDK raises a plain
        # HttpResponseError for it on HEAD, ResourceNotModifiedError on GET).
        with self.assertRaises(HttpResponseError) as ctx:
            bc.get_blob_properties(etag=etag, match_condition=MatchConditions.IfModified)
        self.assertEqual(ctx.exception.status_code, 304)
        with self.assertRaises(HttpResponseError) as ctx:
            bc.download_blob(etag=etag, match_condition=MatchConditions.IfModified).readall()
        self.assertEqual(ctx.exception.status_code, 304)
        # If-Modified-Since after the last change: 304; before: served.
        with self.assertRaises(HttpResponseError) as ctx:
            bc.get_blob_properties(if_modified_since=modified + hours(1))
        self.assertEqual(ctx.exception.status_code, 304)
        with self.assertRaises(HttpResponseError) as ctx:
            bc.download_blob(if_modified_since=modified + hours(1)).readall()
        self.assertEqual(ctx.exception.status_code, 304)
        self.assertEqual(bc.get_blob_properties(if_modified_since=modified - hours(1)).size, 3)
        # If-Unmodified-Since before the last change on a write: 412.
        with self.assertRaises(ResourceModifiedError) as ctx:
            bc.set_blob_metadata({'a': 'b'}, if_unmodified_since=modified - hours(1))
        self.assertSdkError(ctx.exception, 412, 'ConditionNotMet')
        # A conditional overwrite with a stale ETag fails and leaves the blob alone.
        info2 = bc.upload_blob(b'two', overwrite=True, etag=etag,
                               match_condition=MatchConditions.IfNotModified)
        self.assertNotEqual(info2['etag'], etag)
        with self.assertRaises(ResourceModifiedError):
            bc.upload_blob(b'three', overwrite=True, etag=etag,
                           match_condition=MatchConditions.IfNotModified)
        self.assertEqual(bc.download_blob().readall(), b'two')
        # If-None-Match: * on a write to an existing blob: 409 BlobAlreadyExists.
        with self.assertRaises(ResourceExistsError) as ctx:
            bc.upload_blob(b'four', overwrite=False)
        self.assertSdkError(ctx.exception, 409, 'BlobAlreadyExists')
        self.assertEqual(bc.download_blob().readall(), b'two')
        # Delete with a stale ETag: 412, the blob stays.
        with self.assertRaises(ResourceModifiedError):
            bc.delete_blob(etag=etag, match_condition=MatchConditions.IfNotModified)
        bc.delete_blob(etag=info2['etag'], match_condition=MatchConditions.IfNotModified)
        with self.assertRaises(ResourceNotFoundError):
            bc.get_blob_properties()

    def test_content_md5_validation(self):
        data = os.urandom(50_000)
        bc = self.container.get_blob_client('md5.bin')
        bc.upload_blob(data, validate_content=True)
        self.assertEqual(bc.download_blob(validate_content=True).readall(), data)
        self.assertEqual(bc.download_blob(offset=10, length=1000,
                                          validate_content=True).readall(), data[10:1010])
        # Blocks carry Content-MD5 too.
        svc = BlobServiceClient.from_connection_string(
            self.server.connection_string(), max_single_put_size=16 * 1024,
            max_block_size=16 * 1024, max_single_get_size=16 * 1024,
            max_chunk_get_size=16 * 1024, **SDK_KW)
        big = svc.get_blob_client(self.cname, 'md5-blocks.bin')
        big.upload_blob(data, validate_content=True)
        self.assertEqual(len(big.get_block_list('committed')[0]), 4)
        self.assertEqual(big.download_blob(validate_content=True).readall(), data)

    def test_overwrite_false_on_existing_blob(self):
        bc = self.container.get_blob_client('once.txt')
        bc.upload_blob(b'first', overwrite=False)
        with self.assertRaises(ResourceExistsError) as ctx:
            bc.upload_blob(b'second', overwrite=False)
        self.assertSdkError(ctx.exception, 409, 'BlobAlreadyExists')
        self.assertEqual(bc.download_blob().readall(), b'first')
        bc.upload_blob(b'third', overwrite=True)
        self.assertEqual(bc.download_blob().readall(), b'third')

    def test_missing_blob_and_container(self):
        with self.assertRaises(ResourceNotFoundError) as ctx:
            self.container.download_blob('nope.txt').readall()
        self.assertSdkError(ctx.exception, 404, 'BlobNotFound')
        other = self.svc.get_container_client(unique_name('missing'))
        with self.assertRaises(ResourceNotFoundError) as ctx:
            other.upload_blob('x', b'x')
        self.assertSdkError(ctx.exception, 404, 'ContainerNotFound')
        with self.assertRaises(ResourceNotFoundError) as ctx:
            list(other.list_blobs())
        self.assertSdkError(ctx.exception, 404, 'ContainerNotFound')


class BlobAccountSasTests(ServerTestCase):
    """generate_account_sas tokens: full rights work; missing service, resource type or
    permission letters give the matching 403 codes."""

    def client(self, permission, resource_types=None, expiry=None, start=None):
        sas = generate_account_sas(
            ACCOUNT, ACCOUNT_KEY,
            resource_types=resource_types or ResourceTypes(service=True, container=True,
                                                           object=True),
            permission=permission, expiry=expiry or utcnow() + hours(1),
            start=start or utcnow() - datetime.timedelta(minutes=5))
        return BlobServiceClient(self.server.blob_account_url, credential=sas, **SDK_KW), sas

    def test_full_account_sas_round_trip(self):
        svc, _ = self.client(AccountSasPermissions(read=True, write=True, delete=True, list=True,
                                                   add=True, create=True))
        name = unique_name('acctsas')
        cc = svc.create_container(name, metadata={'via': 'account-sas'})
        self.assertEqual(dict(cc.get_container_properties().metadata), {'via': 'account-sas'})
        cc.upload_blob('a.txt', b'alpha')
        cc.get_blob_client('a.txt').set_blob_metadata({'k': 'v'})
        self.assertEqual([b.name for b in cc.list_blobs()], ['a.txt'])
        self.assertEqual(cc.download_blob('a.txt').readall(), b'alpha')
        self.assertIn(name, [c.name for c in svc.list_containers(name_starts_with='acctsas')])
        cc.delete_blob('a.txt')
        cc.delete_container()
        with self.assertRaises(ResourceNotFoundError):
            cc.get_container_properties()

    def test_read_only_account_sas_cannot_write(self):
        admin = harness.blob_service(self.server)
        name = unique_name('acctro')
        admin.create_container(name).upload_blob('r.txt', b'read me')
        svc, _ = self.client(AccountSasPermissions(read=True, list=True))
        cc = svc.get_container_client(name)
        self.assertEqual(cc.download_blob('r.txt').readall(), b'read me')
        self.assertEqual([b.name for b in cc.list_blobs()], ['r.txt'])
        with self.assertRaises(HttpResponseError) as ctx:
            cc.upload_blob('w.txt', b'nope')
        self.assertSdkError(ctx.exception, 403, 'AuthorizationPermissionMismatch')
        with self.assertRaises(HttpResponseError) as ctx:
            cc.delete_blob('r.txt')
        self.assertSdkError(ctx.exception, 403, 'AuthorizationPermissionMismatch')

    def test_resource_type_and_service_mismatch(self):
        svc, _ = self.client(AccountSasPermissions(read=True, write=True, create=True, list=True),
                             resource_types=ResourceTypes(object=True))
        with self.assertRaises(HttpResponseError) as ctx:
            svc.create_container(unique_name('srt'))
        self.assertSdkError(ctx.exception, 403, 'AuthorizationResourceTypeMismatch')
        # A queue-only account SAS (built by hand: ss=q) on the blob service.
        q, _ = harness.account_sas('2021-12-02', services='q', resource_types='sco',
                                   permissions='rwl')
        admin = harness.blob_service(self.server)
        name = unique_name('ssq')
        admin.create_container(name).upload_blob('x', b'x')
        r = request('GET', '%s/%s/x?%s' % (self.server.blob_account_url, name, q))
        self.assertAzureError(r, 403, 'AuthorizationServiceMismatch')

    def test_expired_account_sas(self):
        svc, _ = self.client(AccountSasPermissions(read=True, list=True),
                             start=utcnow() - hours(2), expiry=utcnow() - hours(1))
        with self.assertRaises(ClientAuthenticationError) as ctx:
            list(svc.list_containers())
        self.assertSdkError(ctx.exception, 403, 'AuthenticationFailed')


class BlobServiceSasTests(ServerTestCase):
    """Container and blob SAS (generate_container_sas / generate_blob_sas) and the SAS error
    rules of SPEC section 3."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        admin = harness.blob_service(cls.server)
        cls.cname = unique_name('sas-a')
        cls.other = unique_name('sas-b')
        cls.cc = admin.create_container(cls.cname)
        admin.create_container(cls.other)
        cls.cc.upload_blob('existing.txt', b'existing content')
        cls.cc.upload_blob('second.txt', b'second content')

    def container_sas(self, permission, container=None, start=None, expiry=None):
        return generate_container_sas(
            ACCOUNT, container or self.cname, account_key=ACCOUNT_KEY, permission=permission,
            start=start or utcnow() - datetime.timedelta(minutes=5),
            expiry=expiry or utcnow() + hours(1))

    def container_client(self, sas, container=None):
        svc = BlobServiceClient(self.server.blob_account_url, credential=sas, **SDK_KW)
        return svc.get_container_client(container or self.cname)

    def raw_get(self, blob, sas, container=None):
        return request('GET', '%s/%s/%s?%s' % (self.server.blob_account_url,
                                               container or self.cname, blob, sas))

    def assertAuthFailed(self, resp, detail_contains=None):
        root = self.assertAzureError(resp, 403, 'AuthenticationFailed')
        detail = root.findtext('AuthenticationErrorDetail')
        self.assertTrue(detail, 'no AuthenticationErrorDetail element: %r' % resp.body)
        if detail_contains:
            self.assertIn(detail_contains, detail)
        return detail

    def test_container_sas_rw_can_put_and_get_but_not_list(self):
        sas = self.container_sas(ContainerSasPermissions(read=True, write=True))
        self.assertIn('sp=rw', sas)
        cc = self.container_client(sas)
        cc.upload_blob('rw.txt', b'written with sp=rw', overwrite=True)
        self.assertEqual(cc.download_blob('rw.txt').readall(), b'written with sp=rw')
        self.assertEqual(cc.download_blob('existing.txt').readall(), b'existing content')
        with self.assertRaises(HttpResponseError) as ctx:
            list(cc.list_blobs())
        self.assertSdkError(ctx.exception, 403, 'AuthorizationPermissionMismatch')
        r = request('GET', '%s/%s?restype=container&comp=list&%s'
                    % (self.server.blob_account_url, self.cname, sas))
        self.assertAzureError(r, 403, 'AuthorizationPermissionMismatch')
        # No delete letter either.
        with self.assertRaises(HttpResponseError) as ctx:
            cc.delete_blob('rw.txt')
        self.assertSdkError(ctx.exception, 403, 'AuthorizationPermissionMismatch')
        # A service SAS never manages containers.
        with self.assertRaises(HttpResponseError) as ctx:
            cc.delete_container()
        self.assertEqual(ctx.exception.status_code, 403)

    def test_container_sas_with_list(self):
        sas = self.container_sas(ContainerSasPermissions(read=True, list=True))
        names = [b.name for b in self.container_client(sas).list_blobs()]
        self.assertIn('existing.txt', names)

    def test_read_only_sas_cannot_put(self):
        sas = self.container_sas(ContainerSasPermissions(read=True))
        cc = self.container_client(sas)
        self.assertEqual(cc.download_blob('existing.txt').readall(), b'existing content')
        with self.assertRaises(HttpResponseError) as ctx:
            cc.upload_blob('ro.txt', b'nope')
        self.assertSdkError(ctx.exception, 403, 'AuthorizationPermissionMismatch')
        with self.assertRaises(HttpResponseError) as ctx:
            cc.get_blob_client('existing.txt').set_blob_metadata({'a': 'b'})
        self.assertSdkError(ctx.exception, 403, 'AuthorizationPermissionMismatch')
        admin = harness.blob_service(self.server).get_container_client(self.cname)
        with self.assertRaises(ResourceNotFoundError):
            admin.get_blob_client('ro.txt').get_blob_properties()

    def test_expired_sas_is_authentication_failed(self):
        sas = self.container_sas(ContainerSasPermissions(read=True, write=True),
                                 start=utcnow() - hours(2), expiry=utcnow() - hours(1))
        cc = self.container_client(sas)
        with self.assertRaises(ClientAuthenticationError) as ctx:
            cc.download_blob('existing.txt').readall()
        self.assertSdkError(ctx.exception, 403, 'AuthenticationFailed')
        with self.assertRaises(ClientAuthenticationError) as ctx:
            cc.upload_blob('late.txt', b'x')
        self.assertSdkError(ctx.exception, 403, 'AuthenticationFailed')
        self.assertAuthFailed(self.raw_get('existing.txt', sas),
                              'Signature not valid in the specified time frame')

    def test_not_yet_valid_sas_is_authentication_failed(self):
        sas = self.container_sas(ContainerSasPermissions(read=True),
                                 start=utcnow() + hours(1), expiry=utcnow() + hours(2))
        with self.assertRaises(ClientAuthenticationError) as ctx:
            self.container_client(sas).download_blob('existing.txt').readall()
        self.assertSdkError(ctx.exception, 403, 'AuthenticationFailed')
        self.assertAuthFailed(self.raw_get('existing.txt', sas),
                              'Signature not valid in the specified time frame')

    def test_tampered_signature_is_authentication_failed(self):
        sas = self.container_sas(ContainerSasPermissions(read=True))
        bad = harness.tamper_sig(sas)
        self.assertNotEqual(bad, sas)
        with self.assertRaises(ClientAuthenticationError) as ctx:
            self.container_client(bad).download_blob('existing.txt').readall()
        self.assertSdkError(ctx.exception, 403, 'AuthenticationFailed')
        self.assertAuthFailed(self.raw_get('existing.txt', bad), 'Signature did not match')
        # Widening the permissions of a valid SAS breaks its signature too.
        widened = sas.replace('sp=r', 'sp=rwdl')
        self.assertNotEqual(widened, sas)
        self.assertAuthFailed(self.raw_get('existing.txt', widened), 'Signature did not match')

    def test_container_sas_for_b_refused_on_a(self):
        sas_b = self.container_sas(ContainerSasPermissions(read=True, write=True, list=True),
                                   container=self.other)
        self.container_client(sas_b, self.other).upload_blob('b.txt', b'b', overwrite=True)
        with self.assertRaises(ClientAuthenticationError) as ctx:
            self.container_client(sas_b, self.cname).download_blob('existing.txt').readall()
        self.assertSdkError(ctx.exception, 403, 'AuthenticationFailed')
        with self.assertRaises(ClientAuthenticationError):
            self.container_client(sas_b, self.cname).upload_blob('x.txt', b'x')
        self.assertAuthFailed(self.raw_get('existing.txt', sas_b), 'Signature did not match')

    def test_blob_sas(self):
        sas = generate_blob_sas(ACCOUNT, self.cname, 'existing.txt', account_key=ACCOUNT_KEY,
                                permission=BlobSasPermissions(read=True),
                                expiry=utcnow() + hours(1))
        url = '%s/%s/existing.txt' % (self.server.blob_account_url, self.cname)
        from azure.storage.blob import BlobClient
        bc = BlobClient.from_blob_url(url, credential=sas, **SDK_KW)
        self.assertEqual(bc.download_blob().readall(), b'existing content')
        self.assertEqual(bc.get_blob_properties().size, len(b'existing content'))
        # The same blob SAS on another blob of the container is a signature mismatch.
        self.assertAuthFailed(self.raw_get('second.txt', sas), 'Signature did not match')
        # Write through a blob SAS with w.
        wsas = generate_blob_sas(ACCOUNT, self.cname, 'via-blob-sas.txt', account_key=ACCOUNT_KEY,
                                 permission=BlobSasPermissions(read=True, write=True,
                                                               create=True),
                                 expiry=utcnow() + hours(1))
        wbc = BlobClient.from_blob_url('%s/%s/via-blob-sas.txt' % (
            self.server.blob_account_url, self.cname), credential=wsas, **SDK_KW)
        wbc.upload_blob(b'hello', overwrite=True)
        self.assertEqual(wbc.download_blob().readall(), b'hello')

    def test_blob_sas_response_header_overrides(self):
        sas = generate_blob_sas(ACCOUNT, self.cname, 'existing.txt', account_key=ACCOUNT_KEY,
                                permission=BlobSasPermissions(read=True),
                                expiry=utcnow() + hours(1), content_type='text/x-override',
                                content_disposition='attachment; filename="o.txt"',
                                cache_control='no-store')
        r = self.raw_get('existing.txt', sas)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b'existing content')
        self.assertEqual(r.header('Content-Type'), 'text/x-override')
        self.assertEqual(r.header('Content-Disposition'), 'attachment; filename="o.txt"')
        self.assertEqual(r.header('Cache-Control'), 'no-store')

    def test_hand_built_sas_of_several_signed_versions(self):
        base = self.server.blob_account_url
        for sv in ('2015-04-05', '2017-11-09', '2018-11-09', '2019-12-12', '2020-12-06',
                   '2021-12-02', '2025-07-05', '2026-04-06'):
            with self.subTest(sv=sv):
                q, sts = harness.blob_service_sas(sv, self.cname, permissions='rwl')
                name = 'v-%s.txt' % sv
                body = ('signed version ' + sv).encode()
                r = request('PUT', '%s/%s/%s?%s' % (base, self.cname, name, q), body=body,
                            headers={'x-ms-blob-type': 'BlockBlob'}, version=None)
                self.assertEqual(r.status, 201, '%r\nstring-to-sign %r' % (r, sts))
                r = request('GET', '%s/%s/%s?%s' % (base, self.cname, name, q), version=None)
                self.assertEqual((r.status, r.body), (200, body), r)
                r = request('GET', '%s/%s?restype=container&comp=list&%s'
                            % (base, self.cname, q), version=None)
                self.assertEqual(r.status, 200, r)
                self.assertIn(name.encode(), r.body)
                # A blob SAS (sr=b) of the same version.
                qb, sts = harness.blob_service_sas(sv, self.cname, name, permissions='r')
                r = request('GET', '%s/%s/%s?%s' % (base, self.cname, name, qb), version=None)
                self.assertEqual((r.status, r.body), (200, body), '%r\n%r' % (r, sts))
                # And an account SAS of the same version.
                qa, sts = harness.account_sas(sv, services='b', resource_types='sco',
                                              permissions='rl')
                r = request('GET', '%s/%s/%s?%s' % (base, self.cname, name, qa), version=None)
                self.assertEqual((r.status, r.body), (200, body), '%r\n%r' % (r, sts))
                # Tampered: refused, whatever the version.
                r = request('GET', '%s/%s/%s?%s' % (base, self.cname, name,
                                                    harness.tamper_sig(q)), version=None)
                self.assertAuthFailed(r)

    def test_wrong_layout_for_version_is_refused(self):
        # A 2020-12-06 SAS signed with the 2018-11-09 layout (no ses line) must not verify:
        # the server really selects the layout by sv.
        q_old, _ = harness.blob_service_sas('2018-11-09', self.cname, permissions='r')
        forged = q_old.replace('sv=2018-11-09', 'sv=2020-12-06')
        self.assertAuthFailed(self.raw_get('existing.txt', forged), 'Signature did not match')

    def test_future_x_ms_version_is_accepted(self):
        sas = self.container_sas(ContainerSasPermissions(read=True, write=True, list=True))
        url = '%s/%s/existing.txt?%s' % (self.server.blob_account_url, self.cname, sas)
        r = request('GET', url, headers={'x-ms-version': '2099-01-01'})
        self.assertEqual((r.status, r.body), (200, b'existing content'), r)
        self.assertTrue(r.header('x-ms-version'))
        r = request('GET', '%s/%s/existing.txt' % (self.server.blob_account_url, self.cname),
                    auth='sharedkey', version='2099-01-01')
        self.assertEqual((r.status, r.body), (200, b'existing content'), r)
        r = request('PUT', '%s/%s/v2099.txt' % (self.server.blob_account_url, self.cname),
                    auth='sharedkey', version='2099-01-01', body=b'future',
                    headers={'x-ms-blob-type': 'BlockBlob'})
        self.assertEqual(r.status, 201, r)


if __name__ == '__main__':
    unittest.main()
