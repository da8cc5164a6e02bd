// The plan's fn_invocations_per_day, fn_wall_ms and fn_cpu_ms through the gateway with supabase-js's
// functions.invoke: past the day's invocations a 429 naming the quota (X-RateLimit headers, Retry-After to the next
// UTC day); the plan's wall time caps a function's own timeout, its CPU time the runtime's watchdog (546); a plan
// change applies without a restart.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { FunctionsHttpError, FunctionsRelayError } from '@supabase/supabase-js';
import { createProject, eventually, platform, supabaseClient, testEnv, type TestProject } from '@basalt/testkit';

const env = testEnv();
const plan = `t-fn-${randomBytes(4).toString('hex')}`;
const cpuPlan = `t-cpu-${randomBytes(4).toString('hex')}`;
// ~0.6 s of CPU per 1e8 rounds here: inside the service's own 2 s watchdog, far over the plan's 200 ms
const SPIN_ROUNDS = 1.5e8;
let p: TestProject;

before(async () => {
  p = await createProject('fn-quota');
  await platform(`/projects/${p.ref}/functions`, {
    method: 'POST',
    json: {
      slug: 'nap', verify_jwt: true, timeout_ms: 20_000,
      source: `Deno.serve(async (req) => { const { ms } = await req.json(); await new Promise((r) => setTimeout(r, ms)); return Response.json({ slept: ms }); })`,
    },
  });
  // warmed up before the plan applies (a cold start on a loaded machine must not meet the plan's wall time)
  assert.equal((await supabaseClient(p).functions.invoke('nap', { body: { ms: 1 } })).error, null);
  await platform(`/plans/${plan}`, { method: 'PUT', json: { quotas: { fn_invocations_per_day: 3, fn_wall_ms: 2_500 } } });
  await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { plan } });
});

after(async () => {
  await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { plan: 'unlimited' } }).catch(() => undefined);
  for (const name of [plan, cpuPlan]) {
    await fetch(`${env.gatewayUrl}/platform/v1/plans/${name}`, { method: 'DELETE', headers: { authorization: `Bearer ${env.platformToken}` } });
  }
});

test('fn_wall_ms caps the function timeout; fn_invocations_per_day refuses past the day\'s count with 429 naming it', async () => {
  const fns = supabaseClient(p).functions;
  const quick = await fns.invoke('nap', { body: { ms: 10 } });
  assert.equal(quick.error, null);
  assert.deepEqual(quick.data, { slept: 10 });
  // 8 s is inside the function's own 20 s but over the plan's 2.5 s
  const slow = await fns.invoke('nap', { body: { ms: 8_000 } });
  // a timeout is the relay's error (x-relay-error), which functions-js reports as FunctionsRelayError
  assert.ok(slow.error instanceof FunctionsRelayError, String(slow.error));
  assert.equal((slow.error.context as Response).status, 504);
  assert.equal((await fns.invoke('nap', { body: { ms: 10 } })).error, null);

  const over = await fns.invoke('nap', { body: { ms: 10 } });
  assert.ok(over.error instanceof FunctionsHttpError, String(over.error));
  const res = over.error.context as Response;
  assert.equal(res.status, 429);
  assert.equal(res.headers.get('x-ratelimit-limit'), '3');
  assert.equal(res.headers.get('x-ratelimit-remaining'), '0');
  assert.ok(Number(res.headers.get('retry-after')) > 0);
  const body = await res.json() as { code: string; message: string };
  assert.equal(body.code, 'fn_invocations_per_day');
  assert.match(body.message, /3 function invocations/);
});

test('a plan change lifts the invocation quota at once', async () => {
  await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { plan: 'unlimited' } });
  await eventually(async () => (await supabaseClient(p).functions.invoke('nap', { body: { ms: 10 } })).error === null, 20_000, 200);
});

test('fn_cpu_ms lowers the CPU watchdog for that project: a 546 naming the plan\'s limit, and the same call passes once lifted', async () => {
  // workerd's clock stands still while code runs, so the function spins a fixed number of rounds, not a time
  await platform(`/projects/${p.ref}/functions`, {
    method: 'POST',
    json: {
      slug: 'spin', verify_jwt: true,
      source: `Deno.serve(async (req) => { const { rounds } = await req.json(); let x = 1; for (let i = 0; i < rounds; i++) x = (x * 1103515245 + 12345) | 0; return Response.json({ x }); })`,
    },
  });
  await platform(`/plans/${cpuPlan}`, { method: 'PUT', json: { quotas: { fn_cpu_ms: 200 } } });
  await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { plan: cpuPlan } });
  const fns = supabaseClient(p).functions;
  // loaded with a light call first, so the heavy one is measured against the running budget, not the compile one
  await eventually(async () => (await fns.invoke('spin', { body: { rounds: 1 } })).error === null, 20_000, 200);

  const stopped = await fns.invoke('spin', { body: { rounds: SPIN_ROUNDS } });
  assert.ok(stopped.error instanceof FunctionsRelayError, String(stopped.error));
  const res = stopped.error.context as Response;
  assert.equal(res.status, 546);
  assert.match(((await res.json()) as { message: string }).message, /CPU time limit of 200 ms/);
  assert.equal((await fns.invoke('spin', { body: { rounds: 1 } })).error, null, 'a light call still runs under the cap');

  await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { plan: 'unlimited' } });
  const passed = await eventually(async () => {
    const r = await fns.invoke('spin', { body: { rounds: SPIN_ROUNDS } });
    return r.error === null ? r.data : null;
  }, 30_000, 200);
  assert.equal(typeof (passed as { x: number }).x, 'number');
});
