// Cron through the gateway: auth, validation, a db function every second, history, pause/resume without a
// catch-up burst, failures and timeouts, project isolation, and three scheduler replicas never running a slot twice.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, ROOT, waitForHealth } from '@basalt/fleet';
import { createProject, eventually, platform, testEnv, type TestProject } from '@basalt/testkit';

const env = testEnv();
let a: TestProject;
let b: TestProject;

before(async () => {
  [a, b] = await Promise.all([createProject('cron-a'), createProject('cron-b')]);
  for (const p of [a, b]) {
    await p.sql(`create table ticks (id bigint generated always as identity primary key, note text, at timestamptz default now());
      create function tick(note text) returns void language sql as $$ insert into ticks (note) values (note) $$;
      create function boom() returns void language plpgsql as $$ begin raise exception 'kaboom'; end $$;
      create function slow() returns void language sql as $$ select pg_sleep(3) $$;`);
  }
});

async function cron(p: TestProject, path: string, init: { method?: string; json?: unknown; key?: string } = {}) {
  const key = init.key ?? p.serviceKey;
  const r = await fetch(`${p.url}/cron/admin/v1${path}`, {
    method: init.method ?? 'GET',
    headers: { apikey: key, authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: init.json !== undefined ? JSON.stringify(init.json) : undefined,
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

const job = (name: string, target: unknown, schedule = '* * * * * *', timeout_ms?: number) => ({ name, schedule, target, ...(timeout_ms ? { timeout_ms } : {}) });
const runs = async (p: TestProject, id: string) => (await cron(p, `/jobs/${id}/runs`)).body as { status: string; scheduled_at: string; started_at: string | null; duration_ms: number | null; error: string | null }[];

test('only the service_role key or a platform token may manage jobs', async () => {
  const list = await cron(a, '/jobs');
  assert.equal(list.status, 200);
  assert.equal((await cron(a, '/jobs', { key: a.anonKey })).status, 403);
  assert.equal((await cron(a, '/jobs', { key: a.token({ sub: '00000000-0000-0000-0000-000000000001' }) })).status, 403);
  const viaPlatform = await fetch(`${a.url}/cron/admin/v1/jobs`, { headers: { authorization: `Bearer ${env.platformToken}` } });
  assert.equal(viaPlatform.status, 200);
  const noKey = await fetch(`${a.url}/cron/admin/v1/jobs`);
  assert.equal(noKey.status, 401);
});

test('bad input is a 400 naming the problem, and nothing is created', async () => {
  const cases: [string, unknown, RegExp][] = [
    ['bad crontab', job('x', { type: 'db_function', name: 'tick' }, '61 * * * *'), /Invalid crontab/],
    ['4 fields', job('x', { type: 'db_function', name: 'tick' }, '* * * *'), /Invalid crontab/],
    ['unknown target', job('x', { type: 'http', url: 'http://x' }), /target/],
    ['injection in name', job('x', { type: 'db_function', name: 'tick(); drop table ticks; --' }), /function name/],
    ['injection in arg', job('x', { type: 'db_function', name: 'tick', args: { 'note => 1); drop table ticks; --': 1 } }), /identifiers/],
    ['timeout too small', job('x', { type: 'db_function', name: 'tick' }, '* * * * *', 5), /timeout_ms/],
  ];
  for (const [name, body, message] of cases) {
    const r = await cron(a, '/jobs', { method: 'POST', json: body });
    assert.equal(r.status, 400, name);
    assert.match(r.body.message, message, name);
  }
  assert.deepEqual((await cron(a, '/jobs')).body, []);
});

test('a db function every second runs once per slot with its arguments, and keeps a history', async () => {
  const created = await cron(a, '/jobs', { method: 'POST', json: job('tick-every-second', { type: 'db_function', name: 'tick', args: { note: 'hello' } }) });
  assert.equal(created.status, 201);
  const id = created.body.id;
  await eventually(async () => (await runs(a, id)).filter((r) => r.status === 'succeeded').length >= 3, 8_000, 200);
  // runs are claimed up to two ticks ahead of their slot, and must still not start before it
  const early = (await runs(a, id)).filter((r) => r.started_at !== null && new Date(r.started_at) < new Date(r.scheduled_at));
  assert.deepEqual(early, [], 'no run starts before its slot');
  await cron(a, `/jobs/${id}`, { method: 'DELETE' });
  await new Promise((r) => setTimeout(r, 300));
  const gone = await cron(a, `/jobs/${id}/runs`);
  assert.equal(gone.status, 404, 'history goes with the job');
  const [{ count }] = await a.sql<{ count: string }>(`select count(*) from ticks`);
  assert.ok(Number(count) >= 3);
  const rows = await a.sql<{ note: string }>('select note from ticks');
  assert.ok(rows.length >= 3 && rows.every((r) => r.note === 'hello'));
});

test('runs record failures and timeouts with their error', async () => {
  const failing = (await cron(a, '/jobs', { method: 'POST', json: job('boom', { type: 'db_function', name: 'boom' }) })).body.id;
  const slow = (await cron(a, '/jobs', { method: 'POST', json: job('slow', { type: 'db_function', name: 'slow' }, '* * * * * *', 300) })).body.id;
  const failed = await eventually<{ error: string | null } | undefined>(async () => (await runs(a, failing)).find((r) => r.status === 'failed'), 6_000, 200);
  assert.match(failed!.error!, /kaboom/);
  const timedOut = await eventually<{ error: string | null; duration_ms: number | null } | undefined>(async () => (await runs(a, slow)).find((r) => r.status === 'timed_out'), 6_000, 200);
  assert.match(timedOut!.error!, /timed out/);
  assert.ok(timedOut!.duration_ms! >= 250 && timedOut!.duration_ms! < 2_000);
  for (const id of [failing, slow]) await cron(a, `/jobs/${id}`, { method: 'DELETE' });
});

test("a job's timeout_ms is capped by the plan's statement_timeout_ms, and the run says so", async () => {
  const capped = await createProject('cron-capped');
  await capped.sql('create function slow() returns void language sql as $$ select pg_sleep(3) $$');
  const plan = `cron-cap-${capped.ref.slice(0, 6)}`;
  await platform(`/plans/${plan}`, { method: 'PUT', json: { quotas: { statement_timeout_ms: 300 } } });
  await platform(`/projects/${capped.ref}`, { method: 'PATCH', json: { plan } });
  try {
    const id = (await cron(capped, '/jobs', { method: 'POST', json: job('slow', { type: 'db_function', name: 'slow' }, '* * * * * *', 30_000) })).body.id;
    const timedOut = await eventually<{ error: string | null; duration_ms: number | null } | undefined>(async () => (await runs(capped, id)).find((r) => r.status === 'timed_out'), 8_000, 200);
    assert.match(timedOut!.error!, /timed out after 300 ms \(the project's plan caps statements at statement_timeout_ms 300\)/);
    assert.ok(timedOut!.duration_ms! >= 250 && timedOut!.duration_ms! < 2_000, String(timedOut!.duration_ms));
    await cron(capped, `/jobs/${id}`, { method: 'DELETE' });
  } finally {
    await platform(`/projects/${capped.ref}`, { method: 'PATCH', json: { plan: 'unlimited' } });
    await platform(`/plans/${plan}`, { method: 'DELETE' });
  }
});

test('a cron call to an edge function carries the anon role; the service role only reaches a function that opted in', async () => {
  // RLS is on and there is no policy: only the service role can read the vault.
  await a.sql(`create table vault (secret text); insert into vault values ('s3cret')`);
  const source = `Deno.serve(async (req) => {
    const r = await fetch(Deno.env.get('SUPABASE_URL') + '/rest/v1/vault?select=secret', {
      headers: { apikey: req.headers.get('apikey'), authorization: req.headers.get('authorization') },
    });
    const rows = await r.json();
    return new Response(JSON.stringify(rows), { status: Array.isArray(rows) && rows.length === 1 ? 200 : 403 });
  })`;
  for (const [slug, allow] of [['peek', false], ['peek-privileged', true]] as const) {
    await platform(`/projects/${a.ref}/functions`, { method: 'POST', json: { slug, source, allow_service_role: allow } });
  }
  const plain = (await cron(a, '/jobs', { method: 'POST', json: job('peek', { type: 'edge_function', slug: 'peek' }) })).body.id;
  const privileged = (await cron(a, '/jobs', { method: 'POST', json: job('peek-privileged', { type: 'edge_function', slug: 'peek-privileged' }) })).body.id;
  const denied = await eventually(async () => (await runs(a, plain)).find((r) => r.status !== 'queued' && r.status !== 'running'), 8_000, 200);
  assert.equal(denied!.status, 'failed');
  assert.match(denied!.error!, /answered 403: \[\]/, 'the anon role sees no row');
  const allowed = await eventually(async () => (await runs(a, privileged)).find((r) => r.status !== 'queued' && r.status !== 'running'), 8_000, 200);
  assert.equal(allowed!.status, 'succeeded', allowed!.error ?? '');
  for (const id of [plain, privileged]) await cron(a, `/jobs/${id}`, { method: 'DELETE' });
});

test('pause stops runs; resume starts from now without a burst of missed slots', async () => {
  const id = (await cron(a, '/jobs', { method: 'POST', json: job('pausable', { type: 'db_function', name: 'tick', args: { note: 'p' } }) })).body.id;
  await eventually(async () => (await runs(a, id)).length >= 1, 5_000, 100);
  const paused = await cron(a, `/jobs/${id}/pause`, { method: 'POST' });
  assert.equal(paused.body.paused, true);
  await new Promise((r) => setTimeout(r, 600)); // a run already claimed may still finish
  const atPause = (await runs(a, id)).length;
  await new Promise((r) => setTimeout(r, 3_000));
  assert.equal((await runs(a, id)).length, atPause, 'no runs while paused');
  const resumedAt = Date.now();
  const resumed = await cron(a, `/jobs/${id}/resume`, { method: 'POST' });
  assert.ok(new Date(resumed.body.next_run_at).getTime() > resumedAt - 1000);
  await new Promise((r) => setTimeout(r, 1_500));
  const afterResume = (await runs(a, id)).filter((r) => new Date(r.scheduled_at).getTime() >= resumedAt - 1000);
  assert.ok(afterResume.length >= 1 && afterResume.length <= 2, `${afterResume.length} runs in 1.5 s after resume`);
  await cron(a, `/jobs/${id}`, { method: 'DELETE' });
});

test('runs a stopped worker left running are settled from their receipts in the project database', async () => {
  // a job that never fires by itself; its runs are made here as a worker killed mid-batch leaves them
  const id = (await cron(a, '/jobs', { method: 'POST', json: job('stranded', { type: 'db_function', name: 'tick', args: { note: 'x' } }, '0 0 1 1 *', 1_000) })).body.id;
  const control = new pg.Client({ connectionString: env.databaseUrl });
  await control.connect();
  try {
    // started 10 s and 40 s ago: the job's timeout (1 s) plus the sweep's grace (30 s) is 31 s
    const { rows } = await control.query<{ id: string; scheduled_at: string }>(
      `insert into platform.cron_runs (job_id, scheduled_at, status, started_at)
       select $1, date_trunc('second', now()) - make_interval(secs => n), 'running', now() - make_interval(secs => s)
         from (values (100, 10), (101, 10), (102, 40), (103, 40)) as v(n, s) order by n returning id::text, scheduled_at::text`,
      [id],
    );
    const [committedRecently, inFlight, committedLongAgo, lost] = rows.map((r) => r.id);
    // the receipts the runs' own transactions would have written as they committed
    await a.sql(`insert into basalt.cron_receipts (job_id, scheduled_at, committed_at) values
      ('${id}', '${rows[0].scheduled_at}', now() - interval '9 s'), ('${id}', '${rows[2].scheduled_at}', now() - interval '39 s')`);
    const statusOf = async () => {
      const r = await control.query<{ id: string; status: string; error: string | null; duration_ms: number | null }>(
        'select id::text, status, error, duration_ms from platform.cron_runs where id = any($1::bigint[])', [rows.map((x) => x.id)]);
      return new Map(r.rows.map((x) => [x.id, x]));
    };
    const settled = await eventually(async () => {
      const now = await statusOf();
      return now.get(committedRecently)!.status !== 'running' && now.get(lost)!.status !== 'running' ? now : undefined;
    }, 12_000, 250);
    assert.equal(settled!.get(committedRecently)!.status, 'succeeded', 'its receipt says it committed: succeeded, though still within its grace');
    assert.ok(Math.abs(settled!.get(committedRecently)!.duration_ms! - 1_000) < 500, `its duration runs to the receipt (${settled!.get(committedRecently)!.duration_ms} ms)`);
    assert.equal(settled!.get(committedLongAgo)!.status, 'succeeded');
    assert.deepEqual([settled!.get(lost)!.status, settled!.get(lost)!.error], ['timed_out', 'worker stopped before the run finished'], 'no receipt, past its timeout');
    assert.equal(settled!.get(inFlight)!.status, 'running', 'no receipt yet, within its timeout: its worker may still be on it');
  } finally {
    await control.end();
    await cron(a, `/jobs/${id}`, { method: 'DELETE' });
  }
});

test("project B's service key cannot see or change project A's jobs", async () => {
  const id = (await cron(a, '/jobs', { method: 'POST', json: job('private', { type: 'db_function', name: 'tick' }, '0 0 1 1 *') })).body.id;
  assert.equal((await cron(a, '/jobs', { key: b.serviceKey })).status, 401, "B's key on A's URL");
  assert.equal((await cron(b, `/jobs/${id}`)).status, 404, "A's job id on B's URL");
  assert.equal((await cron(b, `/jobs/${id}/pause`, { method: 'POST' })).status, 404);
  assert.equal((await cron(b, `/jobs/${id}`, { method: 'DELETE' })).status, 404);
  assert.deepEqual((await cron(b, '/jobs')).body, []);
  assert.equal((await cron(a, `/jobs/${id}`)).body.paused, false);
});

let extra: ChildProcess[] = [];
after(() => extra.forEach((c) => c.kill('SIGTERM')));

test('three scheduler replicas for 10 s: every slot runs exactly once', async () => {
  const ports = [await freePort(), await freePort()];
  extra = ports.map((port) =>
    spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'services/scheduler/src/main.ts')], {
      env: { ...process.env, ...env.fleetEnv, PORT: String(port), LOG_LEVEL: 'warn', CRON_TICK_MS: '100' },
      stdio: ['ignore', 'inherit', 'inherit'],
    }),
  );
  await Promise.all(ports.map((port, i) => waitForHealth(`http://127.0.0.1:${port}`, 30_000, extra[i])));
  await b.sql('truncate ticks');
  const ids: string[] = [];
  for (const n of [1, 2, 3]) ids.push((await cron(b, '/jobs', { method: 'POST', json: job(`replica-${n}`, { type: 'db_function', name: 'tick', args: { note: `job${n}` } }) })).body.id);
  await new Promise((r) => setTimeout(r, 10_000));
  for (const id of ids) await cron(b, `/jobs/${id}/pause`, { method: 'POST' });
  await new Promise((r) => setTimeout(r, 1_500));
  for (const [i, id] of ids.entries()) {
    const history = await runs(b, id);
    const slots = history.map((r) => r.scheduled_at);
    assert.equal(new Set(slots).size, slots.length, 'one run per slot');
    assert.ok(history.length >= 8 && history.length <= 12, `${history.length} runs in 10 s`);
    assert.ok(history.every((r) => r.status === 'succeeded'), JSON.stringify(history.filter((r) => r.status !== 'succeeded')));
    const [{ count }] = await b.sql<{ count: string }>(`select count(*) from ticks where note = 'job${i + 1}'`);
    assert.equal(Number(count), history.length, 'each run had its effect exactly once');
  }
});
