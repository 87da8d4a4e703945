// storage.js: the emulator-facing views: Containers and queues (each provisioned name on a
// timeline from creation to purge, the emulator clock and the buttons that move it, the
// events the sweeper applied) and Sites and libraries (browse what imports produced, download
// a file) through the SharePoint REST API.
import {api, download, get, spGet} from './api.js';
import {button, bytes, el, field, fill, say, table, when} from './dom.js';
import {Pager} from './views.js';

const DAY = 86400000;
const MARKS = [['created', 'Created'], ['keyExpiry', 'Key expiry'], ['dataDeletion', 'Data deletion'],
  ['dataRemoval', 'Removal'], ['purge', 'Purge']];

export const containersView = {
  id: 'containers', title: 'Containers and queues', admin: true,
  mount(root) {
    this.clock = el('p', {class: 'clock', id: 'clock-now'});
    this.next = null;
    const adv = (label, d) => button(label, () => this.move({advance: d}, label), {id: 'advance-' + d});
    this.list = el('div', {});
    this.pager = new Pager(() => '/_emu/containers?top=50', 'Containers');
    this.events = el('div', {});
    root.append(
        el('section', {class: 'card', 'aria-labelledby': 'clock-title'}, el('h3', {id: 'clock-title'}, 'Emulator clock'),
            this.clock,
            el('div', {class: 'actions'}, adv('Advance a day', 'P1D'), adv('Advance three days', 'P3D'),
                adv('Advance thirty days', 'P30D'),
                button('To the next deadline', () => this.toNext(), {id: 'advance-next'}))),
        el('ul', {class: 'legend', 'aria-label': 'Timeline legend'},
            MARKS.map(([k, label]) => el('li', {}, el('span', {class: 'mark m-' + k}), label)),
            el('li', {}, el('span', {class: 'mark m-now'}), 'Now')),
        this.list, this.pager.nav, this.events);
  },
  async move(body, label) {
    try {
      await api('POST', '/_emu/clock', body);
      say('Clock moved: ' + label + '.');
    } catch (e) { say(e.message); }
    await this.refresh();
  },
  toNext() {
    if (!this.next) { say('No deadline ahead.'); return; }
    this.move({set: new Date(Date.parse(this.next) + 1000).toISOString()}, 'to ' + when(this.next));
  },
  async refresh() {
    const [clock, page, audit] = await Promise.all([get('/_emu/clock'), get(this.pager.url()),
      get('/_emu/audit?top=200')]);
    const now = clock.nowMs;
    fill(this.clock, 'Now: ', el('strong', {}, when(clock.now)), ' (offset ' + clock.offset + ')',
        clock.nextDeadline ? '. Next deadline: ' + when(clock.nextDeadline) : '. No deadline ahead');
    this.next = clock.nextDeadline;
    this.pager.render(page.nextLink, () => this.refresh());
    const rows = page.containers;
    fill(this.list, table('Provisioned containers and queues', [
      {title: 'Name', cell: x => el('code', {}, x.name)},
      {title: 'Kind', cell: x => x.kind},
      {title: 'State', cell: x => el('span', {class: 'state s-' + x.state}, x.state)},
      {title: 'Timeline', cell: x => timeline(x, now)},
      {title: 'Deadlines', cell: x => el('ul', {class: 'dates'}, MARKS.filter(([k]) => x[k])
        .map(([k, label]) => el('li', {class: Date.parse(x[k]) <= now ? 'past' : ''}, label + ': ' + when(x[k]))))},
    ], rows, 'Nothing provisioned yet.'));
    const applied = audit.value.filter(e => e.kind !== 'refused' && e.kind !== 'job').slice(0, 20);
    fill(this.events, table('What the sweeper and the clock did (latest 20)', [
      {title: 'Time', cell: e => when(e.time)},
      {title: 'Event', cell: e => e.kind},
      {title: 'Name', cell: e => e.subject},
      {title: 'Detail', cell: e => e.detail},
    ], applied, 'Nothing yet.'));
  },
};

// A bar from creation to purge with a mark per deadline and one for now.
function timeline(x, now) {
  const start = Date.parse(x.created);
  const end = Math.max(Date.parse(x.purge || x.created) || start + DAY, now, start + DAY);
  const pos = t => ((t - start) / (end - start) * 100).toFixed(2) + '%';
  const bar = el('div', {class: 'timeline', role: 'img',
    'aria-label': x.state + '; ' + MARKS.filter(([k]) => x[k]).map(([k, l]) => l + ' ' + when(x[k])).join(', ')});
  for (const [k, label] of MARKS) {
    if (!x[k]) continue;
    const m = el('span', {class: 'mark m-' + k, title: label + ': ' + when(x[k])});
    m.style.left = pos(Date.parse(x[k]));
    bar.append(m);
  }
  const n = el('span', {class: 'mark m-now', title: 'Now'});
  n.style.left = pos(Math.min(now, end));
  bar.append(n);
  return bar;
}

/* ---- Sites and libraries ---- */

const lit = s => "'" + s.replace(/'/g, "''") + "'";

export const sitesView = {
  id: 'sites', title: 'Sites and libraries', admin: false,
  mount(root, ctx) {
    this.ctx = ctx;
    this.site = el('select', {});
    this.siteUrl = el('input', {type: 'text', value: '/'});
    this.lib = el('select', {});
    this.folder = null;
    this.loadedSite = null;
    this.site.addEventListener('change', () => this.pickSite(this.site.value));
    this.siteUrl.addEventListener('change', () => this.pickSite(this.siteUrl.value));
    this.lib.addEventListener('change', () => { this.folder = this.lib.value; this.refresh(); });
    this.crumbs = el('nav', {'aria-label': 'Folder', class: 'crumbs'});
    this.list = el('div', {});
    this.versions = el('div', {});
    root.append(el('div', {class: 'row'},
        ctx.admin ? field('Site', this.site) : field('Site URL', this.siteUrl), field('Library', this.lib)),
        this.crumbs, this.list, this.versions);
  },
  async pickSite(url) {
    this.loadedSite = url;
    const base = url === '/' ? '' : url;
    const lists = await spGet(base + '/_api/web/lists?$expand=RootFolder');
    const libs = lists.value.filter(l => l.BaseTemplate === 101);
    fill(this.lib, libs.map(l => el('option', {value: l.RootFolder.ServerRelativeUrl}, l.Title)));
    this.folder = libs.length ? libs[0].RootFolder.ServerRelativeUrl : null;
    fill(this.versions);
    await this.refresh();
  },
  async refresh() {
    if (this.ctx.admin && !this.site.options.length) {
      const s = await get('/_emu/sites');
      fill(this.site, s.sites.map(x => el('option', {value: x.url}, x.title + ' (' + x.url + ')')));
    }
    if (this.loadedSite === null) return this.pickSite(this.ctx.admin ? this.site.value : this.siteUrl.value);
    if (!this.folder) { fill(this.list, el('p', {}, 'This site has no document library.')); return; }
    const base = this.loadedSite === '/' ? '' : this.loadedSite;
    const f = base + '/_api/web/GetFolderByServerRelativeUrl(' + encodeURIComponent(lit(this.folder)) + ')';
    const [folders, files] = await Promise.all([spGet(f + '/Folders'), spGet(f + '/Files')]);
    const root = this.lib.value;
    const parts = this.folder.slice(root.length).split('/').filter(Boolean);
    fill(this.crumbs, button(this.lib.selectedOptions[0] ? this.lib.selectedOptions[0].text : root,
        () => { this.folder = root; this.refresh(); }, {'data-key': 'crumb-root'}),
        parts.map((p, i) => [' / ', button(p, () => { this.folder = root + '/' + parts.slice(0, i + 1).join('/'); this.refresh(); },
          {'data-key': 'crumb-' + i})]));
    const rows = folders.value.filter(x => x.Name !== 'Forms').map(x => ({folder: true, x}))
        .concat(files.value.map(x => ({folder: false, x})));
    fill(this.list, table('Folders and files in ' + this.folder, [
      {title: 'Name', cell: r => r.folder
        ? button(r.x.Name + '/', () => { this.folder = r.x.ServerRelativeUrl; this.refresh(); }, {class: 'link', 'data-key': 'f-' + r.x.UniqueId})
        : r.x.Name},
      {title: 'Size', cell: r => r.folder ? '' : bytes(r.x.Length)},
      {title: 'Version', cell: r => r.folder ? '' : r.x.UIVersionLabel},
      {title: 'Created', cell: r => r.folder ? '' : when(r.x.TimeCreated)},
      {title: 'Modified', cell: r => r.folder ? '' : when(r.x.TimeLastModified)},
      {title: 'Actions', cell: r => r.folder ? '' : el('div', {class: 'actions'},
        button('Download', () => download(base + '/_api/web/GetFileByServerRelativeUrl(' +
          encodeURIComponent(lit(r.x.ServerRelativeUrl)) + ')/$value', r.x.Name), {'aria-label': 'Download ' + r.x.Name, 'data-key': 'dl-' + r.x.UniqueId}),
        button('Details', () => this.showFile(base, r.x), {'aria-label': 'Details of ' + r.x.Name, 'data-key': 'vs-' + r.x.UniqueId}))},
    ], rows, 'This folder is empty.'));
  },
  async showFile(base, file) {
    const f = base + '/_api/web/GetFileByServerRelativeUrl(' + encodeURIComponent(lit(file.ServerRelativeUrl)) + ')';
    const [v, item] = await Promise.all([spGet(f + '/Versions'),
      spGet(f + '/ListItemAllFields?$expand=Author,Editor').catch(() => null)]);
    const who = u => u ? (u.Title || u.LoginName || '') : '';
    fill(this.versions, el('h3', {}, 'File: ', file.Name),
        item ? el('p', {}, 'Author: ', who(item.Author), '. Editor: ', who(item.Editor), '.') : null,
        table('Versions of ' + file.Name, [
          {title: 'Version', cell: x => x.VersionLabel},
          {title: 'Created', cell: x => when(x.Created)},
          {title: 'Size', cell: x => bytes(x.Size)},
          {title: 'Current', cell: x => x.IsCurrentVersion ? 'Yes' : 'No'},
        ], v.value, 'Only the current version.'));
  },
};
