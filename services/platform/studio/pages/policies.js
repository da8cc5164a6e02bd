// Row level security per table: RLS on/off, the table's policies (add, drop) and the advisors' lints about it
// shown beside it; lints that name no table are listed at the end.
import { html, DataTable, Field, Form, Loading, Notice, Section, useAction, useAsync } from '../lib/ui.js';
import { ident, platform, sql } from '../lib/api.js';

const TABLES = `select c.relname as name, c.relrowsecurity as rls from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public' and c.relkind in ('r', 'p') order by 1`;
const POLICIES = `select tablename, policyname as name, cmd as command, array_to_string(roles, ', ') as roles, permissive,
  qual as using, with_check from pg_policies where schemaname = 'public' order by tablename, policyname`;
const COMMANDS = ['all', 'select', 'insert', 'update', 'delete'];

const Lints = ({ lints }) => (lints.length ? html`<ul class="lints">${lints.map((l) => html`<li class=${`lint ${l.level.toLowerCase()}`}>
  <strong>${l.level}</strong> ${l.title}: ${l.detail} <small>${l.remediation}</small></li>`)}</ul>` : null);

function TablePolicies({ ref, table, policies, lints, reload }) {
  const action = useAction();
  const run = (query, message) => action.run(() => sql(ref, query), message).then((ok) => ok && reload());
  const t = `public.${ident(table.name)}`;
  const add = ({ name, command, roles, using, check }) => {
    const to = roles.split(/[\s,]+/).filter(Boolean).map(ident).join(', ') || 'public';
    const u = using && command !== 'insert' ? ` using (${using})` : '';
    const c = check && command !== 'select' && command !== 'delete' ? ` with check (${check})` : '';
    return run(`create policy ${ident(name)} on ${t} for ${command} to ${to}${u}${c}`, `Policy ${name} created.`);
  };
  const drop = (p) => confirm(`Drop policy ${p.name}?`) && run(`drop policy ${ident(p.name)} on ${t}`, `Policy ${p.name} dropped.`);
  const toggle = () => run(`alter table ${t} ${table.rls ? 'disable' : 'enable'} row level security`, `RLS ${table.rls ? 'disabled' : 'enabled'}.`);
  return html`<${Section} title=${`Policies on ${table.name}`} actions=${html`<span class=${table.rls ? 'badge ok' : 'badge warn'}>RLS ${table.rls ? 'on' : 'off'}</span>
      <button type="button" onClick=${toggle}>${table.rls ? 'Disable' : 'Enable'} RLS on ${table.name}</button>`}>
    <${Lints} lints=${lints} />
    <${Notice} error=${action.error} message=${action.message} />
    <${DataTable} caption=${`Policies on ${table.name}`} rows=${policies} columns=${['name', 'command', 'roles', 'using', 'with_check']} empty="No policies: only the service role can reach this table."
      actions=${(p) => html`<button type="button" onClick=${() => drop(p)} aria-label=${`Drop policy ${p.name}`}>Drop</button>`} />
    <details><summary>New policy on ${table.name}</summary>
      <${Form} label=${`New policy on ${table.name}`} class="grid" onSubmit=${add}>
        <${Field} label="Policy name" name="name" required />
        <${Field} label="Command" as="select" name="command">${COMMANDS.map((c) => html`<option>${c}</option>`)}</${Field}>
        <${Field} label="Roles" name="roles" value="anon, authenticated" hint="comma separated: anon, authenticated, service_role" />
        <${Field} label="Using (SQL expression)" name="using" value="true" />
        <${Field} label="With check (SQL expression)" name="check" placeholder="for insert and update" />
        <div class="row"><button type="submit" class="primary" disabled=${action.busy}>Create policy</button></div>
      </${Form}>
    </details>
  </${Section}>`;
}

export default function Policies({ ref }) {
  const data = useAsync(async () => {
    const [tables, policies, security, performance] = await Promise.all([
      sql(ref, TABLES), sql(ref, POLICIES),
      platform(`/projects/${ref}/advisors/security`), platform(`/projects/${ref}/advisors/performance`),
    ]);
    return { tables, policies, lints: [...security.lints, ...performance.lints] };
  }, [ref]);
  const d = data.data;
  const onTable = (name) => (l) => l.metadata?.type === 'table' && l.metadata?.schema === 'public' && l.metadata?.name === name;
  const other = d ? d.lints.filter((l) => !d.tables.some((t) => onTable(t.name)(l))) : [];
  return html`<h1>Policies</h1>
    <p class="muted">New tables have row level security on: without a policy, only the service role can read or write them. <code>true</code> as the using expression lets the roles see every row.</p>
    <${Loading} state=${data} />
    ${d && !d.tables.length && html`<p class="muted">No tables in public yet.</p>`}
    ${d?.tables.map((t) => html`<${TablePolicies} key=${t.name} ref=${ref} table=${t} policies=${d.policies.filter((p) => p.tablename === t.name)}
      lints=${d.lints.filter(onTable(t.name))} reload=${data.reload} />`)}
    ${d && html`<${Section} title="Other advisor findings"><${Lints} lints=${other} />${!other.length && html`<p class="muted">None.</p>`}</${Section}>`}`;
}
