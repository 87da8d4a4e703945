// pnp_items.mjs: PnPjs (@pnp/sp), a SharePoint REST library nobody here wrote, reads a library
// from spmigd as it would from a tenant: items by key, $select, $filter, $orderby, $expand,
// paging through the next links, and from an item to its file and its bytes through the
// addresses the server handed out. Prints one JSON object; test_odata.py checks it.
// Usage: node pnp_items.mjs <site url> <bearer token> <library title>
import { spfi, DefaultHeaders, DefaultInit, SPQueryable } from "@pnp/sp";
import "@pnp/sp/webs/index.js";
import "@pnp/sp/lists/index.js";
import "@pnp/sp/items/index.js";
import "@pnp/sp/files/index.js";
import { BearerToken, BrowserFetch, DefaultParse, BufferParse } from "@pnp/queryable";

const [site, token, library] = process.argv.slice(2);
const sp = spfi(site).using(DefaultHeaders(), DefaultInit(), BrowserFetch(), DefaultParse(),
    BearerToken(token));
// fluent calls change the object they are made on: a fresh one for each request
const items = () => sp.web.lists.getByTitle(library).items;
const out = {};

out.all = await items().select("Id", "FileLeafRef", "FSObjType").top(5000)();
const first = out.all.find((i) => i.FSObjType === 0);
out.byId = await items().getById(first.Id)();
out.selected = await items().select("Id", "FileLeafRef").top(2)();
out.filtered = await items().filter("FSObjType eq 0 and startswith(FileLeafRef,'file 01')")
    .select("Id").top(5000)();
out.ordered = await items().orderBy("FileLeafRef", false).select("Id", "FileLeafRef").top(5000)();
out.expanded = await items().getById(first.Id).select("Id", "Author/Title", "File/Name")
    .expand("Author", "File")();
out.pages = [];
for await (const page of items().top(4).select("Id").filter("FSObjType eq 0")) {
    out.pages.push(page.map((i) => i.Id));
}
// From the item to its file through the address the server gave, then to its bytes.
const fileUrl = out.expanded.File["odata.id"];
out.fileUrl = fileUrl;
out.file = await SPQueryable([sp.web, fileUrl])();
const bytes = await SPQueryable([sp.web, fileUrl + "/$value"]).using(BufferParse())();
out.fileBytes = Buffer.from(bytes).toString("base64");
try {
    await items().getById(987654)();
    out.missing = "found";
} catch (e) {
    out.missing = e.status;
}
process.stdout.write(JSON.stringify(out));
