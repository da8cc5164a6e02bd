// A crashed service comes back: a fleet of its own (platform, REST, gateway, as `npm start` runs them) under light
// load, REST killed with SIGKILL; while it is down the gateway answers 503 with Retry-After in PostgREST's
// shape, and the supervisor brings it back without anyone asking.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { freeBasePort, ROOT, startFleet, type Fleet } from '@basalt/fleet';
import { createProject, eventually, testEnv, type TestProject } from '@basalt/testkit';

const env = testEnv();
let fleet: Fleet;
let p: TestProject;
const restarts: string[] = [];

before(async () => {
  p = await createProject('supervised');
  await p.sql(`create table pings (id int primary key); insert into pings values (1);
    create policy anyone on pings for select to anon using (true);`);
  const basePort = await freeBasePort();
  const shared = Object.fromEntries(Object.entries(env.fleetEnv).filter(([k]) => !k.endsWith('_URL') || ['DATABASE_URL', 'REDIS_URL'].includes(k)));
  fleet = await startFleet({
    env: { ...shared, BASALT_PUBLIC_URL: `http://localhost:${basePort}` },
    basePort,
    only: ['platform', 'rest', 'gateway'],
    logs: join(ROOT, '.basalt/test-logs', `supervisor-${basePort}`),
    onRestart: ({ name }) => void restarts.push(name),
  });
});
after(() => fleet?.stop());

test('a killed service is restarted; meanwhile the gateway answers 503 + Retry-After in the API shape', async () => {
  const url = `${fleet.gatewayUrl}/project/${p.ref}/rest/v1/pings?select=id`;
  const get = () => fetch(url, { headers: { apikey: p.anonKey } }).then(async (r) => ({ status: r.status, retry: r.headers.get('retry-after'), body: await r.json() }));
  assert.equal((await get()).status, 200);

  const seen: { status: number; retry: string | null; body: any }[] = [];
  let loading = true;
  const load = (async () => {
    while (loading) {
      seen.push(await get());
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  await new Promise((r) => setTimeout(r, 200));
  const victim = fleet.processes.get('rest')!;
  victim.kill('SIGKILL');
  await eventually(() => fleet.processes.get('rest') !== victim, 5_000);
  await eventually(async () => seen.length > 0 && seen.at(-1)!.status === 200 && (await get()).status === 200, 30_000, 100);
  loading = false;
  await load;

  assert.deepEqual(restarts, ['rest']);
  const down = seen.filter((r) => r.status !== 200);
  assert.ok(down.length > 0, 'the outage was observed');
  for (const r of down) {
    assert.equal(r.status, 503);
    assert.equal(r.retry, '5');
    assert.equal(r.body.code, 'service_unavailable');
    assert.ok('details' in r.body && 'hint' in r.body, 'PostgREST error shape');
  }
  assert.deepEqual(seen.at(-1)!.body, [{ id: 1 }]);
});
