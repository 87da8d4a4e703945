// tasks.js: the Tasks view: the list (status filter, search, pages), Add task, bulk upload
// of Migration Manager's CSV or JSON (the server creates all or nothing, so the per-line
// errors show before anything exists), Run/Pause/Cancel/Delete on the selected tasks, the
// details panel with its reports, and the Summary report.
import {ApiError, api, download, get, q} from './api.js';
import {button, bytes, el, field, fill, say, table, when} from './dom.js';
import {Pager, act, checkbox} from './views.js';

const STATUSES = ['Queued', 'Scheduled', 'Scanning', 'InProgress', 'Paused', 'Completed',
  'CompletedWithIssues', 'Failed', 'Cancelled'];
const tid = id => encodeURIComponent(id);

export const tasksView = {
  id: 'tasks', title: 'Tasks', admin: true,
  mount(root) {
    this.selected = new Set();
    this.open = null;
    this.status = el('select', {}, el('option', {value: ''}, 'All statuses'),
        STATUSES.map(s => el('option', {value: s}, s)));
    this.search = el('input', {type: 'search', placeholder: 'Name, source or destination'});
    const again = () => { this.pager.reset(); this.refresh(); };
    this.status.addEventListener('change', again);
    this.search.addEventListener('input', again);
    this.pager = new Pager(() => '/api/mm/tasks' + q({top: 50, status: this.status.value, search: this.search.value}), 'Tasks');
    this.form = addForm(this);
    this.bulk = bulkForm(this);
    this.list = el('div', {});
    this.details = el('section', {class: 'card details', 'aria-live': 'polite', hidden: true});
    const many = (label, path, method) => button(label, () => this.onSelected(label, path, method), {id: 'tasks-' + label.toLowerCase()});
    root.append(
        el('div', {class: 'toolbar', role: 'toolbar', 'aria-label': 'Tasks'},
            button('Add task', () => toggle(this.form, this.bulk), {id: 'add-task', 'aria-expanded': 'false'}),
            button('Bulk upload', () => toggle(this.bulk, this.form), {id: 'bulk-upload', 'aria-expanded': 'false'}),
            many('Run', 'run', 'POST'), many('Pause', 'pause', 'POST'), many('Cancel', 'cancel', 'POST'),
            many('Delete', '', 'DELETE'),
            button('Summary report', () => download('/api/mm/summary.csv' +
                q({ids: [...this.selected].join(',')}), 'SummaryReport.csv'), {id: 'summary-report'})),
        this.form, this.bulk,
        el('div', {class: 'row'}, field('Status', this.status), field('Search', this.search)),
        this.list, this.pager.nav, this.details);
  },
  async onSelected(label, path, method) {
    const ids = [...this.selected];
    if (!ids.length) { say('Select one or more tasks first.'); return; }
    if (method === 'DELETE' && !confirm('Delete ' + ids.length + ' task(s) and their reports?')) return;
    await act(label + ': ' + ids.length + ' task(s).', async () => {
      const bad = [];
      for (const id of ids) {
        try {
          await api(method, '/api/mm/tasks/' + tid(id) + (path ? '/' + path : ''));
          if (method === 'DELETE') this.selected.delete(id);
        } catch (e) { bad.push(e.message); }
      }
      if (bad.length) throw new Error(bad.join(' '));
    }, this);
  },
  async refresh() {
    const page = await get(this.pager.url());
    this.pager.render(page.nextLink, () => this.refresh());
    fill(this.list, table('Migration tasks', [
      {title: 'Select', cell: t => checkbox(this.selected, t)},
      {title: 'Name', cell: t => button(t.name, () => { this.open = t.id; this.refresh(); },
        {class: 'link', 'data-key': 'open-' + t.id, 'aria-label': 'Details of ' + t.name})},
      {title: 'Status', cell: t => el('span', {class: 'state s-' + t.status}, t.status)},
      {title: 'Progress', cell: t => (t.progress ? t.progress.percent : 0) + '%'},
      {title: 'Source', cell: t => t.source},
      {title: 'Destination', cell: t => dest(t)},
      {title: 'Agent', cell: t => t.agent ? t.agent.name : ''},
      {title: 'Created', cell: t => when(t.created)},
    ], page.value, 'No tasks match.'));
    if (this.open) await this.showDetails();
  },
  async showDetails() {
    let t, reports;
    try {
      [t, reports] = await Promise.all([get('/api/mm/tasks/' + tid(this.open)),
        get('/api/mm/tasks/' + tid(this.open) + '/reports')]);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) { this.open = null; this.details.hidden = true; return; }
      throw e;
    }
    const p = t.progress || {};
    this.details.hidden = false;
    fill(this.details,
        el('h3', {}, 'Task details: ', t.name),
        el('p', {}, el('span', {class: 'state s-' + t.status}, t.status),
            t.waitingReason ? ' (' + t.waitingReason + ')' : '', t.failureReason ? ' ' + t.failureReason : ''),
        el('progress', {max: 100, value: p.percent || 0, 'aria-label': 'Progress of ' + t.name}),
        el('p', {class: 'count'}, (p.filesMigrated || 0) + ' file(s) out of ' + (p.filesTotal || 0) + ' migrated'),
        el('dl', {},
            el('dt', {}, 'Bytes'), el('dd', {}, bytes(p.bytesMigrated) + ' of ' + bytes(p.bytesTotal)),
            el('dt', {}, 'Failed'), el('dd', {}, String(p.filesFailed || 0)),
            el('dt', {}, 'Source'), el('dd', {}, t.source),
            el('dt', {}, 'Destination'), el('dd', {}, dest(t)),
            el('dt', {}, 'Agent'), el('dd', {}, t.agent ? t.agent.name : 'None yet'),
            el('dt', {}, 'Agent group'), el('dd', {}, t.group || 'Default'),
            el('dt', {}, 'Round'), el('dd', {}, 'R' + (t.round || 0)),
            el('dt', {}, 'Started'), el('dd', {}, when(t.started)),
            el('dt', {}, 'Completed'), el('dd', {}, when(t.completed))),
        el('div', {class: 'actions'},
            button('Download task report', () => download('/api/mm/tasks/' + tid(t.id) + '/reports.zip',
                'TaskReport-' + t.id + '.zip'), {id: 'download-task-report', disabled: !reports.value.length}),
            button('Close', () => { this.open = null; this.details.hidden = true; }, {'data-key': 'close-details'})),
        table('Reports', [
          {title: 'Report', cell: r => r.name},
          {title: 'Round', cell: r => 'R' + r.round},
          {title: 'Size', cell: r => bytes(r.size)},
          {title: 'Download', cell: r => button('Download', () => download('/api/mm/tasks/' + tid(t.id) +
            '/reports/' + encodeURIComponent(r.name), r.name), {'aria-label': 'Download ' + r.name, 'data-key': 'r-' + r.name})},
        ], reports.value, 'No reports yet.'));
  },
};

function dest(t) {
  const d = t.destination;
  return d ? d.site + ' > ' + d.library + (d.folder ? '/' + d.folder : '') : '';
}

function toggle(show, hide) {
  hide.hidden = true;
  show.hidden = !show.hidden;
  for (const [id, f] of [['add-task', 'task-form'], ['bulk-upload', 'bulk-form']])
    document.getElementById(id).setAttribute('aria-expanded', String(!document.getElementById(f).hidden));
  if (!show.hidden) show.querySelector('input, textarea').focus();
}

function addForm(view) {
  const i = {
    name: el('input', {type: 'text', name: 'name'}),
    source: el('input', {type: 'text', name: 'source', required: true}),
    site: el('input', {type: 'text', name: 'site', value: '/', required: true}),
    library: el('input', {type: 'text', name: 'library', value: 'Documents', required: true}),
    folder: el('input', {type: 'text', name: 'folder'}),
    group: el('input', {type: 'text', name: 'group', value: 'Default'}),
    schedule: el('input', {type: 'datetime-local', name: 'schedule'}),
    skip: el('input', {type: 'text', name: 'skip', placeholder: 'txt:mp3'}),
  };
  const flags = {scanOnly: 'Scan only', preservePermissions: 'Preserve permissions',
    migrateHiddenFiles: 'Migrate hidden files', autoRerun: 'Automatic rerun'};
  const boxes = Object.fromEntries(Object.keys(flags).map(k => [k, el('input', {type: 'checkbox', name: k})]));
  const err = el('p', {class: 'error', role: 'alert'});
  const form = el('form', {id: 'task-form', class: 'card', hidden: true, 'aria-labelledby': 'task-form-title'},
      el('h3', {id: 'task-form-title'}, 'Add task'),
      el('div', {class: 'row'}, field('Task name', i.name), field('Source', i.source)),
      el('div', {class: 'row'}, field('Destination site', i.site), field('Library', i.library), field('Folder', i.folder)),
      el('div', {class: 'row'}, field('Agent group', i.group), field('Schedule (UTC, empty: now)', i.schedule),
          field('Skip files with extensions', i.skip)),
      el('fieldset', {}, el('legend', {}, 'Settings'),
          Object.entries(flags).map(([k, label]) => el('label', {class: 'check'}, boxes[k], ' ' + label))),
      el('button', {type: 'submit'}, 'Create'), err);
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    const settings = {};
    for (const k of Object.keys(flags)) settings[k] = boxes[k].checked;
    if (i.skip.value) settings.skipExtensions = i.skip.value;
    const body = {source: i.source.value, group: i.group.value || undefined, settings,
      destination: {site: i.site.value, library: i.library.value, folder: i.folder.value || undefined}};
    if (i.name.value) body.name = i.name.value;
    if (i.schedule.value) body.schedule = i.schedule.value + ':00Z';
    try {
      const t = await api('POST', '/api/mm/tasks', body);
      err.textContent = '';
      form.hidden = true;
      form.reset();
      say('Task ' + t.name + ' added.');
      view.pager.reset();
      await view.refresh();
    } catch (e) {
      err.textContent = e.message;
    }
  });
  return form;
}

function bulkForm(view) {
  const file = el('input', {type: 'file', accept: '.csv,.json,text/csv,application/json'});
  const out = el('div', {role: 'alert'});
  const form = el('form', {id: 'bulk-form', class: 'card', hidden: true, 'aria-labelledby': 'bulk-title'},
      el('h3', {id: 'bulk-title'}, 'Bulk upload'),
      el('p', {}, 'A CSV (FileSharePath,,,SharePointSite,DocLibrary,DocSubFolder on each line) or ' +
          'Migration Manager\'s JSON. Nothing is created unless every line is right.'),
      field('CSV or JSON file', file), el('button', {type: 'submit'}, 'Upload'), out);
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    const f = file.files[0];
    if (!f) { fill(out, el('p', {class: 'error'}, 'Choose a file first.')); return; }
    const text = await f.text();
    const json = /\.json$/i.test(f.name) || /^\s*\{/.test(text);
    try {
      const r = await api('POST', '/api/mm/tasks/bulk', text, json ? 'application/json' : 'text/csv');
      fill(out, el('p', {}, r.count + ' task(s) created.'));
      view.pager.reset();
      await view.refresh();
    } catch (e) {
      fill(out, el('p', {class: 'error'}, 'Nothing was created. ' + e.message),
          e.problems && e.problems.length ? el('ul', {class: 'problems'}, e.problems.map(p => el('li', {}, p.message))) : null);
    }
  });
  return form;
}
