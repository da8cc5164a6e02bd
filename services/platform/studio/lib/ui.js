// Shared pieces of every page: the htm binding, a loader hook, labelled fields, tables, notices and buttons.
import { h } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';

export const html = htm.bind(h);

let uid = 0;
const useId = (prefix) => useRef(`${prefix}-${++uid}`).current;

/** runs `load` now and whenever deps change; `reload()` runs it again */
export function useAsync(load, deps = []) {
  const [state, setState] = useState({ loading: true, data: undefined, error: null });
  const seq = useRef(0);
  const run = useCallback(() => {
    const n = ++seq.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    Promise.resolve().then(load).then(
      (data) => n === seq.current && setState({ loading: false, data, error: null }),
      (error) => n === seq.current && setState({ loading: false, data: undefined, error }),
    );
  }, deps);
  useEffect(run, [run]);
  return { ...state, reload: run };
}

/** wraps an action: busy while it runs, its error shown by <Notice>; run() resolves to its result (true when
 * that is empty) or to undefined when it failed */
export function useAction() {
  const [state, setState] = useState({ busy: false, error: null, message: null });
  const run = async (fn, message = null) => {
    setState({ busy: true, error: null, message: null });
    try {
      const r = await fn();
      setState({ busy: false, error: null, message });
      return r || true;
    } catch (error) {
      setState({ busy: false, error, message: null });
      return undefined;
    }
  };
  return { ...state, run };
}

/**
 * A labelled control. One its caller does not drive (no onInput or onChange) takes `value` and `checked` once, as its
 * starting state: Preact sets those props again on every render, so a list refreshing in the background would wipe
 * what the user had typed or ticked before submitting (an insert once saved a row with its typed text lost).
 */
export function Field({ label, as = 'input', hint, children, ...props }) {
  const id = useId('f');
  const initial = useRef(props.value);
  if (!props.onInput && !props.onChange) {
    if (as === 'select') {
      // a select has no default value: its first render picks the option, later ones leave the user's pick
      if ('value' in props) props.ref = (el) => el && initial.current !== undefined && ((el.value = initial.current), (initial.current = undefined));
    } else if ('value' in props) props.defaultValue = props.value;
    if ('checked' in props) props.defaultChecked = props.checked;
    delete props.value;
    delete props.checked;
  }
  const control = as === 'textarea' ? html`<textarea id=${id} ...${props}></textarea>`
    : as === 'select' ? html`<select id=${id} ...${props}>${children}</select>`
    : html`<input id=${id} ...${props} />`;
  return html`<div class=${`field ${props.type === 'checkbox' ? 'check' : ''}`}>
    <label for=${id}>${label}</label>${control}${hint && html`<small>${hint}</small>`}
  </div>`;
}

export function Notice({ error, message }) {
  if (error) return html`<p class="notice error" role="alert">${error.message ?? String(error)}</p>`;
  if (message) return html`<p class="notice ok" role="status">${message}</p>`;
  return null;
}

export const Loading = ({ state }) => (state.loading && state.data === undefined ? html`<p class="muted" role="status">Loading…</p>` : html`<${Notice} error=${state.error} />`);

const cell = (v) => (v === null || v === undefined ? html`<span class="null">NULL</span>` : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** rows as a table; `columns` defaults to the keys of the first row; `actions(row)` adds a last cell */
export function DataTable({ rows, columns, actions, caption, empty = 'Nothing here yet.', sort, onSort }) {
  if (!rows?.length) return html`<p class="muted">${empty}</p>`;
  const cols = columns ?? Object.keys(rows[0]);
  const head = (c) => {
    if (!onSort) return html`<th scope="col">${c}</th>`;
    const dir = sort?.column === c ? sort.dir : null;
    return html`<th scope="col" aria-sort=${dir ? (dir === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <button class="link" onClick=${() => onSort(c)}>${c}${dir ? (dir === 'asc' ? ' ▲' : ' ▼') : ''}</button></th>`;
  };
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label=${caption ?? 'table'}><table>
    ${caption && html`<caption>${caption}</caption>`}
    <thead><tr>${cols.map(head)}${actions && html`<th scope="col"><span class="sr-only">actions</span></th>`}</tr></thead>
    <tbody>${rows.map((r, i) => html`<tr key=${i}>${cols.map((c) => html`<td>${cell(r[c])}</td>`)}${actions && html`<td class="actions">${actions(r)}</td>`}</tr>`)}</tbody>
  </table></div>`;
}

export function CopyButton({ text, label = 'Copy' }) {
  const [done, setDone] = useState(false);
  const copy = () => {
    const ok = () => { setDone(true); setTimeout(() => setDone(false), 1500); };
    // the Clipboard API needs focus and permission; fall back to a hidden textarea and execCommand
    const fallback = () => {
      const t = document.createElement('textarea');
      t.value = text; t.setAttribute('readonly', ''); t.className = 'sr-only';
      document.body.append(t); t.select();
      try { document.execCommand('copy'); ok(); } finally { t.remove(); }
    };
    if (navigator.clipboard) navigator.clipboard.writeText(text).then(ok, fallback);
    else fallback();
  };
  return html`<button type="button" onClick=${copy}>${done ? 'Copied' : label}</button>`;
}

export const Section = ({ title, children, actions }) => html`<section class="card" aria-label=${title}>
  <div class="card-head"><h2>${title}</h2>${actions && html`<div class="card-actions">${actions}</div>`}</div>${children}</section>`;

/** a form that calls `onSubmit(values)` with its named fields, never reloading the page */
export function Form({ onSubmit, children, label, class: cls = '' }) {
  const submit = (e) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    const values = {};
    for (const [k, v] of data.entries()) values[k] = v;
    for (const box of e.currentTarget.querySelectorAll('input[type=checkbox][name]')) values[box.name] = box.checked;
    onSubmit(values, e.currentTarget);
  };
  return html`<form class=${`form ${cls}`} aria-label=${label} onSubmit=${submit}>${children}</form>`;
}

/** a destructive action that needs the exact word typed first */
export function TypedConfirm({ word, label, onConfirm, busy }) {
  const [typed, setTyped] = useState('');
  return html`<div class="confirm">
    <${Field} label=${`Type ${word} to confirm`} value=${typed} onInput=${(e) => setTyped(e.currentTarget.value)} autocomplete="off" />
    <button type="button" class="danger" disabled=${typed !== word || busy} onClick=${onConfirm}>${label}</button>
  </div>`;
}

export const fmtDate = (v) => (v ? new Date(v).toLocaleString() : '');
