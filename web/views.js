// views.js: the Migration center's smaller views: Agents, Scans, Migration API jobs and the
// Audit log, and the pager they share with tasks.js. Each view is {id, title, admin,
// mount(root, ctx), refresh()}; refresh runs every 2 s and only redraws its data region.
import {api, download, get} from './api.js';
import {button, bytes, el, field, fill, say, table, when} from './dom.js';

// Forward paging over {value, nextLink} lists, with a way back.
export class Pager {
  constructor(base, label) {
    this.base = base;
    this.stack = [];
    this.next = null;
    this.nav = el('div', {class: 'pager', role: 'group', 'aria-label': label + ' pages'});
  }
  url() { return this.stack.length ? this.stack[this.stack.length - 1] : this.base(); }
  reset() { this.stack = []; }
  render(next, onmove) {
    this.next = next;
    fill(this.nav,
        button('Previous page', () => { this.stack.pop(); onmove(); },
            {disabled: !this.stack.length, 'data-key': 'prev-page'}),
        el('span', {}, 'Page ' + (this.stack.length + 1)),
        button('Next page', () => { this.stack.push(this.next); onmove(); },
            {disabled: !next, 'data-key': 'next-page'}));
  }
}

// Runs an action, says what happened, and refreshes the view.
export async function act(what, f, view) {
  try {
    await f();
    say(what);
  } catch (e) {
    say(what + ' failed: ' + e.message);
  }
  await view.refresh();
}

/* ---- Agents ---- */

let groups = ['Default'];

export const agentsView = {
  id: 'agents', title: 'Agents', admin: true,
  mount(root) {
    const name = el('input', {type: 'text', value: 'agent-2'});
    const share = el('input', {type: 'text', value: '/srv/share'});
    const group = el('input', {type: 'text', value: 'Default'});
    const cmd = el('code', {id: 'agent-command'});
    const update = () => {
      cmd.textContent = 'SPMIG_TOKEN="$(cat spmig-data/admin-token)" spmig agent --server ' +
          location.origin + ' --name ' + quote(name.value) + ' --share ' + quote(share.value) +
          (group.value && group.value !== 'Default' ? ' --group ' + quote(group.value) : '');
    };
    for (const i of [name, share, group]) i.addEventListener('input', update);
    update();
    this.list = el('div', {});
    root.append(
        el('section', {class: 'card', 'aria-labelledby': 'add-agent'},
            el('h3', {id: 'add-agent'}, 'Add an agent'),
            el('p', {}, 'Run this on the computer next to the file share. The agent registers with the ' +
                'admin token and then only calls out.'),
            el('div', {class: 'row'}, field('Agent name', name), field('File share', share),
                field('Agent group', group)),
            el('pre', {}, cmd),
            button('Copy command', () => navigator.clipboard.writeText(cmd.textContent)
                .then(() => say('Command copied.'), () => say('Select the command and copy it.')))),
        this.list);
  },
  async refresh() {
    const [agents, g] = await Promise.all([get('/api/mm/agents?top=1000'), get('/api/mm/groups')]);
    groups = g.value.map(x => x.name);
    fill(this.list, table('Agents', [
      {title: 'Agent', cell: a => a.friendlyName || a.name},
      {title: 'Agent group', cell: a => a.group},
      {title: 'Status', cell: a => el('span', {class: 'state s-' + a.state}, a.state)},
      {title: 'Last activity', cell: a => when(a.lastActivity)},
      {title: 'Running tasks', cell: a => String((a.runningTasks || []).length)},
      {title: 'Actions', cell: a => this.actions(a)},
    ], agents.value, 'No agents yet: add one with the command above.'));
  },
  actions(a) {
    const enabled = a.state !== 'Disabled';
    const sel = el('select', {'aria-label': 'Move ' + (a.friendlyName || a.name) + ' to group',
      'data-key': 'grp-' + a.id}, groups.map(g => el('option', {value: g, selected: g === a.group}, g)));
    const id = encodeURIComponent(a.id);
    return el('div', {class: 'actions'},
        button(enabled ? 'Disable' : 'Enable', () => act(enabled ? 'Agent disabled.' : 'Agent enabled.',
            () => api('PATCH', '/api/mm/agents/' + id, {enabled: !enabled}), this), {'data-key': 'en-' + a.id}),
        sel,
        button('Move', () => act('Agent moved.', () => api('PATCH', '/api/mm/agents/' + id, {group: sel.value}), this),
            {'data-key': 'mv-' + a.id}),
        button('Delete', () => {
          if (confirm('Delete agent ' + (a.friendlyName || a.name) + '? Its tasks go back to the queue.'))
            act('Agent deleted.', () => api('DELETE', '/api/mm/agents/' + id), this);
        }, {'data-key': 'del-' + a.id}));
  },
};

function quote(s) {
  return /^[A-Za-z0-9_./:@-]+$/.test(s) ? s : "'" + s.replace(/'/g, "'\\''") + "'";
}

/* ---- Scans ---- */

export const scansView = {
  id: 'scans', title: 'Scans', admin: true,
  mount(root) {
    const sources = el('textarea', {rows: 3, id: 'scan-sources', placeholder: '\\\\server\\share\\folder'});
    const site = el('input', {type: 'text', value: '/'});
    const lib = el('input', {type: 'text', value: 'Documents'});
    this.pager = new Pager(() => '/api/mm/scans?top=50', 'Scans');
    this.selected = new Set();
    this.list = el('div', {});
    root.append(
        el('section', {class: 'card', 'aria-labelledby': 'add-scan'}, el('h3', {id: 'add-scan'}, 'Add scan'),
            field('Sources (one a line)', sources),
            button('Scan', () => act('Scans added.', () => api('POST', '/api/mm/scans',
                {sources: sources.value.split('\n').map(s => s.trim()).filter(Boolean)}), this),
            {id: 'scan-add'})),
        el('section', {class: 'card', 'aria-labelledby': 'copy-scan'},
            el('h3', {id: 'copy-scan'}, 'Copy to migrations'),
            el('div', {class: 'row'}, field('Destination site', site), field('Library', lib)),
            button('Copy to migrations', () => act('Copied to migrations.', () => api('POST', '/api/mm/scans/copy',
                {ids: [...this.selected], destination: {site: site.value, library: lib.value}}), this),
                {id: 'scan-copy'})),
        this.list, this.pager.nav);
  },
  async refresh() {
    const page = await get(this.pager.url());
    this.pager.render(page.nextLink, () => this.refresh());
    fill(this.list, table('Scans', [
      {title: 'Select', cell: t => checkbox(this.selected, t)},
      {title: 'Source', cell: t => t.source},
      {title: 'Status', cell: t => el('span', {class: 'state s-' + t.status}, t.status)},
      {title: 'Readiness', cell: t => readiness(t)},
      {title: 'Files scanned', cell: t => String(t.progress ? t.progress.filesScanned : 0)},
      {title: 'Size', cell: t => bytes(t.progress && t.progress.bytesScanned)},
      {title: 'Issues', cell: t => t.failureReason || String(t.progress ? t.progress.filesFailed : 0)},
      {title: 'Scan report', cell: t => button('Download scan report', () =>
        download('/api/mm/tasks/' + encodeURIComponent(t.id) + '/reports.zip', 'scan-' + t.id + '.zip'),
        {'data-key': 'rep-' + t.id})},
    ], page.value, 'No scans yet.'));
  },
};

function readiness(t) {
  if (!/Completed|Failed/.test(t.status)) return 'Not scanned yet';
  const p = t.progress || {};
  return t.status === 'Failed' ? 'Not ready' : p.filesFailed ? 'Ready with issues' : 'Ready to migrate';
}

export function checkbox(set, t) {
  return el('input', {type: 'checkbox', checked: set.has(t.id), 'aria-label': 'Select ' + (t.name || t.source),
    'data-key': 'sel-' + t.id,
    onchange: e => { if (e.target.checked) set.add(t.id); else set.delete(t.id); }});
}

/* ---- Migration API jobs ---- */

export const jobsView = {
  id: 'jobs', title: 'Migration API jobs', admin: true,
  mount(root) {
    this.pager = new Pager(() => '/_emu/jobs?top=50', 'Jobs');
    this.open = null;
    this.list = el('div', {});
    this.events = el('div', {});
    root.append(el('p', {}, 'Every job submitted through the Migration API, by Migration Manager or any other tool.'),
        this.list, this.pager.nav, this.events);
  },
  async refresh() {
    const page = await get(this.pager.url());
    this.pager.render(page.nextLink, () => this.refresh());
    fill(this.list, table('Migration API jobs', [
      {title: 'Job', cell: j => el('code', {}, j.id)},
      {title: 'Status', cell: j => el('span', {class: 'state s-' + j.status}, j.status)},
      {title: 'Site', cell: j => j.site},
      {title: 'Encrypted', cell: j => j.encrypted ? 'Yes' : 'No'},
      {title: 'Attempt', cell: j => String(j.attempt)},
      {title: 'Created', cell: j => when(j.created)},
      {title: 'Ended', cell: j => when(j.ended)},
      {title: 'Event log', cell: j => button('Show events', () => { this.open = j.id; this.refresh(); },
        {'data-key': 'ev-' + j.id, 'aria-label': 'Show events of job ' + j.id})},
    ], page.value, 'No jobs yet.'));
    if (!this.open) return;
    const ev = await get('/_emu/jobs/' + encodeURIComponent(this.open) + '/events');
    fill(this.events, table('Events of job ' + this.open, [
      {title: 'Time', cell: e => e.Time || ''},
      {title: 'Event', cell: e => el('span', {class: /Error/.test(e.Event) ? 'bad' : /Warning/.test(e.Event) ? 'warn' : ''}, e.Event)},
      {title: 'Objects', cell: e => e.ObjectsProcessed || e.TotalExpectedSPObjects || ''},
      {title: 'Code', cell: e => e.ErrorCode || ''},
      {title: 'Message', cell: e => e.Message || e.ObjectUrl || ''},
    ], ev.value, 'No events yet.'));
  },
};

/* ---- Audit log ---- */

export const auditView = {
  id: 'audit', title: 'Audit log', admin: true,
  mount(root) {
    this.kind = el('select', {}, ['', 'refused', 'provision', 'job', 'clock'].map(k => el('option', {value: k}, k || 'All kinds')));
    this.kind.addEventListener('change', () => this.refresh());
    this.pager = new Pager(() => '/_emu/audit?top=100', 'Audit log');
    this.list = el('div', {});
    root.append(el('div', {class: 'row'}, field('Kind', this.kind)), this.list, this.pager.nav);
  },
  async refresh() {
    const page = await get(this.pager.url());
    const next = page.nextSkipToken ? '/_emu/audit?top=100&skiptoken=' + encodeURIComponent(page.nextSkipToken) : null;
    this.pager.render(next, () => this.refresh());
    const kinds = new Set(page.value.map(e => e.kind));
    const want = this.kind.value;
    for (const k of kinds)
      if (![...this.kind.options].some(o => o.value === k)) this.kind.append(el('option', {value: k}, k));
    const rows = page.value.filter(e => !want || e.kind === want);
    fill(this.list, table('Audit log, newest first', [
      {title: 'Time', cell: e => when(e.time)},
      {title: 'Kind', cell: e => el('span', {class: e.kind === 'refused' ? 'bad' : ''}, e.kind)},
      {title: 'Subject', cell: e => e.subject},
      {title: 'Detail', cell: e => e.detail},
    ], rows, 'No entries on this page.'));
  },
};
