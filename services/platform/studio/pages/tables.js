// The table editor: public tables, create a table or a column, and browse one table through the REST API
// (paging, sort, filter) with insert, edit and delete by primary key.
import { useState } from 'preact/hooks';
import { html, DataTable, Field, Form, Loading, Notice, Section, useAction, useAsync } from '../lib/ui.js';
import { ident, literal, project, sql } from '../lib/api.js';

const TABLES = `select c.relname as name, c.relrowsecurity as rls,
  (select count(*) from pg_policies p where p.schemaname = 'public' and p.tablename = c.relname)::int as policies,
  greatest(c.reltuples, 0)::bigint as estimated_rows
  from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind in ('r', 'p') order by 1`;
const COLUMNS = (table) => `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type, not a.attnotnull as nullable,
  pg_get_expr(d.adbin, d.adrelid) as "default", a.attidentity <> '' or a.attgenerated <> '' as generated,
  coalesce(a.attnum = any(i.indkey), false) as pk
  from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
  left join pg_index i on i.indrelid = a.attrelid and i.indisprimary
  where a.attrelid = ${literal(`public.${ident(table)}`)}::regclass and a.attnum > 0 and not a.attisdropped order by a.attnum`;
const TYPES = ['text', 'bigint', 'integer', 'numeric', 'boolean', 'uuid', 'timestamptz', 'date', 'jsonb'];
const OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'is'];
const PAGE = 25;

function CreateTable({ ref, onCreated }) {
  const action = useAction();
  const create = ({ name }, form) => action.run(() => sql(ref, `create table public.${ident(name)} (id bigint generated always as identity primary key, created_at timestamptz not null default now())`), `Table ${name} created with row level security on: add a policy to let anon or authenticated users read it.`)
    .then((ok) => { if (ok) { form.reset(); onCreated(name); } });
  return html`<${Form} label="Create table" class="row" onSubmit=${create}>
    <${Field} label="New table name" name="name" required pattern="[A-Za-z_][A-Za-z0-9_]*" />
    <button type="submit" disabled=${action.busy}>Create table</button>
    <${Notice} error=${action.error} message=${action.message} />
  </${Form}>`;
}

function Columns({ ref, table, columns }) {
  const action = useAction();
  const add = ({ name, type, nullable, def }) => action.run(() => sql(ref, `alter table public.${ident(table)} add column ${ident(name)} ${type}${nullable ? '' : ' not null'}${def ? ` default ${def}` : ''}`), `Column ${name} added.`).then(columns.reload);
  const drop = (c) => confirm(`Drop column ${c.name}? Its data is lost.`) && action.run(() => sql(ref, `alter table public.${ident(table)} drop column ${ident(c.name)}`), `Column ${c.name} dropped.`).then(columns.reload);
  return html`<details><summary>Columns of ${table}</summary>
    <${Notice} error=${action.error} message=${action.message} />
    <${DataTable} caption=${`Columns of ${table}`} rows=${columns.data} columns=${['name', 'type', 'nullable', 'default', 'pk']}
      actions=${(c) => html`<button type="button" onClick=${() => drop(c)} aria-label=${`Drop column ${c.name}`}>Drop</button>`} />
    <${Form} label="Add column" class="row" onSubmit=${add}>
      <${Field} label="Column name" name="name" required pattern="[A-Za-z_][A-Za-z0-9_]*" />
      <${Field} label="Column type" as="select" name="type">${TYPES.map((t) => html`<option>${t}</option>`)}</${Field}>
      <${Field} label="Nullable" type="checkbox" name="nullable" checked />
      <${Field} label="Default (SQL)" name="def" placeholder="e.g. 'draft' or now()" />
      <button type="submit" disabled=${action.busy}>Add column</button>
    </${Form}>
  </details>`;
}

const toValue = (col, text) => (/json/.test(col.type) ? JSON.parse(text) : text);

function RowForm({ columns, row, onSave, onCancel, busy }) {
  const editable = columns.filter((c) => !c.generated);
  const submit = (values) => {
    const body = {};
    for (const c of editable) if (values[c.name] !== '' || row) body[c.name] = values[c.name] === '' ? null : toValue(c, values[c.name]);
    onSave(body);
  };
  return html`<${Form} label=${row ? 'Edit row' : 'Insert row'} class="grid" onSubmit=${submit}>
    ${editable.map((c) => html`<${Field} label=${`${c.name} (${c.type})`} name=${c.name}
      value=${row ? (row[c.name] === null ? '' : typeof row[c.name] === 'object' ? JSON.stringify(row[c.name]) : String(row[c.name])) : ''}
      placeholder=${c.default ? `default ${c.default}` : c.nullable ? 'NULL' : ''} />`)}
    <div class="row"><button type="submit" class="primary" disabled=${busy}>${row ? 'Save row' : 'Insert row'}</button>
      <button type="button" onClick=${onCancel}>Cancel</button></div>
  </${Form}>`;
}

function Browser({ ref, table, columns }) {
  const [view, setView] = useState({ page: 0, sort: null, filter: null });
  const [editing, setEditing] = useState(null);
  const action = useAction();
  const pk = (columns.data ?? []).filter((c) => c.pk);
  const rows = useAsync(async () => {
    const q = new URLSearchParams({ select: '*', limit: String(PAGE), offset: String(view.page * PAGE) });
    if (view.sort) q.set('order', `${view.sort.column}.${view.sort.dir}`);
    if (view.filter) q.append(view.filter.column, `${view.filter.op}.${view.filter.value}`);
    const res = await project(ref, `/rest/v1/${encodeURIComponent(table)}?${q}`, { raw: true, headers: { prefer: 'count=exact' } });
    const total = Number((res.headers.get('content-range') ?? '').split('/')[1]);
    return { rows: await res.json(), total: Number.isFinite(total) ? total : null };
  }, [ref, table, view]);
  const match = (row) => new URLSearchParams(pk.map((c) => [c.name, `eq.${row[c.name]}`])).toString();
  const save = (body) => action.run(() => (editing === 'new'
    ? project(ref, `/rest/v1/${encodeURIComponent(table)}`, { method: 'POST', body, headers: { prefer: 'return=minimal' } })
    : project(ref, `/rest/v1/${encodeURIComponent(table)}?${match(editing)}`, { method: 'PATCH', body, headers: { prefer: 'return=minimal' } })), 'Row saved.')
    .then((ok) => { if (ok) { setEditing(null); rows.reload(); } });
  const remove = (row) => confirm('Delete this row?') && action.run(() => project(ref, `/rest/v1/${encodeURIComponent(table)}?${match(row)}`, { method: 'DELETE' }), 'Row deleted.').then(rows.reload);
  const sortBy = (column) => setView((v) => ({ ...v, page: 0, sort: { column, dir: v.sort?.column === column && v.sort.dir === 'asc' ? 'desc' : 'asc' } }));
  const filter = ({ column, op, value }) => setView((v) => ({ ...v, page: 0, filter: value === '' ? null : { column, op, value } }));
  const total = rows.data?.total;
  const last = total ? Math.max(0, Math.ceil(total / PAGE) - 1) : 0;
  const cols = (columns.data ?? []).map((c) => c.name);
  return html`<div>
    <${Form} label="Filter rows" class="row" onSubmit=${filter}>
      <${Field} label="Filter column" as="select" name="column">${cols.map((c) => html`<option>${c}</option>`)}</${Field}>
      <${Field} label="Operator" as="select" name="op">${OPS.map((o) => html`<option>${o}</option>`)}</${Field}>
      <${Field} label="Value" name="value" />
      <button type="submit">Apply filter</button>
    </${Form}>
    <div class="row">
      <button type="button" class="primary" onClick=${() => setEditing('new')} disabled=${!columns.data}>Insert row</button>
      <span class="muted">${total ?? '?'} rows · page ${view.page + 1} of ${last + 1}</span>
      <button type="button" onClick=${() => setView((v) => ({ ...v, page: v.page - 1 }))} disabled=${view.page === 0}>Previous page</button>
      <button type="button" onClick=${() => setView((v) => ({ ...v, page: v.page + 1 }))} disabled=${view.page >= last}>Next page</button>
    </div>
    <${Notice} error=${action.error} message=${action.message} />
    ${editing && html`<${RowForm} key=${editing === 'new' ? 'new' : match(editing)} columns=${columns.data} row=${editing === 'new' ? null : editing} busy=${action.busy} onSave=${save} onCancel=${() => setEditing(null)} />`}
    <${Loading} state=${rows} />
    <${DataTable} caption=${`Rows of ${table}`} rows=${rows.data?.rows} columns=${cols} sort=${view.sort} onSort=${sortBy} empty="No rows."
      actions=${pk.length ? (r) => html`<button type="button" onClick=${() => setEditing(r)}>Edit</button><button type="button" onClick=${() => remove(r)}>Delete</button>` : undefined} />
    ${!pk.length && columns.data && html`<p class="muted">This table has no primary key: rows can be inserted but not edited or deleted here.</p>`}
  </div>`;
}

export default function Tables({ ref }) {
  const tables = useAsync(() => sql(ref, TABLES), [ref]);
  const [table, setTable] = useState(null);
  const columns = useAsync(() => (table ? sql(ref, COLUMNS(table)) : null), [ref, table]);
  const created = (name) => { tables.reload(); setTable(name); };
  return html`<h1>Tables</h1>
    <${Section} title="Tables in public">
      <${Loading} state=${tables} />
      <${DataTable} caption="Tables" rows=${tables.data} empty="No tables yet."
        actions=${(t) => html`<button type="button" onClick=${() => setTable(t.name)} aria-pressed=${t.name === table}>Open ${t.name}</button>`} />
      <${CreateTable} ref=${ref} onCreated=${created} />
    </${Section}>
    ${table && html`<${Section} title=${`Table ${table}`}>
      <${Loading} state=${columns} />
      <${Columns} ref=${ref} table=${table} columns=${columns} />
      ${columns.data && html`<${Browser} key=${table} ref=${ref} table=${table} columns=${columns} />`}
    </${Section}>`}`;
}
