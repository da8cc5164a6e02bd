// The memory browser (mem0 API with the service_role key): list by scope, search, edit, history, delete,
// entities, the memory settings, and the reset of every memory behind a typed confirmation.
import { useState } from 'preact/hooks';
import { html, DataTable, Field, Form, Loading, Notice, Section, TypedConfirm, fmtDate, useAction, useAsync } from '../lib/ui.js';
import { platform, project } from '../lib/api.js';

const mem = (ref, path, opts) => project(ref, path, opts);
const PAGE = 50;

function History({ ref, id }) {
  const history = useAsync(() => mem(ref, `/v1/memories/${id}/history/`), [ref, id]);
  return html`<div><h3>History of ${id}</h3><${Loading} state=${history} />
    <${DataTable} caption="Memory history" rows=${(history.data ?? []).map((h) => ({ at: fmtDate(h.created_at), event: h.event, old: h.old_memory ?? '', new: h.new_memory ?? '' }))} empty="No history." /></div>`;
}

function Settings({ ref }) {
  const proj = useAsync(() => platform(`/projects/${ref}`), [ref]);
  const action = useAction();
  const m = proj.data?.settings?.memory ?? {};
  const save = ({ llm, embedding }) => {
    const memory = { ...m };
    if (llm) memory.llm_model = llm; else delete memory.llm_model;
    if (embedding) memory.embedding_model = embedding; else delete memory.embedding_model;
    return action.run(() => platform(`/projects/${ref}`, { method: 'PATCH', body: { settings: { ...proj.data.settings, memory } } }), 'Memory settings saved.').then(proj.reload);
  };
  return html`<${Section} title="Memory settings">
    <${Loading} state=${proj} /><${Notice} error=${action.error} message=${action.message} />
    ${proj.data && html`<${Form} label="Memory settings" class="row" onSubmit=${save}>
      <${Field} label="Inference model (infer=true)" name="llm" value=${m.llm_model ?? ''} />
      <${Field} label="Embedding model" name="embedding" value=${m.embedding_model ?? ''} />
      <button type="submit">Save memory settings</button>
    </${Form}>`}
  </${Section}>`;
}

export default function Memory({ ref }) {
  const [scope, setScope] = useState({ field: 'user_id', value: '', query: '', page: 1 });
  const [editing, setEditing] = useState(null);
  const [historyOf, setHistoryOf] = useState(null);
  const [reset, setReset] = useState(false);
  const action = useAction();
  const list = useAsync(() => {
    const filter = scope.value ? { [scope.field]: scope.value } : {};
    if (scope.query) return mem(ref, '/v1/memories/search/', { method: 'POST', body: { query: scope.query, ...filter, limit: PAGE } });
    const q = new URLSearchParams({ ...filter, page: String(scope.page), page_size: String(PAGE) });
    return mem(ref, `/v1/memories/?${q}`);
  }, [ref, scope]);
  const items = Array.isArray(list.data) ? list.data : list.data?.results ?? [];
  const entities = useAsync(() => mem(ref, '/v1/entities/'), [ref]);
  const save = ({ text }) => action.run(() => mem(ref, `/v1/memories/${editing.id}/`, { method: 'PUT', body: { text } }), 'Memory updated.').then((ok) => { if (ok) setEditing(null); list.reload(); });
  const remove = (m) => confirm('Delete this memory?') && action.run(() => mem(ref, `/v1/memories/${m.id}/`, { method: 'DELETE' }), 'Deleted.').then(list.reload);
  const resetAll = () => action.run(async () => {
    const first = await mem(ref, '/v1/memories/reset/', { method: 'POST', body: {} });
    if (first?.confirm_token) await mem(ref, '/v1/memories/reset/', { method: 'POST', body: { confirm: first.confirm_token } });
  }, 'Every memory of the project was deleted.').then(() => { setReset(false); list.reload(); entities.reload(); });
  const rows = items.map((m) => ({ memory: m.memory, user: m.user_id ?? '', agent: m.agent_id ?? '', score: m.score === undefined ? '' : Number(m.score).toFixed(3), updated: fmtDate(m.updated_at ?? m.created_at), _m: m }));
  return html`<h1>Memory</h1>
    <${Section} title="Memories">
      <${Form} label="Find memories" class="row" onSubmit=${(v) => setScope({ field: v.field, value: v.value.trim(), query: v.query.trim(), page: 1 })}>
        <${Field} label="Scope" as="select" name="field" value=${scope.field}>${['user_id', 'agent_id', 'app_id', 'run_id'].map((f) => html`<option>${f}</option>`)}</${Field}>
        <${Field} label="Scope value" name="value" value=${scope.value} placeholder="any" />
        <${Field} label="Search text" name="query" type="search" value=${scope.query} />
        <button type="submit">Find</button>
      </${Form}>
      <${Loading} state=${list} />
      <${Notice} error=${action.error} message=${action.message} />
      ${editing && html`<${Form} key=${editing.id} label="Edit memory" class="row" onSubmit=${save}>
        <${Field} label="Memory text" name="text" value=${editing.memory} required />
        <button type="submit" class="primary">Save memory</button><button type="button" onClick=${() => setEditing(null)}>Cancel</button>
      </${Form}>`}
      <${DataTable} caption="Memories" rows=${rows} columns=${['memory', 'user', 'agent', 'score', 'updated']} empty="No memories."
        actions=${(r) => html`<button type="button" onClick=${() => setEditing(r._m)}>Edit</button>
          <button type="button" onClick=${() => setHistoryOf(r._m.id)}>History</button>
          <button type="button" onClick=${() => remove(r._m)}>Delete</button>`} />
      ${!scope.query && html`<div class="row">
        <button type="button" onClick=${() => setScope((s) => ({ ...s, page: s.page - 1 }))} disabled=${scope.page === 1}>Previous page</button>
        <span class="muted">page ${scope.page}</span>
        <button type="button" onClick=${() => setScope((s) => ({ ...s, page: s.page + 1 }))} disabled=${items.length < PAGE}>Next page</button></div>`}
      ${historyOf && html`<${History} key=${historyOf} ref=${ref} id=${historyOf} />`}
    </${Section}>
    <${Section} title="Entities">
      <${Loading} state=${entities} />
      <${DataTable} caption="Entities" rows=${(Array.isArray(entities.data) ? entities.data : entities.data?.results ?? []).map((e) => ({ type: e.type, name: e.name, memories: e.total_memories ?? e.count ?? '' }))} empty="No entities." />
    </${Section}>
    <${Settings} ref=${ref} />
    <${Section} title="Danger zone">
      ${reset ? html`<${TypedConfirm} word=${ref} label="Delete every memory" busy=${action.busy} onConfirm=${resetAll} />`
        : html`<button type="button" class="danger" onClick=${() => setReset(true)}>Reset memory…</button>`}
    </${Section}>`;
}
