// The SQL editor (results, history and saved snippets kept in this browser's localStorage), the recorded
// migrations (list and apply) and the schema as DDL and as TypeScript types.
import { useState } from 'preact/hooks';
import { html, DataTable, Field, Form, Loading, Notice, Section, fmtDate, useAction, useAsync } from '../lib/ui.js';
import { platform, sql } from '../lib/api.js';

const store = (key) => ({
  read: () => { try { return JSON.parse(localStorage.getItem(key) ?? '[]'); } catch { return []; } },
  write: (list) => localStorage.setItem(key, JSON.stringify(list)),
});

function Editor({ ref }) {
  const history = store(`basalt.studio.history.${ref}`);
  const snippets = store('basalt.studio.snippets');
  const [query, setQuery] = useState('select now();');
  const [result, setResult] = useState(null);
  const [, bump] = useState(0);
  const action = useAction();
  const run = async () => {
    const started = performance.now();
    const rows = await action.run(() => sql(ref, query));
    if (rows === undefined) return;
    setResult({ rows: Array.isArray(rows) ? rows : [], ms: Math.round(performance.now() - started) });
    history.write([{ query, at: new Date().toISOString() }, ...history.read().filter((h) => h.query !== query)].slice(0, 50));
  };
  const save = ({ name }) => { snippets.write([{ name, query }, ...snippets.read().filter((s) => s.name !== name)]); bump((n) => n + 1); };
  const removeSnippet = (s) => { snippets.write(snippets.read().filter((x) => x.name !== s.name)); bump((n) => n + 1); };
  const keys = (e) => { if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') { e.preventDefault(); run(); } };
  return html`<${Section} title="SQL editor">
    <${Field} as="textarea" label="Query (Ctrl+Enter runs it)" class="code" rows="8" value=${query} onInput=${(e) => setQuery(e.currentTarget.value)} onKeyDown=${keys} spellcheck="false" />
    <div class="row"><button type="button" class="primary" onClick=${run} disabled=${action.busy}>${action.busy ? 'Running…' : 'Run'}</button>
      ${result && html`<span class="muted" role="status">${result.rows.length} rows in ${result.ms} ms</span>`}</div>
    <${Notice} error=${action.error} />
    ${result && html`<${DataTable} caption="Results" rows=${result.rows} empty="The statement returned no rows." />`}
    <${Form} label="Save snippet" class="row" onSubmit=${save}>
      <${Field} label="Snippet name" name="name" required />
      <button type="submit">Save snippet</button>
    </${Form}>
    <div class="split">
      <div><h3>Saved snippets</h3><ul class="plain">${snippets.read().map((s) => html`<li>
        <button type="button" class="link" onClick=${() => setQuery(s.query)}>${s.name}</button>
        <button type="button" onClick=${() => removeSnippet(s)} aria-label=${`Delete snippet ${s.name}`}>×</button></li>`)}</ul></div>
      <div><h3>History</h3><ul class="plain">${history.read().map((h) => html`<li>
        <button type="button" class="link" onClick=${() => setQuery(h.query)} title=${fmtDate(h.at)}>${h.query.slice(0, 80)}</button></li>`)}</ul></div>
    </div>
  </${Section}>`;
}

function Migrations({ ref }) {
  const list = useAsync(() => platform(`/projects/${ref}/database/migrations`), [ref]);
  const action = useAction();
  const apply = ({ name, query }) => action.run(() => platform(`/projects/${ref}/database/migrations`, { method: 'POST', body: { name, query } }), `Migration ${name} applied.`).then(list.reload);
  return html`<${Section} title="Migrations">
    <${Loading} state=${list} />
    <${DataTable} caption="Migrations" rows=${(list.data ?? []).map((m) => ({ version: m.version, name: m.name, applied: fmtDate(m.applied_at) }))} empty="No migrations recorded." />
    <details><summary>Apply a migration</summary>
      <${Form} label="Apply a migration" onSubmit=${apply}>
        <${Field} label="Migration name" name="name" required pattern="[a-z0-9_]+" />
        <${Field} as="textarea" label="Migration SQL" name="query" class="code" rows="6" required />
        <button type="submit" disabled=${action.busy}>Apply migration</button>
      </${Form}>
    </details>
    <${Notice} error=${action.error} message=${action.message} />
  </${Section}>`;
}

function Export({ ref }) {
  const [kind, setKind] = useState(null);
  const text = useAsync(async () => {
    if (kind === 'sql') return platform(`/projects/${ref}/schema/export`);
    if (kind === 'ts') return (await platform(`/projects/${ref}/types/typescript`)).types;
    return null;
  }, [ref, kind]);
  const download = () => {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([text.data], { type: 'text/plain' }));
    a.download = kind === 'sql' ? `${ref}-schema.sql` : 'database.types.ts';
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };
  return html`<${Section} title="Schema export">
    <div class="row"><button type="button" onClick=${() => setKind('sql')}>Show schema as SQL</button>
      <button type="button" onClick=${() => setKind('ts')}>Show TypeScript types</button>
      ${text.data && html`<button type="button" onClick=${download}>Download</button>`}</div>
    ${kind && html`<${Loading} state=${text} />`}
    ${text.data && html`<pre class="code" tabindex="0" aria-label="Exported schema">${text.data}</pre>`}
  </${Section}>`;
}

export default function SqlPage({ ref }) {
  return html`<h1>SQL</h1><${Editor} ref=${ref} /><${Migrations} ref=${ref} /><${Export} ref=${ref} />`;
}
