// jsom_client.js: Microsoft's SharePoint JavaScript Object Model (JSOM, shipped in npm's
// sp-jsom-node) driving spmigd's CSOM endpoint, as a migration tool would. Its requests go
// through our own function that adds the bearer token (sp-jsom-node's request layer wants a
// real tenant's sign-in). Prints one JSON line with what it got.
//
//   node jsom_client.js provision SITE_URL TOKEN
//       -> {"web": {...}, "containers": {...}, "key": base64, "queue": uri}
//   node jsom_client.js submit SITE_URL TOKEN WEB_ID SOURCE MANIFEST QUEUE KEY_BASE64
//       -> {"jobId": guid, "states": [...], "events": [...]}
'use strict';
const http = require('http');
const { JsomNode } = require('sp-jsom-node');

function call(method, url, headers, body) {
    return new Promise((resolve, reject) => {
        const u = new URL(url);
        const req = http.request({ method, hostname: u.hostname, port: u.port,
                                   path: u.pathname + u.search, headers }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({ statusCode: res.statusCode, headers: res.headers,
                                          body: Buffer.concat(chunks).toString('utf8') }));
        });
        req.setTimeout(30000, () => req.destroy(new Error('timeout')));
        req.on('error', reject);
        req.end(body || '');
    });
}

function connect(siteUrl, token) {
    const auth = { Authorization: 'Bearer ' + token };
    // The request layer sp-jsom-node's JSOM calls: a form digest, then POSTs.
    const request = {
        requestDigest: async (webUrl) => {
            const r = await call('POST', webUrl + '/_api/contextinfo',
                                 { ...auth, Accept: 'application/json;odata=verbose' });
            return JSON.parse(r.body).d.GetContextWebInformation.FormDigestValue;
        },
        post: async (opts) => {
            // As sp-request does: with json set, a body is sent as JSON, and no body as none.
            const body = opts.body == null ? '' : opts.json ? JSON.stringify(opts.body) : opts.body;
            const r = await call('POST', opts.url, { ...opts.headers, ...auth }, body);
            return { statusCode: r.statusCode, headers: r.headers,
                     body: opts.json ? JSON.parse(r.body) : r.body };
        },
    };
    const jsom = new JsomNode({ modules: ['core'] });
    jsom.context = { siteUrl };
    jsom.request = request;
    jsom.mimicBrowser();
    jsom.loadScripts(['core'], 'spo');
    jsom.proxyRequestManager();
    // JSOM's own slip: SP.EncryptionOption's serialiser asks for a getter it names otherwise.
    SP.EncryptionOption.prototype.get_aes256CBCKey = SP.EncryptionOption.prototype.get_aeS256CBCKey;
    return jsom.getContext(siteUrl);
}

function run(ctx) {
    return new Promise((resolve, reject) => ctx.executeQueryAsync(
        () => resolve(),
        (_s, args) => reject(new Error(args.get_message() + ' (' + args.get_errorCode() + ', ' +
                                       args.get_errorTypeName() + ')'))));
}

async function provision(siteUrl, token) {
    const ctx = connect(siteUrl, token);
    const web = ctx.get_web();
    ctx.load(web, 'Id', 'Title', 'ServerRelativeUrl');
    const lists = web.get_lists();
    ctx.load(lists, 'Include(Title, Id)');
    const info = ctx.get_site().provisionMigrationContainers();
    const queue = ctx.get_site().provisionMigrationQueue();
    await run(ctx);
    const key = info.get_encryptionKey();
    return {
        web: { id: web.get_id().toString(), title: web.get_title(),
               url: web.get_serverRelativeUrl() },
        lists: lists.get_data().map((l) => l.get_title()),
        containers: { data: info.get_dataContainerUri(), metadata: info.get_metadataContainerUri() },
        key: key.toBase64String(),
        queue: queue.get_jobQueueUri(),
    };
}

async function submit(siteUrl, token, webId, source, manifest, queue, keyB64) {
    const ctx = connect(siteUrl, token);
    const site = ctx.get_site();
    const option = new SP.EncryptionOption();
    option.set_aeS256CBCKey(Array.from(Buffer.from(keyB64, 'base64')));
    const job = site.createMigrationJobEncrypted(new SP.Guid(webId), source, manifest, queue,
                                                 option);
    await run(ctx);
    const jobId = job.get_value().toString();
    const states = [];
    for (let i = 0; i < 600; i++) {
        const st = site.getMigrationJobStatus(new SP.Guid(jobId));
        await run(ctx);
        states.push(st.get_value());
        if (st.get_value() === 0)
            break;
        await new Promise((r) => setTimeout(r, 100));
    }
    const deleted = site.deleteMigrationJob(new SP.Guid(jobId));
    await run(ctx);
    return { jobId, states, deletedAfterEnd: deleted.get_value() };
}

async function main() {
    const [cmd, ...args] = process.argv.slice(2);
    const out = cmd === 'provision' ? await provision(...args) : await submit(...args);
    process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
    process.stderr.write(String(e && e.stack || e) + '\n');
    process.exit(1);
});
