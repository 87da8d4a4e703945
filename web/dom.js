// dom.js: building the page's elements. Every text that comes from the server goes through
// textContent (never markup), so a task or file name like <img onerror=...> stays text.
// Also the small formatters (times, sizes) every view shares.

// el('button', {type: 'button', onclick: f, class: 'x'}, 'Run', child...)
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (v === true) e.setAttribute(k, '');
    else e.setAttribute(k, String(v));
  }
  append(e, children);
  return e;
}

function append(e, children) {
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// Replaces what e holds.
export function fill(e, ...children) {
  e.replaceChildren();
  append(e, children);
  return e;
}

// A table: columns [{title, cell: row => node or text}], rows; caption for screen readers.
export function table(caption, columns, rows, empty) {
  const head = el('tr', {}, columns.map(c => el('th', {scope: 'col'}, c.title)));
  const body = rows.map(r => el('tr', {}, columns.map(c => el('td', {}, c.cell(r)))));
  if (!rows.length)
    body.push(el('tr', {}, el('td', {colspan: columns.length, class: 'empty'}, empty || 'Nothing yet.')));
  return el('table', {}, el('caption', {}, caption), el('thead', {}, head), el('tbody', {}, body));
}

export function button(label, onclick, attrs) {
  return el('button', Object.assign({type: 'button', onclick}, attrs || {}), label);
}

export function field(label, input) {
  const id = input.id || ('f-' + Math.random().toString(36).slice(2));
  input.id = id;
  return el('div', {class: 'field'}, el('label', {for: id}, label), input);
}

export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

export function bytes(n) {
  n = Number(n || 0);
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : String(n)) + ' ' + units[i];
}

export function say(text) {
  document.getElementById('status').textContent = text;
}
