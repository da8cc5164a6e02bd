// The AI gateway of the project: providers and routes (read), keys (create, revoke; a key is shown once) and
// usage over the last 30 days by day, model and key as bar charts of requests, tokens and cost.
import { useState } from 'preact/hooks';
import { html, CopyButton, DataTable, Field, Form, Loading, Notice, Section, fmtDate, useAction, useAsync } from '../lib/ui.js';
import { platform } from '../lib/api.js';

const ai = (ref, path, opts) => platform(`/projects/${ref}/ai${path}`, opts);
const METRICS = { requests: (r) => r.requests, tokens: (r) => Number(r.input_tokens) + Number(r.output_tokens), cost_usd: (r) => Number(r.cost_usd) };

/** horizontal bars, one per group: readable at phone width, labelled for screen readers */
function Bars({ rows, metric, label }) {
  if (!rows.length) return html`<p class="muted">No usage in this period.</p>`;
  const values = rows.map((r) => METRICS[metric](r));
  const max = Math.max(...values, 1e-9);
  const bar = 22;
  return html`<svg class="chart" role="img" aria-label=${`${metric} by ${label}`} viewBox=${`0 0 400 ${rows.length * bar}`} preserveAspectRatio="xMinYMin meet">
    ${rows.map((r, i) => html`<g transform=${`translate(0 ${i * bar})`}>
      <text x="0" y="15" class="chart-label">${String(r.key_name ?? r.group).slice(0, 18)}</text>
      <rect x="130" y="3" height="16" width=${Math.max(1, (values[i] / max) * 200)} class="chart-bar" />
      <text x=${136 + (values[i] / max) * 200} y="15" class="chart-value">${metric === 'cost_usd' ? `$${values[i].toFixed(4)}` : values[i]}</text>
    </g>`)}
  </svg>`;
}

function Usage({ ref }) {
  const [groupBy, setGroupBy] = useState('day');
  const [metric, setMetric] = useState('requests');
  const usage = useAsync(() => ai(ref, `/usage?group_by=${groupBy}`), [ref, groupBy]);
  const t = usage.data?.totals;
  return html`<${Section} title="Usage (last 30 days)">
    <div class="row">
      <${Field} label="Group by" as="select" value=${groupBy} onChange=${(e) => setGroupBy(e.currentTarget.value)}>${['day', 'model', 'key'].map((g) => html`<option>${g}</option>`)}</${Field}>
      <${Field} label="Measure" as="select" value=${metric} onChange=${(e) => setMetric(e.currentTarget.value)}>${Object.keys(METRICS).map((m) => html`<option>${m}</option>`)}</${Field}>
    </div>
    <${Loading} state=${usage} />
    ${t && html`<p>${t.requests} requests · ${t.errors ?? 0} errors · ${Number(t.input_tokens) + Number(t.output_tokens)} tokens · $${Number(t.cost_usd).toFixed(4)}</p>`}
    ${usage.data && html`<${Bars} rows=${usage.data.data} metric=${metric} label=${groupBy} />`}
  </${Section}>`;
}

function Keys({ ref }) {
  const keys = useAsync(() => ai(ref, '/keys'), [ref]);
  const action = useAction();
  const [fresh, setFresh] = useState(null);
  const create = ({ name, rpm }) => action.run(async () => {
    const k = await ai(ref, '/keys', { method: 'POST', body: { name, ...(rpm ? { limits: { requests_per_minute: Number(rpm) } } : {}) } });
    setFresh(k.key);
  }, `Key ${name} created: copy it now, it is not shown again.`).then(keys.reload);
  const revoke = (k) => confirm(`Revoke ${k.name}?`) && action.run(() => ai(ref, `/keys/${k.id}`, { method: 'DELETE' }), 'Revoked.').then(keys.reload);
  return html`<${Section} title="AI keys">
    <${Loading} state=${keys} />
    <${Notice} error=${action.error} message=${action.message} />
    ${fresh && html`<p><code class="secret">${fresh}</code> <${CopyButton} text=${fresh} label="Copy new key" /></p>`}
    <${DataTable} caption="AI keys" rows=${(keys.data ?? []).map((k) => ({ name: k.name, prefix: k.prefix ?? '', created: fmtDate(k.created_at), revoked: fmtDate(k.revoked_at), _k: k }))} columns=${['name', 'prefix', 'created', 'revoked']} empty="No AI keys."
      actions=${(r) => (!r._k.revoked_at ? html`<button type="button" onClick=${() => revoke(r._k)}>Revoke ${r.name}</button>` : null)} />
    <${Form} label="New AI key" class="row" onSubmit=${create}>
      <${Field} label="Key name" name="name" required />
      <${Field} label="Requests per minute" name="rpm" type="number" min="1" />
      <button type="submit">Create key</button>
    </${Form}>
  </${Section}>`;
}

function Providers({ ref }) {
  const data = useAsync(async () => ({ providers: await ai(ref, '/providers'), routes: await ai(ref, '/routes') }), [ref]);
  const routes = data.data?.routes;
  return html`<${Section} title="Providers and routes">
    <${Loading} state=${data} />
    <${DataTable} caption="Providers" rows=${(data.data?.providers ?? []).map((p) => ({ name: p.name, type: p.type, base_url: p.base_url ?? '' }))} empty="No providers: add one with POST …/ai/providers (README, AI gateway)." />
    <${DataTable} caption="Routes" rows=${(Array.isArray(routes) ? routes : routes?.routes ?? []).map((r) => ({ model: r.model, provider: r.provider, upstream_model: r.upstream_model ?? '' }))} empty="No routes." />
  </${Section}>`;
}

export default function Ai({ ref }) {
  return html`<h1>AI</h1><${Usage} ref=${ref} /><${Keys} ref=${ref} /><${Providers} ref=${ref} />`;
}
