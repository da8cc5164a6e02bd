// One project at a glance: its URL and keys (copy, rotate, publishable/secret keys), usage counts, settings
// (rate limit, CORS, REST schemas, and the whole settings document) and custom domains with their status.
import { useState } from 'preact/hooks';
import { html, CopyButton, DataTable, Field, Form, Loading, Notice, Section, TypedConfirm, fmtDate, useAction, useAsync } from '../lib/ui.js';
import { forgetKeys, platform, sql } from '../lib/api.js';

const USAGE = `select (select count(*) from information_schema.tables where table_schema = 'public')::int as tables,
  (select count(*) from auth.users)::int as users, (select count(*) from storage.objects)::int as objects,
  (select pg_size_pretty(coalesce(sum(pg_total_relation_size(c.oid)), 0)) from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p', 'm')) as public_data_size`;

function Keys({ ref }) {
  const keys = useAsync(() => platform(`/projects/${ref}/api-keys?reveal=true`), [ref]);
  const action = useAction();
  const rotate = async () => {
    if (!confirm('Rotate the anon and service_role keys? Every client using them stops working.')) return;
    await action.run(() => platform(`/projects/${ref}/api-keys/rotate`, { method: 'POST' }), 'Keys rotated.');
    forgetKeys(ref);
    keys.reload();
  };
  const create = ({ type, name }) => action.run(() => platform(`/projects/${ref}/api-keys`, { method: 'POST', body: { type, name } }), `Key ${name} created.`).then(keys.reload);
  const remove = (k) => confirm(`Delete key ${k.name}?`) && action.run(() => platform(`/projects/${ref}/api-keys/${k.id}`, { method: 'DELETE' }), 'Key deleted.').then(keys.reload);
  return html`<${Section} title="API keys" actions=${html`<button type="button" class="danger" onClick=${rotate} disabled=${action.busy}>Rotate legacy keys</button>`}>
    <${Loading} state=${keys} />
    <${Notice} error=${action.error} message=${action.message} />
    <ul class="keys">${(keys.data ?? []).map((k) => html`<li>
      <span class="key-name">${k.name} <small class="muted">${k.type}</small></span>
      <code class="secret">${k.api_key}</code>
      <${CopyButton} text=${k.api_key} label=${`Copy ${k.name}`} />
      ${k.type !== 'legacy' && html`<button type="button" onClick=${() => remove(k)}>Delete</button>`}
    </li>`)}</ul>
    <${Form} label="New API key" class="row" onSubmit=${create}>
      <${Field} label="Key type" as="select" name="type"><option value="publishable">publishable</option><option value="secret">secret</option></${Field}>
      <${Field} label="Key name" name="name" required pattern="[a-z0-9_]+" hint="lowercase letters, digits and _" />
      <button type="submit">Add key</button>
    </${Form}>
  </${Section}>`;
}

function Settings({ ref, project }) {
  const action = useAction();
  const [doc, setDoc] = useState(null);
  const settings = project.settings ?? {};
  const text = doc ?? JSON.stringify(settings, null, 2);
  const save = (patch) => action.run(() => platform(`/projects/${ref}`, { method: 'PATCH', body: patch }), 'Settings saved.').then((p) => p && project.onSaved());
  const quick = ({ name, rate, origins, schemas }) => {
    const next = { ...settings };
    if (rate) next.rate_limit_rps = Number(rate); else delete next.rate_limit_rps;
    const list = (text) => text.split(/[\s,]+/).filter(Boolean);
    next.cors = { ...settings.cors, allowed_origins: list(origins) };
    next.rest = { ...settings.rest, schemas: list(schemas) };
    if (!next.rest.schemas.length) delete next.rest.schemas; // none typed: the default (public), not no schema at all
    return save({ name, settings: next });
  };
  const full = () => {
    let parsed;
    try { parsed = JSON.parse(text); } catch (e) { return action.run(() => Promise.reject(new Error(`Settings are not JSON: ${e.message}`))); }
    return save({ settings: parsed }).then(() => setDoc(null));
  };
  return html`<${Section} title="Settings">
    <${Notice} error=${action.error} message=${action.message} />
    <${Form} label="Project settings" onSubmit=${quick}>
      <${Field} label="Name" name="name" value=${project.name} required />
      <${Field} label="Rate limit (requests per second)" name="rate" type="number" min="1" value=${settings.rate_limit_rps ?? ''} />
      <${Field} label="CORS origins with credentials" name="origins" value=${(settings.cors?.allowed_origins ?? []).join(', ')} hint="comma separated" />
      <${Field} label="REST schemas" name="schemas" value=${(settings.rest?.schemas ?? ['public']).join(', ')} />
      <button type="submit" class="primary" disabled=${action.busy}>Save settings</button>
    </${Form}>
    <details><summary>All settings (auth, realtime, memory…) as JSON</summary>
      <${Field} as="textarea" label="Settings document" rows="12" class="code" value=${text} onInput=${(e) => setDoc(e.currentTarget.value)} />
      <button type="button" onClick=${full} disabled=${action.busy}>Save JSON</button>
    </details>
  </${Section}>`;
}

function Domains({ ref }) {
  const domains = useAsync(() => platform(`/projects/${ref}/custom-domains`), [ref]);
  const action = useAction();
  const claim = ({ domain }) => action.run(() => platform(`/projects/${ref}/custom-domains`, { method: 'POST', body: { domain } }), 'Domain claimed: publish the challenge, then verify.').then(domains.reload);
  const verify = (d) => action.run(() => platform(`/projects/${ref}/custom-domains/${d.domain}/verify`, { method: 'POST' }), `${d.domain} verified.`).then(domains.reload);
  const remove = (d) => confirm(`Remove ${d.domain}?`) && action.run(() => platform(`/projects/${ref}/custom-domains/${d.domain}`, { method: 'DELETE' })).then(domains.reload);
  const rows = (domains.data ?? []).map((d) => ({ domain: d.domain, status: d.status, 'TXT record': d.verification?.txt ? `${d.verification.txt.name} = ${d.verification.txt.value}` : '', expires: fmtDate(d.expires_at), _d: d }));
  return html`<${Section} title="Custom domains">
    <${Loading} state=${domains} />
    <${Notice} error=${action.error} message=${action.message} />
    <${DataTable} caption="Custom domains" rows=${rows} columns=${['domain', 'status', 'TXT record', 'expires']} empty="No custom domains."
      actions=${(r) => html`${r.status !== 'active' && html`<button type="button" onClick=${() => verify(r._d)}>Verify</button>`}<button type="button" onClick=${() => remove(r._d)}>Remove</button>`} />
    <${Form} label="Claim a domain" class="row" onSubmit=${claim}>
      <${Field} label="Domain" name="domain" required placeholder="app.example.com" />
      <button type="submit">Claim</button>
    </${Form}>
  </${Section}>`;
}

function DeleteProject({ ref, projects, navigate }) {
  const [open, setOpen] = useState(false);
  const action = useAction();
  const remove = () => action.run(() => platform(`/projects/${ref}?confirm=${ref}`, { method: 'DELETE' })).then((ok) => {
    if (!ok) return;
    forgetKeys(ref);
    projects.reload();
    navigate('#/projects');
  });
  return html`<${Section} title="Danger zone">
    <p class="muted">Deleting the project drops its database, files, functions and every setting. It cannot be undone.</p>
    ${open ? html`<${TypedConfirm} word=${ref} label="Delete this project" busy=${action.busy} onConfirm=${remove} />`
      : html`<button type="button" class="danger" onClick=${() => setOpen(true)}>Delete project…</button>`}
    <${Notice} error=${action.error} />
  </${Section}>`;
}

export default function ProjectPage({ ref, projects, navigate }) {
  const project = useAsync(() => platform(`/projects/${ref}`), [ref]);
  const usage = useAsync(() => sql(ref, USAGE), [ref]);
  const p = project.data;
  return html`<h1>${p?.name ?? ref}</h1>
    <${Loading} state=${project} />
    ${p && html`<p>API URL <code>${p.url}</code> <${CopyButton} text=${p.url} label="Copy URL" /> · ${p.status} · created ${fmtDate(p.created_at)}</p>`}
    <${Section} title="Usage at a glance"><${Loading} state=${usage} /><${DataTable} caption="Usage" rows=${usage.data} /></${Section}>
    <${Keys} ref=${ref} />
    ${p && html`<${Settings} ref=${ref} project=${{ ...p, onSaved: () => { project.reload(); projects.reload(); } }} />`}
    <${Domains} ref=${ref} />
    <${DeleteProject} ref=${ref} projects=${projects} navigate=${navigate} />`;
}
