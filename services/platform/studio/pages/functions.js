// Edge functions: deploy code from the editor (each deploy a new version), versions and rollback, a test
// invocation, logs with filters, and the project's secrets (names only: values are never returned).
import { useState } from 'preact/hooks';
import { html, DataTable, Field, Form, Loading, Notice, Section, fmtDate, useAction, useAsync } from '../lib/ui.js';
import { platform, project } from '../lib/api.js';

const TEMPLATE = `Deno.serve(async (req) => {
  const { name } = await req.json().catch(() => ({ name: 'world' }));
  console.log('hello called for', name);
  return Response.json({ message: \`Hello \${name}!\` });
});
`;

function Logs({ ref, slug }) {
  const [filter, setFilter] = useState({ status: 'all', text: '', limit: 100 });
  const logs = useAsync(() => platform(`/projects/${ref}/functions/${encodeURIComponent(slug)}/logs?limit=${filter.limit}`), [ref, slug, filter.limit]);
  const rows = (logs.data ?? []).filter((l) => (filter.status === 'all' || (filter.status === 'errors' ? l.status >= 400 || l.error : l.status < 400 && !l.error))
    && (!filter.text || `${l.logs} ${l.error ?? ''}`.toLowerCase().includes(filter.text.toLowerCase())));
  return html`<div>
    <h3>Logs</h3>
    <${Form} label="Filter logs" class="row" onSubmit=${(v) => setFilter({ status: v.status, text: v.text, limit: Number(v.limit) || 100 })}>
      <${Field} label="Outcome" as="select" name="status" value=${filter.status}><option value="all">all</option><option value="ok">successful</option><option value="errors">errors</option></${Field}>
      <${Field} label="Log text contains" name="text" value=${filter.text} />
      <${Field} label="Latest" type="number" name="limit" min="1" max="500" value=${filter.limit} />
      <button type="submit">Filter logs</button>
      <button type="button" onClick=${logs.reload}>Refresh logs</button>
    </${Form}>
    <${Loading} state=${logs} />
    <${DataTable} caption=${`Logs of ${slug}`} rows=${rows.map((l) => ({ at: fmtDate(l.created_at), version: l.version, method: l.method, status: l.status, ms: l.duration_ms, logs: l.logs, error: l.error }))} empty="No invocations match." />
  </div>`;
}

function FunctionDetail({ ref, fn, reload }) {
  const action = useAction();
  const [result, setResult] = useState(null);
  const rollback = (v) => confirm(`Make version ${v} the active one?`) && action.run(() => platform(`/projects/${ref}/functions/${encodeURIComponent(fn.slug)}/rollback`, { method: 'POST', body: { version: v } }), `Version ${v} is active.`).then(reload);
  const remove = () => confirm(`Delete function ${fn.slug} and every version?`) && action.run(() => platform(`/projects/${ref}/functions/${encodeURIComponent(fn.slug)}`, { method: 'DELETE' }), 'Deleted.').then(reload);
  const invoke = ({ body }) => action.run(async () => {
    const r = await project(ref, `/functions/v1/${encodeURIComponent(fn.slug)}`, { method: 'POST', body: body || '{}', headers: { 'content-type': 'application/json' } });
    setResult(typeof r === 'string' ? r : JSON.stringify(r, null, 2));
  });
  return html`<${Section} title=${`Function ${fn.slug}`} actions=${html`<button type="button" class="danger" onClick=${remove}>Delete ${fn.slug}</button>`}>
    <p>Active version ${fn.version} · verify JWT ${fn.verify_jwt ? 'on' : 'off'} · timeout ${fn.timeout_ms} ms · updated ${fmtDate(fn.updated_at)}</p>
    <${Notice} error=${action.error} message=${action.message} />
    <${DataTable} caption=${`Versions of ${fn.slug}`} rows=${(fn.versions ?? []).map((v) => ({ version: v.version, created: fmtDate(v.created_at), active: v.version === fn.version }))}
      actions=${(v) => (v.active ? html`<span class="muted">active</span>` : html`<button type="button" onClick=${() => rollback(v.version)}>Roll back to ${v.version}</button>`)} />
    <${Form} label=${`Invoke ${fn.slug}`} class="row" onSubmit=${invoke}>
      <${Field} label="Request body (JSON)" name="body" value='{"name":"Studio"}' />
      <button type="submit" disabled=${action.busy}>Invoke</button>
    </${Form}>
    ${result && html`<pre class="code" aria-label="Invocation result">${result}</pre>`}
    <${Logs} key=${result} ref=${ref} slug=${fn.slug} />
  </${Section}>`;
}

function Secrets({ ref }) {
  const secrets = useAsync(() => platform(`/projects/${ref}/secrets`), [ref]);
  const action = useAction();
  const set = ({ name, value }, form) => action.run(() => platform(`/projects/${ref}/secrets`, { method: 'POST', body: [{ name, value }] }), `Secret ${name} set.`).then((ok) => { if (ok) form.reset(); secrets.reload(); });
  const unset = (s) => confirm(`Remove secret ${s.name}?`) && action.run(() => platform(`/projects/${ref}/secrets`, { method: 'DELETE', body: [s.name] }), 'Removed.').then(secrets.reload);
  return html`<${Section} title="Secrets">
    <${Loading} state=${secrets} />
    <${Notice} error=${action.error} message=${action.message} />
    <${DataTable} caption="Secrets" rows=${(secrets.data ?? []).map((s) => ({ name: s.name, updated: fmtDate(s.updated_at) }))} empty="No secrets."
      actions=${(s) => html`<button type="button" onClick=${() => unset(s)} aria-label=${`Remove secret ${s.name}`}>Remove</button>`} />
    <${Form} label="Set a secret" class="row" onSubmit=${set}>
      <${Field} label="Secret name" name="name" required pattern="[A-Za-z_][A-Za-z0-9_]*" />
      <${Field} label="Secret value" name="value" type="password" autocomplete="off" required />
      <button type="submit">Set secret</button>
    </${Form}>
  </${Section}>`;
}

export default function Functions({ ref }) {
  const fns = useAsync(() => platform(`/projects/${ref}/functions`), [ref]);
  const [slug, setSlug] = useState(null);
  const [code, setCode] = useState(TEMPLATE);
  const action = useAction();
  const deploy = ({ name, verify }) => action.run(() => platform(`/projects/${ref}/functions`, { method: 'POST', body: { slug: name, source: code, verify_jwt: verify } }), `Deployed ${name}.`)
    .then((ok) => { fns.reload(); if (ok) setSlug(name); });
  const fn = (fns.data ?? []).find((f) => f.slug === slug);
  return html`<h1>Functions</h1>
    <${Section} title="Functions">
      <${Loading} state=${fns} />
      <${DataTable} caption="Functions" rows=${(fns.data ?? []).map((f) => ({ slug: f.slug, version: f.version, verify_jwt: f.verify_jwt, updated: fmtDate(f.updated_at) }))} empty="No functions yet."
        actions=${(f) => html`<button type="button" onClick=${() => { setSlug(f.slug); setCode(code); }} aria-pressed=${f.slug === slug}>Open ${f.slug}</button>`} />
    </${Section}>
    <${Section} title="Deploy">
      <${Form} key=${slug ?? ''} label="Deploy a function" onSubmit=${deploy}>
        <${Field} label="Function slug" name="name" required pattern="[A-Za-z0-9_\\-]+" value=${slug ?? 'hello'} />
        <${Field} as="textarea" label="Code (index.ts)" class="code" rows="10" value=${code} onInput=${(e) => setCode(e.currentTarget.value)} spellcheck="false" />
        <${Field} label="Verify JWT" type="checkbox" name="verify" checked />
        <button type="submit" class="primary" disabled=${action.busy}>${action.busy ? 'Deploying…' : 'Deploy'}</button>
      </${Form}>
      <${Notice} error=${action.error} message=${action.message} />
    </${Section}>
    ${fn && html`<${FunctionDetail} key=${fn.slug} ref=${ref} fn=${fn} reload=${fns.reload} />`}
    <${Secrets} ref=${ref} />`;
}
