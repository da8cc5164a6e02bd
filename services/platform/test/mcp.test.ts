// /mcp through the MCP SDK client: every platform-side tool succeeds and fails as a tool error, scoped tokens see
// only their projects, read-only sessions refuse writes, resources list and read.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { platform, testEnv } from '@basalt/testkit';
import { connectMcp, type Mcp } from './mcp-client.js';

const env = testEnv();
let mcp: Mcp;
let a: { ref: string; url: string; anon_key: string; service_role_key: string };
let b: { ref: string };

before(async () => {
  mcp = await connectMcp();
  a = await mcp.call('create_project', { name: 'mcp-a' });
  b = await mcp.call('create_project', { name: 'mcp-b' });
});
after(async () => {
  for (const p of [a, b]) if (p) await platform(`/projects/${p.ref}?confirm=${p.ref}`, { method: 'DELETE' }).catch(() => undefined);
  await mcp?.close();
});

test('tools are listed with descriptions and input schemas', async () => {
  const { tools } = await mcp.client.listTools();
  const names = tools.map((t) => t.name);
  for (const n of ['list_projects', 'create_project', 'get_project_keys', 'delete_project', 'execute_sql', 'apply_migration', 'list_migrations',
    'list_tables', 'list_extensions', 'generate_typescript_types', 'get_advisors', 'get_logs', 'auth_list_users', 'auth_create_user',
    'auth_delete_user', 'storage_list_buckets', 'storage_create_bucket', 'storage_list_objects', 'storage_upload_object', 'assets_upload',
    'functions_deploy', 'functions_delete', 'functions_invoke', 'functions_logs', 'functions_secrets_set', 'cron_create', 'cron_list', 'cron_runs', 'cron_delete',
    'storage_delete_objects', 'update_project_settings',
    'ai_list_keys', 'ai_create_key', 'ai_usage', 'memory_add', 'memory_search']) assert.ok(names.includes(n), `missing tool ${n}`);
  for (const t of tools) assert.ok(t.description && t.description.length > 20, `${t.name} has a description`);
  assert.deepEqual(tools.find((t) => t.name === 'delete_project')!.inputSchema.required?.sort(), ['confirm', 'ref']);
});

test('projects: list, keys; a wrong confirmation refuses the delete', async () => {
  const list = await mcp.call<{ ref: string }[]>('list_projects');
  assert.ok(list.some((p) => p.ref === a.ref) && list.some((p) => p.ref === b.ref));
  const keys = await mcp.call('get_project_keys', { ref: a.ref });
  assert.equal(keys.anon_key, a.anon_key);
  assert.equal(keys.service_role_key, a.service_role_key);
  assert.match(await mcp.fail('delete_project', { ref: a.ref, confirm: b.ref }), /repeat its ref/);
  assert.match(await mcp.fail('get_project_keys', { ref: 'aaaaaaaaaaaaaaaaaaaa' }), /not found/);
  assert.match(await mcp.fail('create_project', {}), /name/i, 'a schema violation is a tool error too');
});

test('execute_sql returns rows and reports SQL errors as tool errors', async () => {
  assert.deepEqual(await mcp.call('execute_sql', { ref: a.ref, query: 'select 1 as one; select 2 as two' }), [{ two: 2 }]);
  assert.match(await mcp.fail('execute_sql', { ref: a.ref, query: 'select * from nope' }), /relation "nope" does not exist/);
});

test('apply_migration is recorded, listed and idempotent by name', async () => {
  const sql = `create table public.authors (id bigint generated always as identity primary key, name text not null);
    create table public.books (id bigint generated always as identity primary key, title text, author_id bigint references public.authors (id),
      tags text[], status text default 'draft', meta jsonb);`;
  const first = await mcp.call('apply_migration', { ref: a.ref, name: 'create_books', query: sql });
  assert.equal(first.applied, true);
  assert.equal((await mcp.call('apply_migration', { ref: a.ref, name: 'create_books', query: sql })).applied, false);
  assert.match(await mcp.fail('apply_migration', { ref: a.ref, name: 'create_books', query: 'select 1' }), /already applied/);
  // a failing migration leaves nothing behind, not even its record
  assert.match(await mcp.fail('apply_migration', { ref: a.ref, name: 'broken', query: 'create table half (x int); select * from nope' }), /nope/);
  assert.deepEqual(await mcp.call('execute_sql', { ref: a.ref, query: "select to_regclass('public.half') as t" }), [{ t: null }]);
  const list = await mcp.call<{ name: string; version: string }[]>('list_migrations', { ref: a.ref });
  assert.deepEqual(list.map((m) => m.name), ['create_books']);
  assert.equal(list[0].version, first.version);
  const logs = await mcp.call('get_logs', { ref: a.ref, service: 'migrations' });
  assert.equal(logs.entries[0].name, 'create_books');
});

test('list_tables, list_extensions and generate_typescript_types describe the schema', async () => {
  const tables = await mcp.call<any[]>('list_tables', { ref: a.ref });
  const books = tables.find((t) => t.name === 'books');
  assert.equal(typeof books.rls_enabled, 'boolean');
  assert.deepEqual(books.primary_key, ['id']);
  assert.equal(books.foreign_keys[0].target, 'authors');
  assert.deepEqual(books.columns.map((c: any) => c.name), ['id', 'title', 'author_id', 'tags', 'status', 'meta']);
  const exts = await mcp.call<any[]>('list_extensions', { ref: a.ref });
  assert.ok(exts.some((e) => e.name === 'plpgsql' && e.installed_version));
  const { types } = await mcp.call('generate_typescript_types', { ref: a.ref });
  assert.match(types, /export type Database = \{/);
  assert.match(types, /books: \{\n\s+Row: \{\n\s+id: number\n\s+title: string \| null\n\s+author_id: number \| null\n\s+tags: string\[\] \| null\n\s+status: string \| null\n\s+meta: Json \| null/);
  assert.match(types, /Insert: \{\n\s+title\?: string \| null/);
  assert.match(types, /referencedRelation: "authors"/);
});

test('get_advisors finds each security and performance lint, with remediation', async () => {
  await mcp.call('apply_migration', {
    ref: a.ref, name: 'lint_bait', query: `
      alter table public.books disable row level security;
      alter table public.authors enable row level security;
      create table public.secrets (id int primary key, owner uuid);
      alter table public.secrets enable row level security;
      create policy meta on public.secrets for select using ((auth.jwt() -> 'user_metadata' ->> 'admin') = 'true');
      create function public.elevate() returns int language sql security definer as 'select 1';
      create index books_title on public.books (title);`,
  });
  const sec = (await mcp.call('get_advisors', { ref: a.ref, type: 'security' })).lints as any[];
  const found = (name: string, table: string) => sec.find((l) => l.name === name && l.metadata.name === table);
  assert.equal(found('rls_disabled_in_public', 'books')?.level, 'ERROR');
  assert.equal(found('rls_enabled_no_policy', 'authors')?.level, 'INFO');
  assert.equal(found('rls_references_user_metadata', 'secrets')?.level, 'ERROR');
  assert.equal(found('function_search_path_mutable', 'elevate')?.level, 'WARN');
  assert.ok(!found('rls_enabled_no_policy', 'secrets'), 'a table with a policy is not flagged');
  for (const l of sec) assert.ok(l.detail && l.remediation && l.title, 'every lint has detail and remediation');
  const perf = (await mcp.call('get_advisors', { ref: a.ref, type: 'performance' })).lints as any[];
  assert.match(perf.find((l) => l.name === 'unindexed_foreign_keys')?.remediation, /create index on "public"."books" \("author_id"\)/);
  assert.ok(perf.some((l) => l.name === 'unused_index' && l.detail.includes('books_title')));
  assert.ok(!perf.some((l) => l.name === 'unused_index' && /pkey/.test(l.detail)), 'primary keys are not "unused"');
});

test('auth users and storage buckets and objects', async () => {
  const user = await mcp.call('auth_create_user', { ref: a.ref, email: 'mcp@example.test', password: 'secret-pass-1' });
  assert.equal(user.email, 'mcp@example.test');
  assert.ok((await mcp.call('auth_list_users', { ref: a.ref })).users.some((u: any) => u.id === user.id));
  assert.match(await mcp.fail('auth_create_user', { ref: a.ref, email: 'mcp@example.test', password: 'secret-pass-1' }), /already/i);
  assert.deepEqual(await mcp.call('auth_delete_user', { ref: a.ref, id: user.id }), { id: user.id, deleted: true });
  assert.equal((await mcp.call('auth_list_users', { ref: a.ref })).users.length, 0);

  await mcp.call('storage_create_bucket', { ref: a.ref, id: 'docs', public: false });
  assert.ok((await mcp.call<any[]>('storage_list_buckets', { ref: a.ref })).some((x) => x.id === 'docs'));
  await mcp.call('storage_upload_object', { ref: a.ref, bucket: 'docs', path: 'a/hello.txt', content: 'aGVsbG8=', encoding: 'base64', content_type: 'text/plain' });
  const objs = await mcp.call<any[]>('storage_list_objects', { ref: a.ref, bucket: 'docs', prefix: 'a' });
  assert.deepEqual(objs.map((o) => o.name), ['hello.txt']);
  assert.equal(objs[0].metadata.size, 5);
  assert.match(await mcp.fail('storage_list_objects', { ref: a.ref, bucket: 'nope' }), /not found/i);
  assert.deepEqual((await mcp.call<any[]>('storage_delete_objects', { ref: a.ref, bucket: 'docs', paths: ['a/hello.txt', 'a/absent.txt'] })).map((o) => o.name), ['a/hello.txt']);
  assert.deepEqual(await mcp.call('storage_list_objects', { ref: a.ref, bucket: 'docs', prefix: 'a' }), []);
  assert.deepEqual(await mcp.call('storage_list_buckets', { ref: b.ref }), [], 'project B sees none of A');
});

test('resources: docs and the project schema', async () => {
  const { resources } = await mcp.client.listResources();
  assert.ok(resources.some((r) => r.uri === 'basalt://docs'));
  assert.ok(resources.some((r) => r.uri === `basalt://projects/${a.ref}/schema`));
  const docs = await mcp.client.readResource({ uri: 'basalt://docs' });
  assert.match((docs.contents[0] as { text: string }).text, /apply_migration/);
  const schema = JSON.parse(((await mcp.client.readResource({ uri: `basalt://projects/${a.ref}/schema` })).contents[0] as { text: string }).text);
  assert.ok(schema.tables.some((t: any) => t.name === 'secrets' && t.rls_enabled && t.policies[0].name === 'meta'));
});

test('a scoped token sees only its projects', async () => {
  const { token } = await platform('/tokens', { method: 'POST', json: { name: 'mcp-scoped', projects: [b.ref] } });
  const scoped = await connectMcp(token);
  try {
    assert.deepEqual((await scoped.call<any[]>('list_projects')).map((p) => p.ref), [b.ref]);
    assert.match(await scoped.fail('execute_sql', { ref: a.ref, query: 'select 1' }), /no access to project/);
    assert.match(await scoped.fail('get_project_keys', { ref: a.ref }), /no access/);
    assert.match(await scoped.fail('delete_project', { ref: a.ref, confirm: a.ref }), /no access/);
    assert.match(await scoped.fail('create_project', { name: 'x' }), /no access/);
    assert.match(await scoped.fail('list_tables', { ref: a.ref }), /no access/);
    await assert.rejects(scoped.client.readResource({ uri: `basalt://projects/${a.ref}/schema` }), /no access/);
    assert.deepEqual(await scoped.call('execute_sql', { ref: b.ref, query: 'select 1 as x' }), [{ x: 1 }]);
  } finally {
    await scoped.close();
  }
});

test('read-only mode refuses every writing tool (query or header)', async () => {
  for (const opts of [{ query: '?read_only=true' }, { headers: { 'x-mcp-read-only': 'true' } }]) {
    const ro = await connectMcp(env.platformToken, opts);
    try {
      assert.match(await ro.fail('create_project', { name: 'nope' }), /read-only/);
      assert.ok(!(await mcp.call<any[]>('list_projects')).some((p) => p.name === 'nope'), 'no project was created');
      assert.match(await ro.fail('apply_migration', { ref: a.ref, name: 'ro', query: 'create table ro (x int)' }), /read-only/);
      assert.match(await ro.fail('delete_project', { ref: b.ref, confirm: b.ref }), /read-only/);
      assert.match(await ro.fail('execute_sql', { ref: a.ref, query: 'create table ro (x int)' }), /read-only transaction/);
      for (const escape of ['set transaction read write', 'set default_transaction_read_only = off; create table ro (x int)', 'commit; create table ro (x int)']) {
        assert.match(await ro.fail('execute_sql', { ref: a.ref, query: escape }), /read-only|multiple commands|before any query/, escape);
      }
      assert.deepEqual(await mcp.call('execute_sql', { ref: a.ref, query: "select to_regclass('public.ro') as t" }), [{ t: null }]);
      assert.deepEqual(await ro.call('execute_sql', { ref: a.ref, query: 'select count(*)::int as n from public.books' }), [{ n: 0 }]);
      const { tools } = await ro.client.listTools();
      assert.equal(tools.find((t) => t.name === 'apply_migration')!.annotations?.readOnlyHint, false);
    } finally {
      await ro.close();
    }
  }
  assert.ok((await mcp.call<any[]>('list_projects')).some((p) => p.ref === b.ref), 'nothing was deleted');
});

test('without a valid platform token /mcp is 401', async () => {
  await assert.rejects(connectMcp('bsp_not_a_real_token_at_all_000'), /unauthorized/);
  const res = await fetch(`${env.gatewayUrl}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(res.status, 401);
  const get = await fetch(`${env.gatewayUrl}/mcp`, { headers: { authorization: `Bearer ${env.platformToken}`, accept: 'text/event-stream' } });
  assert.equal(get.status, 405);
});
