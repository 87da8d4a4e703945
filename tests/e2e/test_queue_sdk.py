"""
Queue service through the official Azure SDK for Python (Debian's azure.storage.queue 12.x):
queues, metadata, messages (visibility, TTL, peek, update, delete, clear), listing, queue SAS
and the 64 KiB message limit.
"""
import datetime
import time
import unittest

from azure.core.exceptions import (ClientAuthenticationError, HttpResponseError,
                                   ResourceExistsError, ResourceNotFoundError)
from azure.storage.queue import (AccountSasPermissions, QueueClient, QueueSasPermissions,
                                 QueueServiceClient, ResourceTypes, generate_account_sas,
                                 generate_queue_sas)

import harness
from harness import ACCOUNT, ACCOUNT_KEY, SDK_KW, ServerTestCase, request, unique_name, utcnow


def wait_for(predicate, timeout=8.0, interval=0.1):
    """Polls predicate() until it returns a true value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


class QueueSharedKeyTests(ServerTestCase):

    def setUp(self):
        self.svc = harness.queue_service(self.server)
        self.qname = unique_name(self._testMethodName)
        self.q = self.svc.create_queue(self.qname)

    def test_create_delete_and_metadata(self):
        name = unique_name('meta')
        q = self.svc.create_queue(name, metadata={'team': 'spmig'})
        props = q.get_queue_properties()
        self.assertEqual(dict(props.metadata), {'team': 'spmig'})
        self.assertEqual(props.approximate_message_count, 0)
        q.set_queue_metadata({'team': 'e2e', 'n': '2'})
        self.assertEqual(dict(q.get_queue_properties().metadata), {'team': 'e2e', 'n': '2'})
        # Create on an existing queue with the same metadata answers 204 No Content (which
        # this SDK turns into ResourceExistsError); different metadata is 409
        # QueueAlreadyExists.
        with self.assertRaises(ResourceExistsError) as ctx:
            q.create_queue(metadata={'team': 'e2e', 'n': '2'})
        self.assertEqual(ctx.exception.status_code, 204)
        r = request('PUT', '%s/%s' % (self.server.queue_account_url, name), auth='sharedkey',
                    body=b'', headers={'x-ms-meta-team': 'e2e', 'x-ms-meta-n': '2'})
        self.assertEqual(r.status, 204, r)
        with self.assertRaises(ResourceExistsError) as ctx:
            q.create_queue(metadata={'other': 'x'})
        self.assertSdkError(ctx.exception, 409, 'QueueAlreadyExists')
        q.delete_queue()
        with self.assertRaises(ResourceNotFoundError) as ctx:
            q.get_queue_properties()
        self.assertSdkError(ctx.exception, 404, 'QueueNotFound')
        with self.assertRaises(ResourceNotFoundError) as ctx:
            q.send_message('to nowhere')
        self.assertSdkError(ctx.exception, 404, 'QueueNotFound')

    def test_list_queues(self):
        prefix = unique_name('lst')
        names = ['%s-%d' % (prefix, i) for i in range(5)]
        for i, n in enumerate(names):
            self.svc.create_queue(n, metadata={'i': str(i)})
        listed = list(self.svc.list_queues(name_starts_with=prefix, include_metadata=True))
        self.assertEqual([q.name for q in listed], names)
        self.assertEqual([dict(q.metadata) for q in listed], [{'i': str(i)} for i in range(5)])
        pages = self.svc.list_queues(name_starts_with=prefix, results_per_page=2).by_page()
        sizes, got = [], []
        for page in pages:
            items = [q.name for q in page]
            sizes.append(len(items))
            got += items
        self.assertEqual(got, names)
        self.assertEqual(sizes, [2, 2, 1])
        self.assertNotIn(self.qname, got)

    def test_send_receive_delete(self):
        sent = self.q.send_message('hello <world> & "friends" \u00e9\u2713')
        self.assertTrue(sent.id)
        self.assertTrue(sent.pop_receipt)
        self.assertIsNotNone(sent.inserted_on)
        self.assertIsNotNone(sent.expires_on)
        self.assertEqual(self.q.get_queue_properties().approximate_message_count, 1)
        msgs = list(self.q.receive_messages(max_messages=1, visibility_timeout=30))
        self.assertEqual(len(msgs), 1)
        m = msgs[0]
        self.assertEqual(m.id, sent.id)
        self.assertEqual(m.content, 'hello <world> & "friends" \u00e9\u2713')
        self.assertEqual(m.dequeue_count, 1)
        self.assertTrue(m.pop_receipt)
        self.assertIsNotNone(m.next_visible_on)
        # Invisible now: neither received nor peeked again.
        self.assertEqual(list(self.q.receive_messages(max_messages=1)), [])
        self.assertEqual(self.q.peek_messages(), [])
        self.q.delete_message(m.id, m.pop_receipt)
        self.assertEqual(self.q.get_queue_properties().approximate_message_count, 0)
        with self.assertRaises(ResourceNotFoundError) as ctx:
            self.q.delete_message(m.id, m.pop_receipt)
        self.assertSdkError(ctx.exception, 404, 'MessageNotFound')

    def test_receive_many_and_peek(self):
        contents = ['m%02d' % i for i in range(12)]
        for c in contents:
            self.q.send_message(c)
        peeked = self.q.peek_messages(max_messages=32)
        self.assertEqual([p.content for p in peeked], contents, 'peek returns FIFO order')
        self.assertTrue(all(p.dequeue_count == 0 for p in peeked))
        self.assertTrue(all(not getattr(p, 'pop_receipt', None) for p in peeked),
                        'peek returns no pop receipt')
        self.assertEqual([p.content for p in self.q.peek_messages(max_messages=3)], contents[:3])
        batch = list(self.q.receive_messages(messages_per_page=5, max_messages=5,
                                             visibility_timeout=60))
        self.assertEqual(len(batch), 5)
        self.assertEqual(len({m.id for m in batch}), 5)
        rest = list(self.q.receive_messages(messages_per_page=32, visibility_timeout=60))
        self.assertEqual(len(rest), 7)
        self.assertEqual(sorted(m.content for m in batch + rest), contents)
        self.assertEqual(self.q.peek_messages(max_messages=32), [])
        self.assertEqual(self.q.get_queue_properties().approximate_message_count, 12,
                         'invisible messages still count')

    def test_visibility_timeout_on_send_and_receive(self):
        self.q.send_message('later', visibility_timeout=2)
        self.assertEqual(self.q.peek_messages(), [], 'invisible right after sending')
        self.assertEqual(list(self.q.receive_messages(max_messages=1)), [])
        got = wait_for(lambda: self.q.peek_messages())
        self.assertEqual([m.content for m in got], ['later'])
        first = list(self.q.receive_messages(max_messages=1, visibility_timeout=2))
        self.assertEqual(len(first), 1)
        self.assertEqual(self.q.peek_messages(), [])
        again = wait_for(lambda: list(self.q.receive_messages(max_messages=1,
                                                              visibility_timeout=30)))
        self.assertEqual(len(again), 1)
        self.assertEqual(again[0].id, first[0].id)
        self.assertEqual(again[0].dequeue_count, 2)
        self.assertNotEqual(again[0].pop_receipt, first[0].pop_receipt)

    def test_time_to_live(self):
        short = self.q.send_message('short-lived', time_to_live=1)
        self.assertEqual((short.expires_on - short.inserted_on).total_seconds(), 1)
        forever = self.q.send_message('forever', time_to_live=-1)
        self.assertEqual(forever.expires_on.year, 9999, 'ttl -1 never expires')
        default = self.q.send_message('default')
        self.assertEqual((default.expires_on - default.inserted_on).total_seconds(), 7 * 86400)
        gone = wait_for(lambda: [m.content for m in self.q.peek_messages(max_messages=32)] ==
                        ['forever', 'default'])
        self.assertTrue(gone, 'the 1 s message expired: %r'
                        % [m.content for m in self.q.peek_messages(max_messages=32)])

    def test_update_message(self):
        self.q.send_message('original')
        m = list(self.q.receive_messages(max_messages=1, visibility_timeout=60))[0]
        upd = self.q.update_message(m.id, m.pop_receipt, visibility_timeout=0,
                                    content='updated')
        self.assertTrue(upd.pop_receipt)
        self.assertNotEqual(upd.pop_receipt, m.pop_receipt)
        peeked = self.q.peek_messages()
        self.assertEqual([p.content for p in peeked], ['updated'])
        m2 = list(self.q.receive_messages(max_messages=1, visibility_timeout=60))[0]
        self.assertEqual((m2.id, m2.content, m2.dequeue_count), (m.id, 'updated', 2))
        # Extend invisibility without touching content.
        upd2 = self.q.update_message(m2.id, m2.pop_receipt, visibility_timeout=60)
        self.assertEqual(self.q.peek_messages(), [])
        self.q.delete_message(m2.id, upd2.pop_receipt)
        self.assertEqual(self.q.get_queue_properties().approximate_message_count, 0)

    def test_clear_messages(self):
        for i in range(10):
            self.q.send_message('c%d' % i)
        list(self.q.receive_messages(max_messages=2, visibility_timeout=60))
        self.assertEqual(self.q.get_queue_properties().approximate_message_count, 10)
        self.q.clear_messages()
        self.assertEqual(self.q.get_queue_properties().approximate_message_count, 0)
        self.assertEqual(self.q.peek_messages(max_messages=32), [])
        self.q.send_message('after clear')
        self.assertEqual([m.content for m in self.q.peek_messages()], ['after clear'])

    def test_message_size_limit(self):
        ok = 'a' * (64 * 1024)
        self.q.send_message(ok)
        self.assertEqual(self.q.peek_messages()[0].content, ok)
        with self.assertRaises(HttpResponseError) as ctx:
            self.q.send_message('a' * (64 * 1024 + 1))
        # Azure answers 413 RequestBodyTooLarge (with <MaxLimit>) for a message over 64 KiB.
        self.assertSdkError(ctx.exception, 413, 'RequestBodyTooLarge')
        self.assertEqual(self.q.get_queue_properties().approximate_message_count, 1)

    def test_raw_limits(self):
        url = '%s/%s/messages' % (self.server.queue_account_url, self.qname)
        r = request('GET', url + '?numofmessages=33', auth='sharedkey')
        self.assertAzureError(r, 400, 'OutOfRangeQueryParameterValue')
        r = request('GET', url + '?numofmessages=0', auth='sharedkey')
        self.assertAzureError(r, 400, 'OutOfRangeQueryParameterValue')
        r = request('GET', url + '?visibilitytimeout=604801', auth='sharedkey')
        self.assertAzureError(r, 400, 'OutOfRangeQueryParameterValue')
        r = request('POST', url, auth='sharedkey', body=b'<QueueMessage><MessageText>x',
                    headers={'Content-Type': 'application/xml'})
        self.assertAzureError(r, 400, 'InvalidXmlDocument')
        r = request('GET', '%s/%s/messages' % (self.server.queue_account_url,
                                               unique_name('absent')), auth='sharedkey')
        self.assertAzureError(r, 404, 'QueueNotFound')


class QueueSasTests(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.svc = harness.queue_service(cls.server)

    def setUp(self):
        self.qname = unique_name(self._testMethodName)
        self.svc.create_queue(self.qname)
        self.url = '%s/%s' % (self.server.queue_account_url, self.qname)

    def sas_client(self, permission, start=None, expiry=None):
        sas = generate_queue_sas(ACCOUNT, self.qname, ACCOUNT_KEY, permission=permission,
                                 start=start or utcnow() - datetime.timedelta(minutes=5),
                                 expiry=expiry or utcnow() + datetime.timedelta(hours=1))
        return QueueClient.from_queue_url(self.url, credential=sas, **SDK_KW), sas

    def test_queue_sas_raup_full_cycle(self):
        q, sas = self.sas_client(QueueSasPermissions(read=True, add=True, update=True,
                                                     process=True))
        self.assertIn('sp=raup', sas)
        q.send_message('via sas')
        self.assertEqual([m.content for m in q.peek_messages()], ['via sas'])
        m = list(q.receive_messages(max_messages=1, visibility_timeout=60))[0]
        upd = q.update_message(m.id, m.pop_receipt, visibility_timeout=0, content='changed')
        self.assertEqual([p.content for p in q.peek_messages()], ['changed'])
        m2 = list(q.receive_messages(max_messages=1, visibility_timeout=60))[0]
        self.assertNotEqual(m2.pop_receipt, upd.pop_receipt)
        q.delete_message(m2.id, m2.pop_receipt)
        self.assertEqual(q.peek_messages(), [])
        # No queue-level rights through a queue SAS.
        with self.assertRaises(HttpResponseError) as ctx:
            q.delete_queue()
        self.assertEqual(ctx.exception.status_code, 403)

    def test_add_only_sas_cannot_receive(self):
        q, sas = self.sas_client(QueueSasPermissions(add=True))
        self.assertIn('sp=a', sas)
        q.send_message('write only')
        with self.assertRaises(HttpResponseError) as ctx:
            list(q.receive_messages(max_messages=1))
        self.assertSdkError(ctx.exception, 403, 'AuthorizationPermissionMismatch')
        with self.assertRaises(HttpResponseError) as ctx:
            q.peek_messages()
        self.assertSdkError(ctx.exception, 403, 'AuthorizationPermissionMismatch')
        with self.assertRaises(HttpResponseError) as ctx:
            q.clear_messages()  # no service SAS letter grants Clear Messages
        self.assertEqual(ctx.exception.status_code, 403)
        r = request('GET', '%s/messages?%s' % (self.url, sas))
        self.assertAzureError(r, 403, 'AuthorizationPermissionMismatch')
        # The message is there for someone allowed to read it.
        owner = self.svc.get_queue_client(self.qname)
        self.assertEqual([m.content for m in owner.peek_messages()], ['write only'])

    def test_read_only_sas_cannot_add(self):
        q, _ = self.sas_client(QueueSasPermissions(read=True))
        with self.assertRaises(HttpResponseError) as ctx:
            q.send_message('nope')
        self.assertSdkError(ctx.exception, 403, 'AuthorizationPermissionMismatch')
        self.assertEqual(q.peek_messages(), [])

    def test_expired_and_tampered_queue_sas(self):
        q, sas = self.sas_client(QueueSasPermissions(read=True, add=True),
                                 start=utcnow() - datetime.timedelta(hours=2),
                                 expiry=utcnow() - datetime.timedelta(hours=1))
        with self.assertRaises(ClientAuthenticationError) as ctx:
            q.send_message('late')
        self.assertSdkError(ctx.exception, 403, 'AuthenticationFailed')
        r = request('GET', '%s/messages?peekonly=true&%s' % (self.url, sas))
        root = self.assertAzureError(r, 403, 'AuthenticationFailed')
        self.assertTrue(root.findtext('AuthenticationErrorDetail'))
        _, good = self.sas_client(QueueSasPermissions(read=True, add=True))
        r = request('GET', '%s/messages?peekonly=true&%s' % (self.url, harness.tamper_sig(good)))
        root = self.assertAzureError(r, 403, 'AuthenticationFailed')
        self.assertIn('Signature did not match', root.findtext('AuthenticationErrorDetail') or '')
        # A SAS for another queue.
        other = unique_name('other')
        self.svc.create_queue(other)
        r = request('GET', '%s/%s/messages?peekonly=true&%s'
                    % (self.server.queue_account_url, other, good))
        self.assertAzureError(r, 403, 'AuthenticationFailed')

    def test_hand_built_queue_sas_versions(self):
        for sv in ('2015-04-05', '2018-11-09', '2020-12-06', '2026-04-06'):
            with self.subTest(sv=sv):
                qs, sts = harness.queue_service_sas(sv, self.qname, permissions='raup')
                body = '<QueueMessage><MessageText>v%s</MessageText></QueueMessage>' % sv
                r = request('POST', '%s/messages?%s' % (self.url, qs), body=body, version=None)
                self.assertEqual(r.status, 201, '%r\nstring-to-sign %r' % (r, sts))
                r = request('GET', '%s/messages?peekonly=true&numofmessages=32&%s'
                            % (self.url, qs), version=None)
                self.assertEqual(r.status, 200, r)
                self.assertIn(('v' + sv).encode(), r.body)
                r = request('GET', '%s/messages?peekonly=true&%s'
                            % (self.url, harness.tamper_sig(qs)), version=None)
                self.assertAzureError(r, 403, 'AuthenticationFailed')

    def test_account_sas_on_queue_service(self):
        sas = generate_account_sas(
            ACCOUNT, ACCOUNT_KEY, resource_types=ResourceTypes(service=True, container=True,
                                                               object=True),
            permission=AccountSasPermissions(read=True, write=True, delete=True, list=True,
                                             add=True, create=True, update=True, process=True),
            expiry=utcnow() + datetime.timedelta(hours=1))
        svc = QueueServiceClient(self.server.queue_account_url, credential=sas, **SDK_KW)
        name = unique_name('acct')
        q = svc.create_queue(name)
        q.send_message('account sas')
        self.assertIn(name, [x.name for x in svc.list_queues(name_starts_with='acct')])
        m = list(q.receive_messages(max_messages=1))[0]
        self.assertEqual(m.content, 'account sas')
        q.delete_message(m)
        svc.delete_queue(name)
        with self.assertRaises(ResourceNotFoundError):
            q.get_queue_properties()

    def test_future_x_ms_version_on_queue(self):
        r = request('GET', '%s/messages?peekonly=true' % self.url, auth='sharedkey',
                    version='2099-01-01')
        self.assertEqual(r.status, 200, r)


if __name__ == '__main__':
    unittest.main()
