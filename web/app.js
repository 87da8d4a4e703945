// app.js: the Migration center's shell: sign-in, the navigation between views, and the live
// refresh (polling every 2 s, see docs/decisions.md). Views live in views.js, tasks.js and
// storage.js; each has mount(root, ctx) and refresh().
import {ApiError, get, token} from './api.js';
import {button, el, fill, say} from './dom.js';
import {agentsView, auditView, jobsView, scansView} from './views.js';
import {tasksView} from './tasks.js';
import {containersView, sitesView} from './storage.js';

const POLL_MS = 2000;
const views = [agentsView, tasksView, scansView, jobsView, containersView, auditView, sitesView];
const ctx = {admin: false};
let current = null;
let busy = false;
let again = false;

async function signIn(t) {
  token.set(t);
  try {
    await get('/_emu/clock');
    ctx.admin = true;
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 403) {
      token.clear();
      throw e;
    }
    ctx.admin = false; // a valid token without admin rights
  }
  document.getElementById('sign-in').hidden = true;
  document.getElementById('app').hidden = false;
  document.getElementById('sign-out').hidden = false;
  document.getElementById('who').textContent =
      ctx.admin ? 'Signed in as an administrator' : 'Signed in as a user (no admin actions)';
  const nav = fill(document.getElementById('nav'));
  for (const v of views) {
    if (v.admin && !ctx.admin) continue;
    nav.append(el('li', {}, button(v.title, () => show(v.id, true), {id: 'nav-' + v.id, 'data-view': v.id})));
  }
  const want = location.hash.slice(1);
  show(views.some(v => v.id === want && (ctx.admin || !v.admin)) ? want : nav.querySelector('button').dataset.view);
}

function show(id, focus) {
  const v = views.find(x => x.id === id);
  current = v;
  history.replaceState(null, '', '#' + id);
  for (const b of document.querySelectorAll('#nav button'))
    b.setAttribute('aria-current', b.dataset.view === id ? 'page' : 'false');
  const root = fill(document.getElementById('view'), el('h2', {}, v.title));
  v.mount(root, ctx);
  refresh();
  if (focus) root.focus();
}

// One refresh at a time; a call that comes meanwhile (a click, a keystroke in Search) runs
// once the one in flight ends, so the view always ends up showing what was last asked.
async function refresh() {
  if (!current) return;
  if (busy) {
    again = true;
    return;
  }
  busy = true;
  const v = current;
  const key = document.activeElement && document.activeElement.dataset
      ? document.activeElement.dataset.key : undefined;
  try {
    await v.refresh();
    say('');
  } catch (e) {
    say(e.message);
  } finally {
    busy = false;
  }
  if (key && v === current && document.activeElement === document.body) {
    const same = document.querySelector('[data-key="' + CSS.escape(key) + '"]');
    if (same) same.focus();
  }
  if (again) {
    again = false;
    refresh();
  }
}

function signOut() {
  token.clear();
  location.hash = '';
  location.reload();
}

document.addEventListener('DOMContentLoaded', () => {
  const form = document.getElementById('sign-in-form');
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    const t = form.elements.token.value.trim();
    form.elements.token.value = '';
    try {
      await signIn(t);
    } catch (e) {
      document.getElementById('sign-in-error').textContent =
          e instanceof ApiError && e.status === 401 ? 'That token is not valid.' : e.message;
    }
  });
  document.getElementById('sign-out').addEventListener('click', signOut);
  if (token.get()) signIn(token.get()).catch(() => token.clear());
  setInterval(() => { if (!document.hidden) refresh(); }, POLL_MS);
});
