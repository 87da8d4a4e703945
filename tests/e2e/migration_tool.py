"""
migration_tool.py: a third-party migration tool, as someone outside the project would write it
from Microsoft's public documentation of the SharePoint Online Migration API (summarised in
reference/spo-migration-api.md and reference/package-format.md), not from spmigd's code.

The flow it plays:
  1. REST (Bearer token, Accept: odata=verbose or odata=nometadata): the target's real ids from
     /_api/site, /_api/web, /_api/web/RootFolder (if the server has it) and
     lists/getbytitle('<library>')?$expand=RootFolder.
  2. ProvisionMigrationContainers (two container SAS URIs and an AES-256 key) and
     ProvisionMigrationQueue (a queue SAS URI).
  3. A package: the eight XML files (Manifest, ExportSettings, SystemData, UserGroup,
     RootObjectMap, LookupListMap, Requirements, ViewFormsList) and one content blob per file
     version.
  4. Every blob AES-256-CBC/PKCS7 encrypted with a fresh IV sent as x-ms-meta-IV, Content-MD5 of
     the ciphertext, uploaded with the Azure SDK's BlobClient from the SAS URI, then snapshotted.
  5. CreateMigrationJobEncrypted with options.AES256CBCKey (or CreateMigrationJob on the
     customer's own storage).
  6. The report queue read until JobEnd: base64 JSON, the encrypted envelope
     {"Label":"Encrypted","JobId","IV","Content"} decrypted with the job key; and
     GetMigrationJobProgress paged with NextToken; Import-<jobId>-1.log/.err downloaded from the
     manifest container and decrypted.

Every wait has a deadline and polls in steps of at most 0.2 s. Tests reach into the steps (a
package object's attributes, the XML text, per-blob upload options) to make bad packages.

What the REST API of the server did not offer while this was written is collected in
Target.missing (see fetch_target).
"""
import base64
import datetime
import hashlib
import http.client
import json
import os
import time
import urllib.parse
import uuid
from xml.sax.saxutils import quoteattr

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

VERBOSE = 'application/json;odata=verbose'
NOMETADATA = 'application/json;odata=nometadata'

SDK_KW = {'retry_total': 0, 'connection_timeout': 10, 'read_timeout': 60}
POLL = 0.05  # seconds between polls of a queue or a status


# -- AES-256-CBC / PKCS7 -------------------------------------------------------------------------

def aes_encrypt(key, iv, data):
    p = padding.PKCS7(128).padder()
    padded = p.update(data) + p.finalize()
    e = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return e.update(padded) + e.finalize()


def aes_decrypt(key, iv, data, unpad=True):
    """Raises ValueError on a bad length or bad padding."""
    if len(data) % 16:
        raise ValueError('ciphertext is not a whole number of blocks')
    d = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    plain = d.update(data) + d.finalize()
    if not unpad:
        return plain
    u = padding.PKCS7(128).unpadder()
    return u.update(plain) + u.finalize()


def b64(data):
    return base64.b64encode(data).decode('ascii')


def new_iv():
    return os.urandom(16)


# -- SharePoint REST -----------------------------------------------------------------------------

class SpError(Exception):
    """A non-2xx answer of the SharePoint listener, with its SharePoint error body taken apart."""

    def __init__(self, method, url, status, body):
        self.method, self.url, self.status, self.body = method, url, status, body
        self.code_text = ''
        self.message = ''
        try:
            err = json.loads(body.decode('utf-8'))['error']
            self.code_text = err.get('code', '')
            msg = err.get('message')
            self.message = msg.get('value', '') if isinstance(msg, dict) else str(msg)
        except (ValueError, KeyError, TypeError, AttributeError):
            pass
        super().__init__('%s %s -> %d %s' % (method, url, status, body[:400]))

    @property
    def hresult(self):
        """The signed HRESULT of "<hresult>, <type>" as an int, or None."""
        head = self.code_text.split(',', 1)[0].strip()
        try:
            return int(head)
        except ValueError:
            return None

    @property
    def error_type(self):
        parts = self.code_text.split(',', 1)
        return parts[1].strip() if len(parts) == 2 else ''


class HttpResult:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body.decode('utf-8'))


def http_call(method, url, body=None, headers=None, timeout=60):
    """One request on a fresh connection; url is sent as written."""
    u = urllib.parse.urlsplit(url)
    target = u.path + ('?' + u.query if u.query else '')
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request(method, target, body=body, headers=headers or {})
        r = conn.getresponse()
        return HttpResult(r.status, r.msg, r.read())
    finally:
        conn.close()


def quote_literal(s):
    """A string literal of a REST path: quotes doubled ('' for ')."""
    return "'" + s.replace("'", "''") + "'"


def _strip(o):
    """Removes verbose metadata: __metadata keys, {"results": [...]} wrappers, __deferred."""
    if isinstance(o, list):
        return [_strip(x) for x in o]
    if isinstance(o, dict):
        keys = set(o) - {'__metadata'}
        if keys == {'results'} and isinstance(o['results'], list):
            return _strip(o['results'])
        return {k: _strip(v) for k, v in o.items()
                if k != '__metadata' and not k.startswith('odata.')}
    return o


def _get_ci(d, name):
    for k, v in d.items():
        if k.lower() == name.lower():
            return v
    raise KeyError(name)


class SharePoint:
    """REST client of one site. accept is VERBOSE or NOMETADATA; every answer is checked to be
    in the shape that Accept asked for before it is unwrapped."""

    def __init__(self, sp_url, token, site='/', accept=VERBOSE, timeout=60):
        self.sp_url = sp_url.rstrip('/')
        self.token = token
        self.site = site
        self.accept = accept
        self.timeout = timeout

    def with_(self, **kw):
        args = dict(sp_url=self.sp_url, token=self.token, site=self.site, accept=self.accept,
                    timeout=self.timeout)
        args.update(kw)
        return SharePoint(**args)

    @property
    def verbose(self):
        return 'odata=verbose' in self.accept

    def api_url(self, tail, params=None):
        path = urllib.parse.quote(tail, safe="/()',=$:@!*+;")
        site = '' if self.site == '/' else self.site
        url = '%s%s/_api/%s' % (self.sp_url, urllib.parse.quote(site), path)
        if params:
            url += '?' + urllib.parse.urlencode(params, quote_via=urllib.parse.quote, safe='$,/')
        return url

    def raw(self, method, tail, body=None, params=None, headers=None, content_type=None):
        """The bare answer (HttpResult); body: dict (sent as JSON), bytes or str."""
        h = {'Accept': self.accept}
        if self.token is not None:
            h['Authorization'] = 'Bearer ' + self.token
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode('utf-8')
            content_type = content_type or (self.accept if self.verbose
                                            else 'application/json;odata=nometadata')
        elif isinstance(body, str):
            body = body.encode('utf-8')
        if body is not None:
            h['Content-Type'] = content_type or 'application/json'
        elif method == 'POST':
            body = b''
        h.update(headers or {})
        url = self.api_url(tail, params)
        return url, http_call(method, url, body, h, self.timeout)

    def call(self, method, tail, body=None, params=None, content_type=None):
        url, r = self.raw(method, tail, body, params, content_type=content_type)
        if not 200 <= r.status < 300:
            raise SpError(method, url, r.status, r.body)
        return r

    def _json(self, r, url):
        ctype = (r.headers.get('Content-Type') or '').lower()
        if 'json' not in ctype:
            raise AssertionError('%s: answer is not JSON (%s)' % (url, ctype))
        data = r.json()
        if self.verbose:
            if not isinstance(data, dict) or set(data) != {'d'}:
                raise AssertionError('%s: verbose answer is not {"d":...}: %r' % (url, data))
        elif isinstance(data, dict) and 'd' in data:
            raise AssertionError('%s: nometadata answer has a "d" wrapper: %r' % (url, data))
        return data

    def get_json(self, tail, params=None):
        url, r = self.raw('GET', tail, params=params)
        if r.status != 200:
            raise SpError('GET', url, r.status, r.body)
        return self._json(r, url)

    def entity(self, tail, params=None):
        data = self.get_json(tail, params)
        return _strip(data['d'] if self.verbose else data)

    def collection(self, tail, params=None, max_pages=100):
        """All entries, following __next / odata.nextLink."""
        out = []
        url = None
        for _ in range(max_pages):
            if url is None:
                data = self.get_json(tail, params)
            else:
                r = http_call('GET', url, None, {'Accept': self.accept,
                                                 'Authorization': 'Bearer ' + self.token},
                              self.timeout)
                if r.status != 200:
                    raise SpError('GET', url, r.status, r.body)
                data = self._json(r, url)
            if self.verbose:
                d = data['d']
                out.extend(_strip(d['results']))
                url = d.get('__next')
            else:
                out.extend(_strip(data['value']))
                url = data.get('odata.nextLink')
            if not url:
                return out
        raise AssertionError('%s: more than %d pages' % (tail, max_pages))

    def value(self, tail):
        """The bytes of a $value resource."""
        url, r = self.raw('GET', tail)
        if r.status != 200:
            raise SpError('GET', url, r.status, r.body)
        return r.body

    def invoke(self, name, body=None, params_in_url=None, method='POST'):
        """A method of /_api/site/. Returns its result, unwrapped from either shape."""
        tail = 'site/' + name
        if params_in_url is not None:
            tail += '(' + params_in_url + ')'
        if method == 'POST':
            url, r = self.raw('POST', tail, body if body is not None else {})
        else:
            url, r = self.raw(method, tail)
        if not 200 <= r.status < 300:
            raise SpError(method, url, r.status, r.body)
        data = self._json(r, url)
        if self.verbose:
            try:
                return _strip(_get_ci(data['d'], name))
            except KeyError:
                if set(data['d']) == {'results'}:  # a collection answered as an entity set
                    return _strip(data['d']['results'])
                raise
        if isinstance(data, dict) and set(data) == {'value'}:
            return _strip(data['value'])
        return _strip(data)

    # -- the Migration API -----------------------------------------------------------------

    def provision_containers(self):
        r = self.invoke('ProvisionMigrationContainers')
        for k in ('DataContainerUri', 'MetadataContainerUri', 'EncryptionKey'):
            if not isinstance(r.get(k), str):
                raise AssertionError('ProvisionMigrationContainers lacks %s: %r' % (k, r))
        return r

    def provision_queue(self):
        r = self.invoke('ProvisionMigrationQueue')
        return r['JobQueueUri']

    def create_job_encrypted(self, web_id, source_uri, manifest_uri, queue_uri, key_b64):
        options = {'AES256CBCKey': key_b64}
        if self.verbose:  # verbose clients type their complex parameters
            options = {'__metadata': {'type': 'SP.EncryptionOption'}, 'AES256CBCKey': key_b64}
        body = {'options': options, 'gWebId': web_id,
                'azureContainerSourceUri': source_uri,
                'azureContainerManifestUri': manifest_uri,
                'azureQueueReportUri': queue_uri}
        return self.invoke('CreateMigrationJobEncrypted', body)

    def create_job(self, web_id, source_uri, manifest_uri, queue_uri):
        body = {'gWebId': web_id, 'azureContainerSourceUri': source_uri,
                'azureContainerManifestUri': manifest_uri, 'azureQueueReportUri': queue_uri}
        return self.invoke('CreateMigrationJob', body)

    def job_status(self, job_id):
        return self.invoke('GetMigrationJobStatus', {'id': job_id})

    def job_progress(self, job_id, next_token='0'):
        """One page: (list of event JSON strings, NextToken)."""
        r = self.invoke('GetMigrationJobProgress', method='GET',
                        params_in_url="jobId=%s,nextToken=%s"
                        % (quote_literal(job_id), quote_literal(str(next_token))))
        logs = r['Logs']
        if not isinstance(logs, list) or not all(isinstance(x, str) for x in logs):
            raise AssertionError('Logs is not a list of JSON strings: %r' % (logs,))
        return logs, r['NextToken']

    def all_progress(self, job_id, next_token='0', max_pages=1000):
        """Pages from next_token until a page is empty: (events as dicts, last NextToken)."""
        events = []
        for _ in range(max_pages):
            logs, tok = self.job_progress(job_id, next_token)
            if not logs:
                if str(tok) != str(next_token):
                    raise AssertionError('an empty page moved NextToken from %r to %r'
                                         % (next_token, tok))
                return events, tok
            events.extend(json.loads(x) for x in logs)
            if str(tok) == str(next_token):
                raise AssertionError('NextToken %r did not move past a full page' % tok)
            next_token = tok
        raise AssertionError('progress of %s did not end within %d pages' % (job_id, max_pages))

    def wait_status(self, job_id, want, timeout=30):
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            s = self.job_status(job_id)
            if not seen or seen[-1] != s:
                seen.append(s)
            if s == want:
                return seen
            if time.monotonic() > deadline:
                raise AssertionError('job %s: status %r, never %r within %ss'
                                     % (job_id, seen, want, timeout))
            time.sleep(POLL)


# -- /_emu (the emulator's own controls) ---------------------------------------------------------

def emu(sp_url, token, method, path, body=None):
    h = {'Authorization': 'Bearer ' + token, 'Accept': 'application/json'}
    data = None
    if body is not None:
        data = json.dumps(body).encode('utf-8')
        h['Content-Type'] = 'application/json'
    url = sp_url.rstrip('/') + '/_emu/' + path
    r = http_call(method, url, data, h)
    if not 200 <= r.status < 300:
        raise SpError(method, url, r.status, r.body)
    return r.json() if r.body else None


# -- the target ----------------------------------------------------------------------------------

class Target:
    """The ids a package must carry, read through REST."""

    def __init__(self):
        self.site_id = self.web_id = self.web_url = self.web_root_folder_id = None
        self.list_id = self.list_title = self.root_folder_id = self.root_folder_url = None
        self.next_int_id = 1  # list item ids are unique in the list: packages take them here
        self.missing = []     # what REST did not give (and the stand-in used)

    @property
    def root_web_relative(self):
        """'Shared Documents' for root folder '/sites/hr/Shared Documents'."""
        prefix = '' if self.web_url == '/' else self.web_url
        assert self.root_folder_url.startswith(prefix + '/'), (self.root_folder_url, prefix)
        return self.root_folder_url[len(prefix) + 1:]

    def server_relative(self, rel):
        """'/sites/hr/Shared Documents/<rel>' (rel '' gives the root folder)."""
        return self.root_folder_url + ('/' + rel if rel else '')

    def web_relative(self, rel):
        return self.root_web_relative + ('/' + rel if rel else '')


def fetch_target(sp, library='Documents'):
    t = Target()
    site = sp.entity('site')
    t.site_id = site['Id']
    web = sp.entity('web')
    t.web_id = web['Id']
    t.web_url = web.get('ServerRelativeUrl')
    if t.web_url is None:
        t.web_url = urllib.parse.urlsplit(web['Url']).path or '/'
        t.missing.append('web.ServerRelativeUrl (taken from web.Url)')
    try:
        t.web_root_folder_id = sp.entity('web/RootFolder')['UniqueId']
    except SpError:
        try:
            t.web_root_folder_id = sp.entity('web', {'$expand': 'RootFolder'})['RootFolder'][
                'UniqueId']
        except (SpError, KeyError, TypeError):
            # Needed for the library root folder's ParentFolderId and SystemData's Folder
            # SystemObject; the web id stands in.
            t.web_root_folder_id = t.web_id
            t.missing.append('web/RootFolder (UniqueId of the web root folder; web Id used)')
    lst = sp.entity("web/lists/getbytitle(%s)" % quote_literal(library), {'$expand': 'RootFolder'})
    t.list_id = lst['Id']
    t.list_title = lst['Title']
    root = lst.get('RootFolder')
    if not isinstance(root, dict) or 'UniqueId' not in root:
        root = sp.entity("web/lists/getbytitle(%s)/RootFolder" % quote_literal(library))
    t.root_folder_id = root['UniqueId']
    t.root_folder_url = root['ServerRelativeUrl']
    items = sp.collection("web/lists/getbytitle(%s)/items" % quote_literal(library),
                          {'$select': 'Id', '$top': '5000'})
    t.next_int_id = max([int(i['Id']) for i in items] + [0]) + 1
    return t


# -- the package ---------------------------------------------------------------------------------

def sp_time(t):
    """xs:dateTime as the documented samples write it: UTC, no zone, no fraction."""
    return t.strftime('%Y-%m-%dT%H:%M:%S')


class User:
    def __init__(self, uid, name, login, email):
        self.id, self.name, self.login, self.email = uid, name, login, email


class Version:
    def __init__(self, label, data, modified, editor, created=None, comment=None):
        self.label, self.data, self.modified, self.editor = label, data, modified, editor
        self.created = created
        self.comment = comment
        self.blob = None       # content blob name, assigned by Package.build (or set by a test)
        self.file_size = None  # FileSize override (default: len(data))


class Obj:
    """A folder or a file of the package, with its list item."""

    def __init__(self, kind, rel, parent, int_id, author, editor, created, modified):
        self.kind = kind                  # 'folder' or 'file'
        self.rel = rel                    # path under the library root: 'Reports/Q1.docx'
        self.name = rel.rsplit('/', 1)[-1]
        self.parent = parent              # Obj or None (the library root folder)
        self.id = str(uuid.uuid4())       # the file's / folder's UniqueId
        self.item_id = str(uuid.uuid4())  # the list item's own id
        self.int_id = int_id
        self.author, self.editor = author, editor
        self.created, self.modified = created, modified
        self.versions = []                # files: oldest first, current last
        self.extra = {}                   # attributes a test adds to or overrides on File/Folder
        self.with_list_item = True

    @property
    def current(self):
        return self.versions[-1]


class Package:
    """A file share mapped to one library, written as package-format.md describes it."""

    def __init__(self, target, users=None, source_type='FileShare'):
        self.target = target
        self.users = users or [
            User(1, 'Alice Example', 'i:0#.f|membership|alice@contoso.com', 'alice@contoso.com'),
            User(2, 'Bob Example', 'i:0#.f|membership|bob@contoso.com', 'bob@contoso.com')]
        self.source_type = source_type
        self.objects = []
        self.base_time = datetime.datetime(2024, 3, 1, 9, 0, 0)

    def _times(self, created, modified):
        n = len(self.objects)
        created = created or self.base_time + datetime.timedelta(minutes=7 * n)
        modified = modified or created + datetime.timedelta(hours=1, seconds=n)
        return created, modified

    def _parent(self, rel):
        if '/' not in rel:
            return None
        prel = rel.rsplit('/', 1)[0]
        for o in self.objects:
            if o.kind == 'folder' and o.rel == prel:
                return o
        raise KeyError('parent folder %r not added yet' % prel)

    def _int_id(self, int_id):
        t = self.target
        if int_id is None:
            int_id = t.next_int_id
        t.next_int_id = max(t.next_int_id, int_id + 1)
        return int_id

    def add_folder(self, rel, author=1, editor=1, created=None, modified=None, int_id=None):
        created, modified = self._times(created, modified)
        o = Obj('folder', rel, self._parent(rel), self._int_id(int_id), author, editor, created,
                modified)
        self.objects.append(o)
        return o

    def add_file(self, rel, data=None, versions=None, author=1, editor=None, created=None,
                 modified=None, int_id=None):
        """data: one version 1.0; versions: [(label, bytes, editor), ...] oldest first."""
        created, modified = self._times(created, modified)
        if versions is None:
            versions = [('1.0', data, editor or author)]
        o = Obj('file', rel, self._parent(rel), self._int_id(int_id), author,
                versions[-1][2], created, modified)
        n = len(versions)
        for i, (label, vdata, veditor) in enumerate(versions):
            vtime = modified - datetime.timedelta(minutes=10 * (n - 1 - i))
            o.versions.append(Version(label, vdata, vtime, veditor, created))
        self.objects.append(o)
        return o

    def find(self, rel):
        for o in self.objects:
            if o.rel == rel:
                return o
        raise KeyError(rel)

    # -- XML -----------------------------------------------------------------------------------

    @staticmethod
    def _attrs(pairs):
        return ' '.join('%s=%s' % (k, quoteattr(str(v))) for k, v in pairs if v is not None)

    def _spobject(self, otype, oid, parent_id, url, inner):
        t = self.target
        return ('  <SPObject %s>\n%s  </SPObject>\n' % (self._attrs([
            ('Id', oid), ('ObjectType', otype), ('ParentId', parent_id),
            ('ParentWebId', t.web_id), ('ParentWebUrl', t.web_url), ('Url', url)]), inner))

    def _parent_id(self, o):
        return o.parent.id if o.parent else self.target.root_folder_id

    def _dir_name(self, o):
        return self.target.server_relative(o.parent.rel if o.parent else '').lstrip('/')

    def _merge(self, pairs, extra):
        pairs = [(k, extra.get(k, v)) for k, v in pairs]
        keys = {k for k, _ in pairs}
        pairs += [(k, v) for k, v in extra.items() if k not in keys]
        return pairs

    def _file_attrs(self, o, v=None, outer=True):
        t = self.target
        cur = o.current
        v = v or cur
        pairs = [('Id', o.id), ('Url', t.web_relative(o.rel)), ('Name', o.name),
                 ('ListItemIntId', o.int_id), ('ListId', t.list_id),
                 ('ParentId', self._parent_id(o)), ('ParentWebId', t.web_id),
                 ('ParentWebUrl', t.web_url)]
        single = len(o.versions) == 1
        if not outer or single:
            pairs.append(('FileValue', v.blob))
        size = v.file_size if v.file_size is not None else len(v.data)
        pairs += [('FileSize', size), ('Version', v.label),
                  ('Author', o.author), ('ModifiedBy', v.editor),
                  ('TimeCreated', sp_time(o.created)),
                  ('TimeLastModified', sp_time(o.modified if outer else v.modified))]
        if v.comment is not None:
            pairs.append(('CheckinComment', v.comment))
        return self._merge(pairs, o.extra if outer else {})

    def _item_attrs(self, o, v=None, with_order=True):
        t = self.target
        pairs = [('Id', o.item_id), ('IntId', o.int_id), ('DocId', o.id),
                 ('DocType', 'Folder' if o.kind == 'folder' else 'File'), ('Name', o.name),
                 ('FileUrl', t.web_relative(o.rel)), ('DirName', self._dir_name(o)),
                 ('ParentFolderId', self._parent_id(o)), ('ParentListId', t.list_id),
                 ('ParentWebId', t.web_id)]
        if with_order:
            pairs.append(('Order', o.int_id * 100))
        label = v.label if v else (o.current.label if o.kind == 'file' else '1.0')
        editor = v.editor if v else o.editor
        modified = v.modified if v else o.modified
        pairs += [('Version', label), ('Author', o.author), ('ModifiedBy', editor),
                  ('TimeCreated', sp_time(o.created)), ('TimeLastModified', sp_time(modified)),
                  ('ModerationStatus', 'Approved')]
        return pairs

    def manifest_xml(self):
        t = self.target
        out = ['<?xml version="1.0" encoding="utf-8"?>\n',
               '<SPObjects xmlns="urn:deployment-manifest-schema">\n']
        # 1. the library's root folder (exists in the target), 2. the library itself
        out.append(self._spobject('SPFolder', t.root_folder_id, t.web_root_folder_id,
                                  t.root_folder_url, '    <Folder %s />\n' % self._attrs([
                                      ('Id', t.root_folder_id), ('Url', t.root_web_relative),
                                      ('Name', t.root_folder_url.rsplit('/', 1)[-1]),
                                      ('ParentFolderId', t.web_root_folder_id),
                                      ('ParentWebId', t.web_id), ('ParentWebUrl', t.web_url),
                                      ('ContainingDocumentLibrary', t.list_id),
                                      ('SortBehavior', 1)])))
        out.append(self._spobject(
            'SPDocumentLibrary', t.list_id, t.web_id, t.root_folder_url,
            '    <DocumentLibrary %s>\n      <ContentTypes />\n    </DocumentLibrary>\n'
            % self._attrs([('Id', t.list_id), ('BaseTemplate', 'DocumentLibrary'),
                           ('Title', t.list_title), ('RootFolderId', t.root_folder_id),
                           ('RootFolderUrl', t.root_folder_url), ('ParentWebId', t.web_id),
                           ('ParentWebUrl', t.web_url)])))
        # 3. folders and files, each followed by its list item, in the order of self.objects
        for o in self.objects:
            url = t.server_relative(o.rel)
            if o.kind == 'folder':
                pairs = self._merge([
                    ('Id', o.id), ('Url', t.web_relative(o.rel)), ('Name', o.name),
                    ('ParentFolderId', self._parent_id(o)), ('ParentWebId', t.web_id),
                    ('ParentWebUrl', t.web_url), ('ContainingDocumentLibrary', t.list_id),
                    ('ListItemIntId', o.int_id), ('Author', o.author), ('ModifiedBy', o.editor),
                    ('TimeCreated', sp_time(o.created)),
                    ('TimeLastModified', sp_time(o.modified)), ('SortBehavior', 1)], o.extra)
                out.append(self._spobject('SPFolder', o.id, self._parent_id(o), url,
                                          '    <Folder %s />\n' % self._attrs(pairs)))
                item_inner = '      <Fields />\n'
            else:
                inner = '    <File %s' % self._attrs(self._file_attrs(o))
                if len(o.versions) > 1:
                    inner += '>\n      <Versions>\n'
                    for v in o.versions:
                        inner += '        <File %s />\n' % self._attrs(
                            self._file_attrs(o, v, outer=False))
                    inner += '      </Versions>\n    </File>\n'
                else:
                    inner += ' />\n'
                out.append(self._spobject('SPFile', o.id, self._parent_id(o), url, inner))
                item_inner = '      <Fields />\n'
                if len(o.versions) > 1:
                    item_inner += '      <Versions>\n'
                    for v in o.versions:
                        item_inner += '        <ListItem %s />\n' % self._attrs(
                            self._item_attrs(o, v, with_order=False))
                    item_inner += '      </Versions>\n'
            if o.with_list_item:
                out.append(self._spobject(
                    'SPListItem', o.item_id, t.list_id, url, '    <ListItem %s>\n%s    '
                    '</ListItem>\n' % (self._attrs(self._item_attrs(o)), item_inner)))
        out.append('</SPObjects>\n')
        return ''.join(out)

    def export_settings_xml(self):
        t = self.target
        return ('<?xml version="1.0" encoding="utf-8"?>\n'
                '<ExportSettings xmlns="urn:deployment-exportsettings-schema" %s>\n'
                '  <ExportObjects>\n    <DeploymentObject %s />\n  </ExportObjects>\n'
                '</ExportSettings>\n' % (
                    self._attrs([('SiteUrl', 'https://contoso.sharepoint.com' +
                                  ('' if t.web_url == '/' else t.web_url)),
                                 ('FileLocation', '\\\\fileserver\\share'),
                                 ('IncludeSecurity', 'None'), ('IncludeVersions', 'All'),
                                 ('SourceType', self.source_type)]),
                    self._attrs([('Id', t.list_id), ('Type', 'List'), ('ParentId', t.web_id)])))

    def system_data_xml(self, manifests=('Manifest.xml',)):
        t = self.target
        users_list = ('' if t.web_url == '/' else t.web_url) + '/_catalogs/users'
        return ('<?xml version="1.0" encoding="utf-8"?>\n'
                '<SystemData xmlns="urn:deployment-systemdata-schema">\n'
                '  <SchemaVersion Version="15.0.0.0" Build="16.0.3111.1200" '
                'DatabaseVersion="11552" SiteVersion="15" ObjectsProcessed="%d" />\n'
                '  <ManifestFiles>\n%s  </ManifestFiles>\n'
                '  <SystemObjects>\n'
                '    <SystemObject %s />\n    <SystemObject %s />\n    <SystemObject %s />\n'
                '    <SystemObject %s />\n'
                '  </SystemObjects>\n  <RootWebOnlyLists />\n</SystemData>\n' % (
                    len(self.objects) * 2 + 2,
                    ''.join('    <ManifestFile Name=%s />\n' % quoteattr(m) for m in manifests),
                    self._attrs([('Id', t.web_root_folder_id), ('Type', 'Folder'),
                                 ('Url', t.web_url)]),
                    self._attrs([('Id', t.web_id), ('Type', 'Web'), ('Url', t.web_url)]),
                    self._attrs([('Id', t.list_id), ('Type', 'List'),
                                 ('Url', t.root_folder_url)]),
                    self._attrs([('Id', str(uuid.uuid5(uuid.UUID(t.web_id), 'users'))),
                                 ('Type', 'List'), ('Url', users_list)])))

    def user_group_xml(self):
        users = ''.join('    <User %s />\n' % self._attrs([
            ('Id', u.id), ('Name', u.name), ('Login', u.login), ('Email', u.email),
            ('IsDomainGroup', 'false'), ('IsSiteAdmin', 'false'),
            ('SystemId', b64(('sid-%d' % u.id).encode())), ('IsDeleted', 'false')])
            for u in self.users)
        return ('<?xml version="1.0" encoding="utf-8"?>\n'
                '<UserGroupMap xmlns="urn:deployment-usergroupmap-schema">\n'
                '  <Users>\n%s  </Users>\n  <Groups />\n</UserGroupMap>\n' % users)

    def root_object_map_xml(self):
        t = self.target
        return ('<?xml version="1.0" encoding="utf-8"?>\n'
                '<RootObjects xmlns="urn:deployment-rootobjectmap-schema">\n'
                '  <RootObject %s />\n</RootObjects>\n' % self._attrs([
                    ('Id', t.list_id), ('Type', 'List'), ('ParentId', t.web_id),
                    ('WebUrl', t.web_url), ('Url', t.root_folder_url),
                    ('IsDependency', 'false')]))

    def build(self):
        """(xml files: {name: bytes}, content blobs: {blob name: bytes}). Blob names are
        <guid>.dat, as SPMT writes them, unless a test set one."""
        blobs = {}
        for o in self.objects:
            for v in o.versions:
                if v.blob is None:
                    v.blob = '%s.dat' % uuid.uuid4()
                if v.data is not None:
                    blobs[v.blob] = v.data
        empty = '<?xml version="1.0" encoding="utf-8"?>\n<%s xmlns="%s" />\n'
        xml = {
            'ExportSettings.xml': self.export_settings_xml(),
            'LookupListMap.xml': empty % ('LookupLists', 'urn:deployment-lookuplistmap-schema'),
            'Manifest.xml': self.manifest_xml(),
            'Requirements.xml': empty % ('Requirements', 'urn:deployment-requirements-schema'),
            'RootObjectMap.xml': self.root_object_map_xml(),
            'SystemData.xml': self.system_data_xml(),
            'UserGroup.xml': self.user_group_xml(),
            'ViewFormsList.xml': empty % ('ViewFormsList', 'urn:deployment-viewformlist-schema'),
        }
        return {k: v.encode('utf-8') for k, v in xml.items()}, blobs


# -- Azure storage -------------------------------------------------------------------------------

class Container:
    """A blob container reached through a container SAS URI."""

    def __init__(self, uri):
        from azure.storage.blob import ContainerClient
        self.uri = uri
        # Blobs over 2 MiB go up as blocks (Put Block, Put Block List), as large files do.
        self.client = ContainerClient.from_container_url(
            uri, max_single_put_size=2 << 20, max_block_size=1 << 20, **SDK_KW)

    def blob(self, name):
        return self.client.get_blob_client(name)

    def put(self, name, plain, key=None, iv=None, set_iv=True, snapshot=True, content_md5=True,
            transform=None):
        """Uploads one blob: encrypted with key (fresh IV unless given) when key is set,
        Content-MD5 of the bytes sent, x-ms-meta-IV, then a snapshot. transform(bytes) may
        change the bytes sent (after encryption). Returns the IV used (or None)."""
        from azure.storage.blob import ContentSettings
        body = plain
        meta = {}
        if key is not None:
            iv = iv or new_iv()
            body = aes_encrypt(key, iv, plain)
            if set_iv:
                meta['IV'] = b64(iv)
        if transform:
            body = transform(body)
        kw = {}
        if content_md5:
            kw['content_settings'] = ContentSettings(
                content_type='application/octet-stream',
                content_md5=bytearray(hashlib.md5(body).digest()))
            kw['validate_content'] = True
        bc = self.blob(name)
        bc.upload_blob(body, overwrite=True, metadata=meta or None, **kw)
        if snapshot:
            bc.create_snapshot()
        return iv

    def get(self, name):
        """(bytes, metadata) of the current blob."""
        d = self.blob(name).download_blob()
        return d.readall(), dict(d.properties.metadata or {})

    def get_decrypted(self, name, key):
        data, meta = self.get(name)
        if key is None:
            return data
        iv = None
        for k, v in meta.items():
            if k.lower() == 'iv':
                iv = base64.b64decode(v)
        if iv is None:  # the fallback some clients use: the IV in the first 16 bytes
            iv, data = data[:16], data[16:]
        return aes_decrypt(key, iv, data)


# -- the report queue ----------------------------------------------------------------------------

class ReportQueue:
    """Reads a (possibly shared) report queue, sorts events by JobId, decrypts envelopes."""

    def __init__(self, uri):
        from azure.storage.queue import QueueClient
        self.uri = uri
        self.client = QueueClient.from_queue_url(uri, **SDK_KW)
        self.keys = {}      # job id -> key bytes
        self.events = {}    # job id -> [event dict, ...] in queue order
        self.raw = {}       # job id -> [outer JSON object of each message]
        self.pending = []   # envelopes of jobs whose key is not known yet

    def decode(self, text):
        outer = json.loads(base64.b64decode(text, validate=True).decode('utf-8'))
        if not isinstance(outer, dict):
            raise AssertionError('queue message is not a JSON object: %r' % outer)
        if outer.get('Label') == 'Encrypted':
            job = outer['JobId'].lower()
            key = self.keys.get(job)
            if key is None:
                return job, outer, None
            plain = aes_decrypt(key, base64.b64decode(outer['IV']),
                                base64.b64decode(outer['Content']))
            return job, outer, json.loads(plain.decode('utf-8'))
        return outer['JobId'].lower(), outer, outer

    def _file(self, job, outer, ev):
        self.raw.setdefault(job, []).append(outer)
        self.events.setdefault(job, []).append(ev)

    def poll_once(self):
        got = 0
        for m in self.client.receive_messages(messages_per_page=32, visibility_timeout=30):
            job, outer, ev = self.decode(m.content)
            if ev is None:
                self.pending.append(outer)
            else:
                self._file(job, outer, ev)
            self.client.delete_message(m)
            got += 1
        return got

    def read_until_end(self, job_id, key=None, timeout=30):
        """Every event of job_id up to its JobEnd (which must come last)."""
        job_id = job_id.lower()
        if key is not None:
            self.keys[job_id] = key
            for outer in [p for p in self.pending if p['JobId'].lower() == job_id]:
                self.pending.remove(outer)
                _, _, ev = self.decode(b64(json.dumps(outer).encode()))
                self._file(job_id, outer, ev)
        deadline = time.monotonic() + timeout
        while True:
            evs = self.events.get(job_id, [])
            if any(e.get('Event') == 'JobEnd' for e in evs):
                return list(evs)
            if time.monotonic() > deadline:
                raise AssertionError('no JobEnd for %s on the queue within %ss; got %r'
                                     % (job_id, timeout, [e.get('Event') for e in evs]))
            if not self.poll_once():
                time.sleep(POLL)


# -- one migration -------------------------------------------------------------------------------

class Migration:
    """One package through the whole flow; each step can be run (and interfered with) alone.

    blob_opts: {blob or xml name: dict of Container.put options, e.g. snapshot=False,
    set_iv=False, key=<other key>, transform=<fn>}; skip: names not to upload."""

    def __init__(self, sp, package, queue_uri=None, encrypted=True):
        self.sp = sp
        self.package = package
        self.queue_uri = queue_uri
        self.encrypted = encrypted
        self.blob_opts = {}
        self.skip = set()
        self.xml = self.blobs = None
        self.containers = None
        self.key = None
        self.job_id = None
        self.events = None

    def provision(self):
        self.containers = self.sp.provision_containers()
        self.key = base64.b64decode(self.containers['EncryptionKey'])
        if self.queue_uri is None:
            self.queue_uri = self.sp.provision_queue()
        return self

    @property
    def data_uri(self):
        return self.containers['DataContainerUri']

    @property
    def manifest_uri(self):
        return self.containers['MetadataContainerUri']

    def build(self):
        if self.xml is None:
            self.xml, self.blobs = self.package.build()
        return self

    def upload(self):
        self.build()
        key = self.key if self.encrypted else None
        data, meta = Container(self.data_uri), Container(self.manifest_uri)
        for name, body in self.blobs.items():
            if name not in self.skip:
                opts = dict(key=key)
                opts.update(self.blob_opts.get(name, {}))
                data.put(name, body, **opts)
        for name, body in self.xml.items():
            if name not in self.skip:
                opts = dict(key=key)
                opts.update(self.blob_opts.get(name, {}))
                meta.put(name, body, **opts)
        return self

    def submit(self, key_b64=None):
        web = self.package.target.web_id
        if self.encrypted:
            self.job_id = self.sp.create_job_encrypted(
                web, self.data_uri, self.manifest_uri, self.queue_uri,
                key_b64 or self.containers['EncryptionKey'])
        else:
            self.job_id = self.sp.create_job(web, self.data_uri, self.manifest_uri,
                                             self.queue_uri)
        uuid.UUID(self.job_id)  # a GUID, or this raises
        return self.job_id

    def wait(self, queue=None, timeout=30, key=None):
        """The job's events from its report queue, up to JobEnd. key: the one submitted, when
        it is not the provisioned one."""
        queue = queue or ReportQueue(self.queue_uri)
        if key is None and self.encrypted:
            key = self.key
        self.events = queue.read_until_end(self.job_id, key, timeout)
        self.queue = queue
        return self.events

    def run(self, timeout=30):
        if self.containers is None:
            self.provision()
        self.upload()
        self.submit()
        return self.wait(timeout=timeout)

    def import_log(self, ext):
        """Import-<jobId>-1.<ext> from the manifest container, decrypted, as text."""
        c = Container(self.manifest_uri)
        name = 'Import-%s-1.%s' % (self.job_id, ext)
        return c.get_decrypted(name, self.key if self.encrypted else None).decode('utf-8')
