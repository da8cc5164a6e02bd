// Backups and restore through the gateway with supabase-js: a project with tables, rows, an RLS policy, a user and
// a stored object is backed up, changed, and restored into itself and into another project; rows, sign-in, policies,
// ownership and object bytes come back. Then the refusals (unknown or foreign backup ids, a busy project) and the
// schedule (nightly, retention, abandoned jobs) driven in this process against the same control database.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import pg from 'pg';
import { SecretBox } from '@basalt/crypto';
import { createLogger } from '@basalt/http';
import { FsObjectStore } from '@basalt/object-store';
import { ProjectRegistry } from '@basalt/tenancy';
import { createProject, eventually, platform, supabaseClient, testEnv, type TestProject } from '@basalt/testkit';
import { loadConfig } from '../src/config.js';
import { backupsFor } from '../src/domain/backups.js';

const env = testEnv();
const control = new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
const email = `backup-${randomBytes(4).toString('hex')}@app.test`;
const password = 'backup-pass-1';
const bytes = randomBytes(200_000);
let a: TestProject;
let b: TestProject;
let backupId: string;

after(() => control.end());

const raw = (path: string, init: { method?: string; json?: unknown } = {}) =>
  fetch(`${env.gatewayUrl}/platform/v1${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${env.platformToken}`, ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: init.json !== undefined ? JSON.stringify(init.json) : undefined,
  });

async function finished<T extends { status: string }>(path: string): Promise<T> {
  const job = await eventually(async () => {
    const j = await platform<T>(path);
    return j.status === 'done' || j.status === 'failed' ? j : false;
  }, 120_000, 250) as T;
  assert.equal(job.status, 'done', JSON.stringify(job));
  return job;
}

async function restore(target?: TestProject) {
  const r = await raw(`/projects/${a.ref}/backups/${backupId}/restore`, { method: 'POST', json: target ? { target_ref: target.ref } : {} });
  const body = (await r.json()) as { id: string; status: string; target_ref: string };
  assert.equal(r.status, 202, JSON.stringify(body));
  assert.equal(body.target_ref, (target ?? a).ref);
  return finished(`/projects/${a.ref}/backups/${backupId}/restores/${body.id}`);
}

// Owners, grants, RLS flags, policies, default privileges and security-definer functions of everything outside the
// system schemas: a restore must bring back the same, whichever project it lands in.
const CATALOG = `
  select 'rel' as k, c.oid::regclass::text as name, pg_get_userbyid(c.relowner) as owner, acl(c.relacl) as acl,
         c.relrowsecurity::text as extra
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname !~ '^(pg_|information_schema)' and c.relkind in ('r', 'v', 'm', 'S', 'p', 'f')
  union all
  select 'fn', p.oid::regprocedure::text, pg_get_userbyid(p.proowner), acl(p.proacl), p.prosecdef::text
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname !~ '^(pg_|information_schema)'
  union all
  select 'schema', nspname, pg_get_userbyid(nspowner), acl(nspacl), '' from pg_namespace where nspname !~ '^(pg_|information_schema)'
  union all
  select 'policy', polrelid::regclass::text || '.' || polname, '', polroles::regrole[]::text, coalesce(pg_get_expr(polqual, polrelid), '')
    from pg_policy
  union all
  select 'default acl', pg_get_userbyid(defaclrole) || coalesce('/' || defaclnamespace::regnamespace::text, ''), '', acl(defaclacl), defaclobjtype::text
    from pg_default_acl
  union all
  select 'publication', pubname, pg_get_userbyid(pubowner), '', '' from pg_publication
  order by 1, 2, 3, 4, 5`;
// ACL items in a stable order: a restore may list the same grants in another order
const catalog = (p: TestProject) =>
  p.sql(CATALOG.replace(/acl\(([a-z.]+)\)/g, `coalesce((select string_agg(x::text, ',' order by x::text) from unnest($1) x), '')`));
let catalogBefore: unknown[];

/** What a project should hold after a restore of the backup: the user signs in and reads their notes under RLS. */
async function assertRestored(p: TestProject) {
  assert.deepEqual(await catalog(p), catalogBefore, 'owners, grants and policies are as they were');
  const client = supabaseClient(p);
  const signIn = await client.auth.signInWithPassword({ email, password });
  assert.equal(signIn.error, null, `the user signs in to ${p.ref}`);
  const asUser = supabaseClient(p, { accessToken: signIn.data.session!.access_token });
  const notes = await asUser.from('notes').select('body').order('id');
  assert.equal(notes.error, null);
  assert.deepEqual(notes.data?.map((n) => n.body), ['mine 1', 'mine 2']);
  // the policy came back with the rows: anon sees none, the service role sees everyone's
  assert.deepEqual((await supabaseClient(p).from('notes').select('body')).data, []);
  assert.equal((await supabaseClient(p, { key: p.serviceKey }).from('notes').select('body')).data?.length, 3);
  assert.deepEqual((await supabaseClient(p).from('tags').select('name').order('name')).data, [{ name: 'a' }, { name: 'b' }]);
  const file = await supabaseClient(p, { key: p.serviceKey }).storage.from('docs').download('folder/data.bin');
  assert.equal(file.error, null);
  assert.ok(Buffer.from(await file.data!.arrayBuffer()).equals(bytes), 'the object downloads with the same bytes');
  // the project's owner still owns its tables (it can change them) and new tables still start with RLS on
  const [owner] = await p.sql<{ tableowner: string }>(`select tableowner from pg_tables where tablename = 'notes'`);
  assert.equal(owner.tableowner, 'basalt_admin');
  const [rls] = await p.sql<{ relrowsecurity: boolean }>(
    `alter table notes add column if not exists extra text; create table if not exists after_restore (id int);
     select relrowsecurity from pg_class where relname = 'after_restore'`);
  assert.equal(rls.relrowsecurity, true);
}

before(async () => {
  [a, b] = await Promise.all([createProject('backups-a'), createProject('backups-b')]);
  const service = supabaseClient(a, { key: a.serviceKey });
  const user = await service.auth.admin.createUser({ email, password, email_confirm: true });
  assert.equal(user.error, null);
  await a.sql(`create table notes (id bigint generated always as identity primary key, owner uuid not null, body text not null);
    create policy own_notes on notes for all to authenticated using (owner = auth.uid()) with check (owner = auth.uid());
    create table tags (name text primary key); create policy read_tags on tags for select to anon using (true);
    insert into tags values ('a'), ('b');
    insert into notes (owner, body) values (gen_random_uuid(), 'someone else''s')`);
  const signIn = await supabaseClient(a).auth.signInWithPassword({ email, password });
  const asUser = supabaseClient(a, { accessToken: signIn.data.session!.access_token });
  for (const body of ['mine 1', 'mine 2']) assert.equal((await asUser.from('notes').insert({ owner: user.data.user!.id, body })).error, null);
  assert.equal((await service.storage.createBucket('docs', { public: false })).error, null);
  assert.equal((await service.storage.from('docs').upload('folder/data.bin', bytes, { contentType: 'application/octet-stream' })).error, null);
  catalogBefore = await catalog(a);
});

test('POST …/backups answers 202 and the backup completes with its sizes', async () => {
  const r = await raw(`/projects/${a.ref}/backups`, { method: 'POST' });
  const started = (await r.json()) as { id: string; status: string; kind: string };
  assert.equal(r.status, 202, JSON.stringify(started));
  assert.equal(started.status, 'pending');
  assert.equal(started.kind, 'manual');
  backupId = started.id;
  const done = await finished<{ status: string; db_bytes: number; object_bytes: number; object_count: number; location: string }>(`/projects/${a.ref}/backups/${backupId}`);
  assert.ok(done.db_bytes > 1000, `db_bytes ${done.db_bytes}`);
  assert.equal(done.object_count, 1);
  assert.equal(done.object_bytes, bytes.length);
  const list = await platform<{ id: string }[]>(`/projects/${a.ref}/backups`);
  assert.deepEqual(list.map((x) => x.id), [backupId]);
});

test('a restore into the same project brings back rows, tables, the user and the object bytes', async () => {
  const service = supabaseClient(a, { key: a.serviceKey });
  await a.sql(`delete from notes; drop table tags; create table scratch (x int)`);
  const { data: users } = await service.auth.admin.listUsers();
  for (const u of users.users) assert.equal((await service.auth.admin.deleteUser(u.id)).error, null);
  assert.equal((await service.storage.from('docs').remove(['folder/data.bin'])).error, null);
  assert.equal((await service.storage.from('docs').upload('later.txt', 'written after the backup')).error, null);
  assert.ok((await supabaseClient(a).auth.signInWithPassword({ email, password })).error, 'the user is gone before the restore');

  await restore();
  await assertRestored(a);
  assert.deepEqual(await a.sql(`select to_regclass('public.scratch') as t`), [{ t: null }], 'what came after the backup is gone');
  const listed = await service.storage.from('docs').list('');
  assert.deepEqual(listed.data?.map((o) => o.name).sort(), ['folder']);
  // the project's keys are its own as before: the anon key still reads
  assert.equal((await supabaseClient(a).from('tags').select('name')).error, null);
});

test('a restore into another project gives it the data under its own keys and roles', async () => {
  await b.sql('create table mine_only (x int)');
  await restore(b);
  await assertRestored(b);
  assert.deepEqual(await b.sql(`select to_regclass('public.mine_only') as t`), [{ t: null }]);
  const [db] = await b.sql<{ db: string }>('select current_database() as db');
  assert.equal(db.db, `proj_${b.ref}`);
  // a token of the source project is no key to the target
  const foreign = await supabaseClient(b, { key: a.anonKey }).from('tags').select('name');
  assert.ok(foreign.error, 'the source project\'s anon key is refused by the target');
});

test('unknown, malformed and other projects\' backup ids are 404 in the platform shape', async () => {
  const cases = [
    { name: 'unknown id', path: `/projects/${a.ref}/backups/00000000-0000-4000-8000-000000000000`, code: 'backup_not_found' },
    { name: 'malformed id', path: `/projects/${a.ref}/backups/nope`, code: 'backup_not_found' },
    { name: 'another project\'s backup', path: `/projects/${b.ref}/backups/${backupId}`, code: 'backup_not_found' },
    { name: 'restore of another project\'s backup', path: `/projects/${b.ref}/backups/${backupId}/restore`, method: 'POST', json: {}, code: 'backup_not_found' },
    { name: 'unknown restore', path: `/projects/${a.ref}/backups/${backupId}/restores/00000000-0000-4000-8000-000000000000`, code: 'restore_not_found' },
    { name: 'restore into an unknown project', path: `/projects/${a.ref}/backups/${backupId}/restore`, method: 'POST', json: { target_ref: 'zzzzzzzzzzzzzzzzzzzz' }, code: 'project_not_found' },
  ];
  for (const c of cases) {
    const r = await raw(c.path, { method: c.method, json: c.json });
    const body = (await r.json()) as { code: string; message: string };
    assert.equal(r.status, 404, `${c.name}: ${JSON.stringify(body)}`);
    assert.equal(body.code, c.code, c.name);
  }
  const bad = await raw(`/projects/${a.ref}/backups/${backupId}/restore`, { method: 'POST', json: { target_ref: 'x', extra: 1 } });
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { code: string }).code, 'validation_failed');
});

test('a project with a backup under way refuses another backup and a restore into it (409), and a failed backup is not restorable', async () => {
  const { rows: [busy] } = await control.query<{ id: string }>(
    `insert into platform.backups (ref, kind, status) values ($1, 'manual', 'running') returning id`, [b.ref]);
  try {
    const again = await raw(`/projects/${b.ref}/backups`, { method: 'POST' });
    assert.equal(again.status, 409);
    assert.equal(((await again.json()) as { code: string }).code, 'backup_in_progress');
    const into = await raw(`/projects/${a.ref}/backups/${backupId}/restore`, { method: 'POST', json: { target_ref: b.ref } });
    assert.equal(into.status, 409);
    assert.equal(((await into.json()) as { code: string }).code, 'backup_in_progress');
  } finally {
    await control.query('delete from platform.backups where id = $1', [busy.id]);
  }
  const { rows: [failed] } = await control.query<{ id: string }>(
    `insert into platform.backups (ref, kind, status, error, finished_at) values ($1, 'manual', 'failed', 'test', now()) returning id`, [a.ref]);
  const r = await raw(`/projects/${a.ref}/backups/${failed.id}/restore`, { method: 'POST', json: {} });
  assert.equal(r.status, 409);
  assert.equal(((await r.json()) as { code: string }).code, 'backup_not_ready');
  await control.query('delete from platform.backups where id = $1', [failed.id]);
});

test('the schedule: one nightly backup per project per night, retention by age, abandoned jobs failed', async () => {
  const config = loadConfig({ ...env.fleetEnv, BACKUP_NIGHTLY_HOUR_UTC: '3', LOG_LEVEL: 'silent' });
  const secrets = new SecretBox(env.masterKey);
  const redis = new Redis(env.redisUrl, { lazyConnect: true });
  const registry = new ProjectRegistry({ control, secrets });
  const backups = backupsFor({ config, control, redis, registry, secrets, log: createLogger('backups-test', 'silent') });
  try {
    assert.equal(await backups.schedule.startNightly(new Date(), [a.ref]), 1);
    const nightly = await eventually(async () => (await platform<{ id: string; kind: string; status: string }[]>(`/projects/${a.ref}/backups`))
      .find((x) => x.kind === 'nightly' && x.status === 'done') ?? false, 120_000, 250) as { id: string };
    assert.equal(await backups.schedule.startNightly(new Date(), [a.ref]), 0, 'one per night');

    // past the default retention (7 days; the unlimited plan names none) it is deleted with its files
    const store = new FsObjectStore(config.STORAGE_FS_ROOT);
    const manifest = store.path(`backups/${a.ref}/${nightly.id}/manifest`);
    assert.ok(existsSync(manifest));
    await control.query(`update platform.backups set created_at = now() - interval '8 days' where id = $1`, [nightly.id]);
    await backups.schedule.prune(new Date());
    assert.equal((await raw(`/projects/${a.ref}/backups/${nightly.id}`)).status, 404);
    assert.equal(existsSync(manifest), false);
    assert.equal((await raw(`/projects/${a.ref}/backups/${backupId}`)).status, 200, 'a recent backup stays');

    // a job whose replica stopped beating is failed, which frees the project
    const { rows: [stale] } = await control.query<{ id: string }>(
      `insert into platform.backups (ref, kind, status, heartbeat_at) values ($1, 'manual', 'running', now() - interval '1 hour') returning id`, [b.ref]);
    await backups.schedule.failAbandoned();
    const { rows: [row] } = await control.query('select status, error from platform.backups where id = $1', [stale.id]);
    assert.equal(row.status, 'failed');
    assert.match(row.error, /interrupted/);
    await control.query('delete from platform.backups where id = $1', [stale.id]);
  } finally {
    await backups.stop();
    redis.disconnect();
  }
});
