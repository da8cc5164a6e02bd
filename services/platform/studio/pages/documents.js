// Documents: collections and a document browser (Data API actions with the service_role key), and each
// collection's access rules with a tester that says what a sample caller would be allowed.
import { useState } from 'preact/hooks';
import { html, DataTable, Field, Form, Loading, Notice, Section, useAction, useAsync } from '../lib/ui.js';
import { platform, project } from '../lib/api.js';

const action = (ref, name, body) => project(ref, `/mongo/v1/action/${name}`, { method: 'POST', body });
const PAGE = 20;
const parse = (text, what) => {
  try { return JSON.parse(text || '{}'); } catch (e) { throw new Error(`${what} is not JSON: ${e.message}`); }
};
const RULE_EXAMPLE = JSON.stringify({ read: { owner: '${auth.uid}' }, insert: { owner: '${auth.uid}' }, update: { owner: '${auth.uid}' }, delete: false }, null, 2);

function Browser({ ref, collection }) {
  const [view, setView] = useState({ filter: '{}', page: 0 });
  const act = useAction();
  const docs = useAsync(async () => (await action(ref, 'find', { collection, filter: parse(view.filter, 'Filter'), limit: PAGE, skip: view.page * PAGE })).documents, [ref, collection, view]);
  const insert = ({ doc }, form) => act.run(() => action(ref, 'insertOne', { collection, document: parse(doc, 'Document') }), 'Inserted.').then((ok) => { if (ok) form.reset(); docs.reload(); });
  const remove = (d) => confirm('Delete this document?') && act.run(() => action(ref, 'deleteOne', { collection, filter: { _id: d._id } }), 'Deleted.').then(docs.reload);
  const edit = (d) => {
    const text = prompt('Replace with (JSON, without _id)', JSON.stringify({ ...d, _id: undefined }));
    if (text) act.run(() => action(ref, 'replaceOne', { collection, filter: { _id: d._id }, replacement: parse(text, 'Document') }), 'Saved.').then(docs.reload);
  };
  return html`<div>
    <${Form} label="Filter documents" class="row" onSubmit=${({ filter }) => setView({ filter, page: 0 })}>
      <${Field} label="Filter (MongoDB query)" name="filter" class="code" value=${view.filter} />
      <button type="submit">Find</button>
    </${Form}>
    <${Loading} state=${docs} /><${Notice} error=${act.error} message=${act.message} />
    <${DataTable} caption=${`Documents in ${collection}`} rows=${(docs.data ?? []).map((d) => ({ _id: typeof d._id === 'object' ? JSON.stringify(d._id) : d._id, document: JSON.stringify(d), _d: d }))} columns=${['_id', 'document']} empty="No documents match."
      actions=${(r) => html`<button type="button" onClick=${() => edit(r._d)}>Edit</button><button type="button" onClick=${() => remove(r._d)}>Delete</button>`} />
    <div class="row">
      <button type="button" onClick=${() => setView((v) => ({ ...v, page: v.page - 1 }))} disabled=${view.page === 0}>Previous page</button>
      <button type="button" onClick=${() => setView((v) => ({ ...v, page: v.page + 1 }))} disabled=${(docs.data?.length ?? 0) < PAGE}>Next page</button>
    </div>
    <${Form} label="Insert a document" class="row" onSubmit=${insert}>
      <${Field} label="New document (JSON)" name="doc" class="code" required placeholder='{"title": "hello"}' />
      <button type="submit">Insert document</button>
    </${Form}>
  </div>`;
}

function Rules({ ref, collection, rules, reload }) {
  const current = rules.find((r) => r.collection === collection);
  const stored = current ? JSON.stringify({ ...current, collection: undefined, updated_at: undefined }, null, 2) : null;
  const [text, setText] = useState(stored ?? RULE_EXAMPLE);
  const [result, setResult] = useState(null);
  const act = useAction();
  const save = () => act.run(() => platform(`/projects/${ref}/documents/rules/${encodeURIComponent(collection)}`, { method: 'PUT', body: parse(text, 'Rules') }), 'Rules saved.').then(reload);
  const test = ({ op, uid, doc }) => act.run(async () => {
    const body = { action: op, auth: uid ? { uid } : { role: 'anon' }, ...(doc ? { document: parse(doc, 'Sample document') } : {}) };
    setResult(await platform(`/projects/${ref}/documents/rules/${encodeURIComponent(collection)}/test`, { method: 'POST', body }));
  });
  return html`<div>
    <h3>Access rules of ${collection}</h3>
    ${!current && html`<p class="muted">No rules saved: every action by a user or anon is denied. The example below is not saved yet.</p>`}
    <${Field} as="textarea" label="Rules (JSON: read, insert, update, delete)" class="code" rows="8" value=${text} onInput=${(e) => setText(e.currentTarget.value)} spellcheck="false" />
    <button type="button" class="primary" onClick=${save} disabled=${act.busy}>Save rules</button>
    <${Notice} error=${act.error} message=${act.message} />
    <${Form} label="Test the rules" class="row" onSubmit=${test}>
      <${Field} label="Action" as="select" name="op">${['read', 'insert', 'update', 'delete'].map((a) => html`<option>${a}</option>`)}</${Field}>
      <${Field} label="As user id (empty: anon)" name="uid" />
      <${Field} label="Sample document (JSON)" name="doc" class="code" />
      <button type="submit">Test rule</button>
    </${Form}>
    ${result && html`<pre class="code" aria-label="Rule test result" role="status">${JSON.stringify(result, null, 2)}</pre>`}
  </div>`;
}

export default function Documents({ ref }) {
  const data = useAsync(async () => {
    const [cols, rules] = await Promise.all([action(ref, 'listCollections', {}), platform(`/projects/${ref}/documents/rules`)]);
    const names = new Set([...cols.collections.map((c) => c.name), ...rules.map((r) => r.collection)]);
    return { collections: [...names].sort(), rules };
  }, [ref]);
  const [collection, setCollection] = useState(null);
  return html`<h1>Documents</h1>
    <${Section} title="Collections">
      <${Loading} state=${data} />
      <${DataTable} caption="Collections" rows=${(data.data?.collections ?? []).map((name) => ({ name, rules: data.data.rules.some((r) => r.collection === name) ? 'yes' : 'none (deny)' }))} empty="No collections yet."
        actions=${(r) => html`<button type="button" onClick=${() => setCollection(r.name)} aria-pressed=${r.name === collection}>Open ${r.name}</button>`} />
      <${Form} label="Open a collection" class="row" onSubmit=${({ name }) => setCollection(name.trim())}>
        <${Field} label="Collection name" name="name" required hint="a new name is created by its first insert" />
        <button type="submit">Open collection</button>
      </${Form}>
    </${Section}>
    ${collection && data.data && html`<${Section} key=${collection} title=${`Collection ${collection}`}>
      <${Browser} ref=${ref} collection=${collection} />
      <${Rules} ref=${ref} collection=${collection} rules=${data.data.rules} reload=${data.reload} />
    </${Section}>`}`;
}
