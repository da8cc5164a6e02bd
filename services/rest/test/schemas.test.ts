// Full SQL access: a schema the project's owner creates through the platform SQL API (CREATE SCHEMA), exposed with
// settings.rest.schemas and reached with Accept-Profile / Content-Profile as PostgREST's db-schemas.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject, eventually, platform, type TestProject } from '@basalt/testkit';
import { client, raw } from './helpers.js';

let p: TestProject;
let other: TestProject;

before(async () => {
  [p, other] = await Promise.all([createProject('rest-schemas'), createProject('rest-schemas-b')]);
  const ddl = `
    create schema app;
    grant usage on schema app to anon, authenticated, service_role;
    create table app.notes (id int primary key, body text not null, author_id int);
    create table app.authors (id int primary key, name text);
    alter table app.notes add foreign key (author_id) references app.authors;
    alter table app.notes enable row level security;
    alter table app.authors enable row level security;
    create policy r on app.notes using (true) with check (true);
    create policy r on app.authors using (true) with check (true);
    grant select, insert, update, delete on all tables in schema app to anon, authenticated, service_role;
    insert into app.authors values (1, 'Ann');
    insert into app.notes values (1, 'in app', 1);
    create function app.shout(t text) returns text language sql immutable as $$ select upper(t) || '!' $$;
    grant execute on function app.shout(text) to anon;
    create table public.notes (id int primary key, body text);
    create policy r on public.notes for select using (true);
    insert into public.notes values (1, 'in public');
  `;
  // The SQL API runs as the project's owner (basalt_admin), not a superuser; it may create schemas in its own database.
  await Promise.all([platform(`/projects/${p.ref}/sql`, { method: 'POST', json: { query: ddl } }), other.sql(ddl)]);
});

test('a schema the owner created is not exposed until settings.rest.schemas names it (406 PGRST106)', async () => {
  const r = await raw(p, '/notes', { headers: { 'accept-profile': 'app' } });
  assert.equal(r.status, 406);
  assert.deepEqual(r.body, { code: 'PGRST106', message: 'Invalid schema: app', details: null, hint: 'Only the following schemas are exposed: public' });
  const write = await raw(p, '/notes', { method: 'POST', json: { id: 2, body: 'x' }, headers: { 'content-profile': 'app' } });
  assert.equal(write.status, 406);
});

test('exposed: reads with Accept-Profile, writes and RPC with Content-Profile, embeds inside the schema, Content-Profile echoed', async () => {
  await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { settings: { rest: { schemas: ['public', 'app'] } } } });
  const app = client(p, p.anonKey, undefined, 'app');
  const read = await eventually(async () => {
    const r = await app.from('notes').select('id, body, authors(name)');
    if (r.error) throw new Error(JSON.stringify(r.error));
    return r;
  });
  assert.deepEqual(read.data, [{ id: 1, body: 'in app', authors: { name: 'Ann' } }]);
  // The default (first) schema is unchanged.
  assert.deepEqual((await client(p).from('notes').select('body')).data, [{ body: 'in public' }]);
  const profiled = await raw(p, '/notes?select=body', { headers: { 'accept-profile': 'app' } });
  assert.equal(profiled.headers.get('content-profile'), 'app');
  const insert = await app.from('notes').insert({ id: 2, body: 'written', author_id: 1 }).select('id, body').single();
  assert.equal(insert.status, 201);
  assert.deepEqual(insert.data, { id: 2, body: 'written' });
  assert.deepEqual(await p.sql(`select body from app.notes where id = 2`), [{ body: 'written' }]);
  const rpc = await app.rpc('shout', { t: 'hi' });
  assert.equal(rpc.data, 'HI!');
  const rawRpc = await raw(p, '/rpc/shout', { method: 'POST', json: { t: 'x' }, headers: { 'content-profile': 'app' } });
  assert.equal(rawRpc.headers.get('content-profile'), 'app');
  const missing = await raw(p, '/notes', { headers: { 'accept-profile': 'nope' } });
  assert.equal(missing.body.hint, 'Only the following schemas are exposed: public, app');
  const api = await raw(p, '/', { headers: { 'accept-profile': 'app' } });
  assert.ok(api.body.paths['/notes'] && api.body.paths['/authors']);
});

test('DDL in an exposed schema reaches the schema cache; another project exposing nothing extra still refuses it', async () => {
  await p.sql(`create table app.late (id int primary key); alter table app.late enable row level security;
    create policy r on app.late for select using (true); grant select on app.late to anon; insert into app.late values (9);`);
  await eventually(async () => (await client(p, p.anonKey, undefined, 'app').from('late').select('id')).data?.[0]?.id === 9, 5000);
  const b = await client(other, other.anonKey, undefined, 'app').from('notes').select('id');
  assert.equal(b.error?.code, 'PGRST106');
  // Project A's key is never good for project B's schema either.
  const cross = await raw(other, '/notes', { bearer: p.anonKey, headers: { apikey: p.anonKey, 'accept-profile': 'app' } });
  assert.equal(cross.status, 401);
});
