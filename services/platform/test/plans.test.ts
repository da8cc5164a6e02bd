// Plans through the gateway: GET/PUT/DELETE /platform/v1/plans (operator tokens only), PATCH /projects/{ref} {plan},
// and quotas that apply at once without a restart: statement_timeout_ms through REST (supabase-js), the login
// role's connection limit and timeout, and db_bytes turning the database read-only and back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createProject, eventually, platform, supabaseClient, testEnv, type TestProject } from '@basalt/testkit';

const env = testEnv();
const QUOTAS = [
  'storage_bytes', 'db_bytes', 'max_object_bytes', 'db_connections', 'statement_timeout_ms', 'realtime_connections',
  'realtime_messages_per_second', 'fn_invocations_per_day', 'fn_cpu_ms', 'fn_wall_ms', 'ai_tokens_per_day', 'memory_count',
  'requests_per_second', 'backup_retention_days', 'sleep_after_s',
];
const plan = `t-${randomBytes(4).toString('hex')}`;
let p: TestProject;
let scoped: string;

const call = (path: string, init: { method?: string; json?: unknown; token?: string } = {}) =>
  fetch(`${env.gatewayUrl}/platform/v1${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${init.token ?? env.platformToken}`, 'content-type': 'application/json' },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });

async function cluster<T>(sql: string, params: unknown[]): Promise<T[]> {
  const c = new pg.Client({ connectionString: env.databaseUrl });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}

before(async () => {
  p = await createProject('plans');
  await p.sql(`create table notes (id bigint generated always as identity primary key, body text);
    create policy all_anon on notes for all to anon using (true) with check (true);
    create function slow(ms int) returns int language plpgsql volatile as $$ begin perform pg_sleep(ms / 1000.0); return ms; end $$;
    grant execute on function slow(int) to anon;
    insert into notes (body) values ('first')`);
  scoped = (await platform<{ token: string }>('/tokens', { method: 'POST', json: { name: 'plans-scoped', projects: [p.ref] } })).token;
});

after(async () => {
  await call(`/projects/${p.ref}`, { method: 'PATCH', json: { plan: 'unlimited' } });
  await call(`/plans/${plan}`, { method: 'DELETE' });
});

test('GET /plans lists the seeded plans with every quota by name, the default marked', async () => {
  const plans = await platform<{ name: string; default: boolean; quotas: Record<string, number | null> }[]>('/plans');
  const byName = new Map(plans.map((x) => [x.name, x]));
  for (const name of ['unlimited', 'free', 'pro', 'business']) {
    assert.deepEqual(Object.keys(byName.get(name)!.quotas).sort(), [...QUOTAS].sort(), name);
  }
  assert.equal(byName.get('free')!.quotas.db_bytes, 500 * 1024 * 1024);
  assert.equal(byName.get('free')!.quotas.max_object_bytes, 50 * 1024 * 1024);
  assert.equal(byName.get('pro')!.quotas.sleep_after_s, null);
  assert.ok(Object.values(byName.get('unlimited')!.quotas).every((v) => v === null));
  assert.equal(plans.filter((x) => x.default).length, 1);
  assert.equal((await platform(`/projects/${p.ref}`)).plan, plans.find((x) => x.default)!.name);
});

test('PUT /plans/{name} creates (201) then replaces (200); names not sent are unlimited', async () => {
  const created = await call(`/plans/${plan}`, { method: 'PUT', json: { quotas: { storage_bytes: 1000, ai_tokens_per_day: 5 } } });
  assert.equal(created.status, 201);
  const replaced = await call(`/plans/${plan}`, { method: 'PUT', json: { quotas: { ai_tokens_per_day: 10 } } });
  assert.equal(replaced.status, 200);
  const body = await replaced.json() as { quotas: Record<string, number | null> };
  assert.equal(body.quotas.ai_tokens_per_day, 10);
  assert.equal(body.quotas.storage_bytes, null);
  assert.equal((await platform(`/plans/${plan}`)).quotas.ai_tokens_per_day, 10);
});

const refusals: { name: string; path: string; method: string; json?: unknown; token?: () => string; status: number; code: string }[] = [
  { name: 'unknown quota', path: '/plans/x-bad', method: 'PUT', json: { quotas: { disk: 1 } }, status: 400, code: 'validation_failed' },
  { name: 'negative quota', path: '/plans/x-bad', method: 'PUT', json: { quotas: { db_bytes: -1 } }, status: 400, code: 'validation_failed' },
  { name: 'zero connections', path: '/plans/x-bad', method: 'PUT', json: { quotas: { db_connections: 0 } }, status: 400, code: 'validation_failed' },
  { name: 'bad plan name', path: '/plans/Bad%20Name', method: 'PUT', json: { quotas: {} }, status: 400, code: 'validation_failed' },
  { name: 'scoped token lists plans', path: '/plans', method: 'GET', token: () => scoped, status: 403, code: 'forbidden' },
  { name: 'scoped token edits a plan', path: '/plans/free', method: 'PUT', json: { quotas: {} }, token: () => scoped, status: 403, code: 'forbidden' },
  { name: 'unknown plan', path: '/plans/no-such-plan', method: 'GET', status: 404, code: 'plan_not_found' },
  { name: 'deleting a plan in use', path: '/plans/unlimited', method: 'DELETE', status: 409, code: 'plan_in_use' },
];
for (const r of refusals) {
  test(`plans: ${r.name} → ${r.status} ${r.code}`, async () => {
    const res = await call(r.path, { method: r.method, json: r.json, token: r.token?.() });
    assert.equal(res.status, r.status);
    assert.equal(((await res.json()) as { code: string }).code, r.code);
  });
}

test('PATCH {plan}: the owner (scoped token) may not change it, an unknown plan is 404, nothing else is written', async () => {
  const own = await call(`/projects/${p.ref}`, { method: 'PATCH', token: scoped, json: { plan: 'business' } });
  assert.equal(own.status, 403);
  const unknown = await call(`/projects/${p.ref}`, { method: 'PATCH', json: { plan: 'no-such-plan', name: 'renamed' } });
  assert.equal(unknown.status, 404);
  assert.equal(((await unknown.json()) as { code: string }).code, 'plan_not_found');
  assert.equal((await platform(`/projects/${p.ref}`)).name, 'plans');
  // the owner may still rename it
  assert.equal((await call(`/projects/${p.ref}`, { method: 'PATCH', token: scoped, json: { name: 'plans' } })).status, 200);
});

test('a plan change and a plan edit apply at once: REST statement timeout, role limits, db_bytes read-only and back', async () => {
  const supabase = supabaseClient(p);
  assert.equal((await supabase.rpc('slow', { ms: 1500 })).error, null);

  await platform(`/plans/${plan}`, { method: 'PUT', json: { quotas: { statement_timeout_ms: 500, db_connections: 7 } } });
  const moved = await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { plan } });
  assert.equal(moved.plan, plan);
  const role = `proj_${p.ref}_authenticator`;
  const [r] = await cluster<{ rolconnlimit: number; rolconfig: string[] | null }>('select rolconnlimit, rolconfig from pg_roles where rolname = $1', [role]);
  assert.equal(r.rolconnlimit, 7);
  assert.ok(r.rolconfig?.includes('statement_timeout=500ms'), String(r.rolconfig));
  const timedOut = (await eventually(async () => {
    const { error } = await supabase.rpc('slow', { ms: 1500 });
    return error?.code === '57014' ? error : null;
  }, 20_000, 200))!;
  assert.match(timedOut.message, /statement timeout/);

  // an edit of the plan reaches the project with no change to the project itself
  await platform(`/plans/${plan}`, { method: 'PUT', json: { quotas: { statement_timeout_ms: 10_000, db_bytes: 1 } } });
  await eventually(async () => (await supabase.rpc('slow', { ms: 1500 })).error === null, 20_000, 200);
  const refused = (await eventually(async () => {
    const { error } = await supabase.from('notes').insert({ body: 'over quota' });
    return error?.code === '25006' ? error : null;
  }, 20_000, 200))!;
  assert.match(refused.message, /read-only transaction/);
  assert.match(String(refused.details), /db_bytes/);
  const read = await supabase.from('notes').select('body');
  assert.equal(read.error, null);
  assert.deepEqual(read.data, [{ body: 'first' }]);
  const [limits] = await cluster<{ rolconnlimit: number; rolconfig: string[] | null }>('select rolconnlimit, rolconfig from pg_roles where rolname = $1', [role]);
  assert.equal(limits.rolconnlimit, 40, 'no db_connections: the platform default');

  await platform(`/plans/${plan}`, { method: 'PUT', json: { quotas: { db_bytes: 10 * 1024 * 1024 * 1024 } } });
  await eventually(async () => (await supabase.from('notes').insert({ body: 'under quota again' })).error === null, 20_000, 200);
  const { data } = await supabase.from('notes').select('body').order('id');
  assert.deepEqual(data, [{ body: 'first' }, { body: 'under quota again' }]);
});

test('DELETE /plans/{name} refuses the plan a project is on, then deletes it once none is', async () => {
  const other = `t-${randomBytes(4).toString('hex')}`;
  await platform(`/plans/${other}`, { method: 'PUT', json: { quotas: {} } });
  assert.equal((await call(`/plans/${other}`, { method: 'DELETE' })).status, 204);
  assert.equal((await call(`/plans/${other}`)).status, 404);
});
