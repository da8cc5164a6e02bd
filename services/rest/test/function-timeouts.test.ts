// A function's own `set statement_timeout` governs its RPC call, as PostgREST 12.2 hoists it into the transaction
// (Supabase's documented way to let one function run longer than its callers' role allows, or shorter): set only
// inside the function it would come too late, the statement's timer being armed when the call starts. The plan's
// statement_timeout_ms caps it all the same, and a function's 0 (none) then means the plan's cap.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject, eventually, platform, type TestProject } from '@basalt/testkit';
import { client } from './helpers.js';

let p: TestProject;
const plan = `rest-fn-timeouts-${Date.now().toString(36)}`;

before(async () => {
  p = await createProject('rest-fn-timeouts');
  await p.sql(`
    create function nap_longer(s float8) returns float8 language plpgsql set statement_timeout = '6s' as $$ begin perform pg_sleep(s); return s; end $$;
    create function nap_shorter(s float8) returns float8 language plpgsql set statement_timeout = '150ms' as $$ begin perform pg_sleep(s); return s; end $$;
    create function nap_unbounded(s float8) returns float8 language plpgsql set statement_timeout = 0 as $$ begin perform pg_sleep(s); return s; end $$;
    grant execute on function nap_longer(float8), nap_shorter(float8), nap_unbounded(float8) to anon;
  `);
});

after(async () => {
  await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { plan: 'unlimited' } }).catch(() => undefined);
  await platform(`/plans/${plan}`, { method: 'DELETE' }).catch(() => undefined);
});

const timed = async (fn: string, s: number) => {
  const t0 = performance.now();
  const r = await client(p).rpc(fn, { s });
  return { ...r, ms: performance.now() - t0 };
};

test("a function's own statement_timeout replaces the role's for its call, longer or shorter", async () => {
  // anon's own is 3 s: the function allows 6
  const longer = await timed('nap_longer', 3.3);
  assert.equal(longer.error, null, JSON.stringify(longer.error));
  assert.equal(longer.data, 3.3);
  const shorter = await timed('nap_shorter', 1);
  assert.equal(shorter.error?.code, '57014');
  assert.equal(shorter.status, 504);
  assert.ok(shorter.ms < 900, String(shorter.ms));
});

test("the plan's statement_timeout_ms caps a function's own, and its 0", async () => {
  await platform(`/plans/${plan}`, { method: 'PUT', json: { quotas: { statement_timeout_ms: 400 } } });
  await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { plan } });
  await eventually(async () => (await timed('nap_longer', 0.8)).error?.code === '57014', 10_000, 100);
  for (const fn of ['nap_longer', 'nap_unbounded']) {
    const r = await timed(fn, 1.5);
    assert.equal(r.error?.code, '57014', fn);
    assert.ok(r.ms < 1_200, `${fn}: ${r.ms} ms`);
  }
  assert.equal((await timed('nap_longer', 0.1)).error, null);
});
