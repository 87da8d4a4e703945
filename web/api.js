// api.js: the page's only way to the server. Holds the token in sessionStorage (this tab,
// never a URL, never a cookie, so there is nothing for another site to ride on) and sends it
// as Authorization: Bearer. Turns SharePoint error bodies into ApiError.

const KEY = 'spmig.token';

export class ApiError extends Error {
  constructor(status, message, problems) {
    super(message);
    this.status = status;
    this.problems = problems || [];
  }
}

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: t => sessionStorage.setItem(KEY, t),
  clear: () => sessionStorage.removeItem(KEY),
};

async function send(method, path, body, type, accept) {
  const headers = {Authorization: 'Bearer ' + (token.get() || ''), Accept: accept || 'application/json'};
  const init = {method, headers, cache: 'no-store', credentials: 'omit'};
  if (body !== undefined) {
    headers['Content-Type'] = type || 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const r = await fetch(path, init);
  if (!r.ok) {
    let msg = r.status + ' ' + r.statusText, problems;
    try {
      const e = (await r.json()).error;
      if (e) {
        msg = (e.message && e.message.value) || e.code || msg;
        problems = e.problems;
      }
    } catch (_) { /* not JSON */ }
    throw new ApiError(r.status, msg, problems);
  }
  return r;
}

// JSON answer (null for 204).
export async function api(method, path, body, type) {
  const r = await send(method, path, body, type);
  return r.status === 204 ? null : r.json();
}

export const get = path => api('GET', path);

// A SharePoint REST read, answered without OData metadata.
export async function spGet(path) {
  return (await send('GET', path, undefined, undefined, 'application/json;odata=nometadata')).json();
}

// Fetches path with the token and saves it as name (a blob: link, so the token stays out of
// the URL).
export async function download(path, name) {
  const r = await send('GET', path);
  const url = URL.createObjectURL(await r.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export function q(params) {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') s.set(k, v);
  const t = s.toString();
  return t ? '?' + t : '';
}
