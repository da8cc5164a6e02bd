// The Management API's schema routes: recorded migrations (the same record as MCP's apply_migration and
// `basalt db push`), TypeScript types and advisors, for CI scripts and the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject, platform, testEnv } from '@basalt/testkit';

const p = await createProject('database-api');
const raw = async (path: string, init: { method?: string; json?: unknown } = {}) => {
  const r = await fetch(`${testEnv().gatewayUrl}/platform/v1/projects/${p.ref}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${testEnv().platformToken}`, 'content-type': 'application/json' },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
  return { status: r.status, body: (await r.json()) as { message: string; details: { sqlstate: string } } };
};

test('migrations are applied once by name, refused with other SQL under the same name, and listed', async () => {
  const sql = 'create table notes (id bigint generated always as identity primary key, owner uuid references auth.users, body text not null); alter table notes enable row level security;';
  const first = await platform<{ version: string; name: string; applied: boolean }>(`/projects/${p.ref}/database/migrations`, { method: 'POST', json: { name: 'create_notes', query: sql } });
  assert.equal(first.applied, true);
  const again = await platform<{ applied: boolean; version: string }>(`/projects/${p.ref}/database/migrations`, { method: 'POST', json: { name: 'create_notes', query: sql } });
  assert.deepEqual([again.applied, again.version], [false, first.version]);
  const other = await raw('/database/migrations', { method: 'POST', json: { name: 'create_notes', query: 'select 1' } });
  assert.equal(other.status, 400);
  assert.match(other.body.message, /already applied .* with different SQL/);
  const broken = await raw('/database/migrations', { method: 'POST', json: { name: 'broken', query: 'create table half (id int); select * from missing' } });
  assert.equal(broken.status, 400);
  assert.equal(broken.body.details.sqlstate, '42P01');
  assert.deepEqual(await p.sql("select to_regclass('public.half') as t"), [{ t: null }], 'a failed migration leaves nothing');
  const list = await platform<{ name: string }[]>(`/projects/${p.ref}/database/migrations`);
  assert.deepEqual(list.map((m) => m.name), ['create_notes']);
  assert.equal((await raw('/database/migrations', { method: 'POST', json: { name: 'Bad Name', query: 'select 1' } })).status, 400);
});

test('types and advisors of the schema', async () => {
  const { types } = await platform<{ types: string }>(`/projects/${p.ref}/types/typescript?included_schemas=public`);
  assert.match(types, /export type Database = /);
  assert.match(types, /notes: \{\s*Row: \{/);
  const security = await platform<{ lints: { name: string }[] }>(`/projects/${p.ref}/advisors/security`);
  assert.ok(security.lints.some((l) => l.name === 'rls_enabled_no_policy'), 'notes has RLS on and no policy');
  const performance = await platform<{ lints: { name: string }[] }>(`/projects/${p.ref}/advisors/performance`);
  assert.ok(performance.lints.some((l) => l.name === 'unindexed_foreign_keys'), 'notes.owner has no index');
  assert.equal((await raw('/advisors/style')).status, 400);
  assert.equal((await raw('/types/typescript?included_schemas=bad;drop')).status, 400);
});

test('a view that reads with its owner\'s rights is an advisor error: through it anon reads rows RLS hides', async () => {
  await p.sql(`create table secrets (id int primary key, body text);
    create policy none_for_anon on secrets for select to authenticated using (false);
    insert into secrets values (1, 'hidden');
    create view leaky as select * from secrets;
    create view careful with (security_invoker = true) as select * from secrets;
    create materialized view copied as select * from secrets;`);
  const read = async (path: string) => (await fetch(`${p.url}/rest/v1/${path}`, { headers: { apikey: p.anonKey, authorization: `Bearer ${p.anonKey}` } })).json();
  assert.deepEqual(await read('secrets'), [], 'the table itself hides the row');
  assert.deepEqual(await read('leaky'), [{ id: 1, body: 'hidden' }], 'the owner\'s view hands it out');
  assert.deepEqual(await read('careful'), [], 'the invoker\'s view does not');
  const lints = (await platform<{ lints: { name: string; level: string; detail: string; metadata: { name: string; type: string } }[] }>(`/projects/${p.ref}/advisors/security`)).lints;
  const about = (name: string) => lints.filter((l) => l.metadata.name === name).map((l) => [l.name, l.level, l.metadata.type]);
  assert.deepEqual(about('leaky'), [['security_definer_view', 'ERROR', 'view']]);
  assert.deepEqual(about('careful'), []);
  assert.deepEqual(about('copied'), [['materialized_view_in_api', 'WARN', 'materialized view']]);
  await p.sql('alter view leaky set (security_invoker = true); revoke select on copied from anon, authenticated');
  const after = (await platform<{ lints: { metadata: { name: string } }[] }>(`/projects/${p.ref}/advisors/security`)).lints;
  assert.ok(!after.some((l) => ['leaky', 'copied'].includes(l.metadata.name)), 'fixed as the remediations say');
  assert.deepEqual(await read('leaky'), []);
});
