// Every idle database connection of a project terminated from the server side (catalogue X2: a failover, an
// operator's pg_terminate_backend, an idle timeout in a pooler): each service's process survives it (its pools
// handle the 'error'), and the requests through REST, auth and storage a tenth of a second later are answered 200.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { createProject, testEnv } from '@basalt/testkit';

test('after its idle backends are terminated, a project is served at once by REST, auth and storage', async () => {
  const p = await createProject('idle-backends');
  await p.sql(`create table public.t (id int primary key); insert into public.t values (1);
    create policy r on public.t for select to anon using (true);`);
  const headers = { apikey: p.serviceKey, authorization: `Bearer ${p.serviceKey}` };
  const requests = [
    () => fetch(`${p.url}/rest/v1/t?select=id`, { headers: { apikey: p.anonKey } }),
    () => fetch(`${p.url}/auth/v1/admin/users`, { headers }),
    () => fetch(`${p.url}/storage/v1/bucket`, { headers }),
  ];
  const statuses = async () => Promise.all(requests.map(async (r) => {
    const res = await r();
    await res.arrayBuffer();
    return res.status;
  }));
  // every service holds idle connections to the project's database now
  for (let i = 0; i < 3; i++) assert.deepEqual(await statuses(), [200, 200, 200]);
  const [{ db }] = await p.sql<{ db: string }>('select current_database() as db');
  const admin = new pg.Client({ connectionString: testEnv().databaseUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ n: number }>(
      `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where datname = $1 and state = 'idle' and pid <> pg_backend_pid()`, [db]);
    assert.ok(rows[0].n >= 3, `${rows[0].n} idle connections terminated`);
  } finally {
    await admin.end();
  }
  await new Promise((r) => setTimeout(r, 100)); // (0 passed 3 of 3 here; CI machines are busier)
  for (let i = 0; i < 5; i++) assert.deepEqual(await statuses(), [200, 200, 200], `round ${i} after the termination`);
  for (const [name, url] of Object.entries(testEnv().services)) {
    if (!['rest', 'auth', 'storage'].includes(name)) continue;
    assert.equal((await fetch(`${url}/health`)).status, 200, `${name} is up`);
  }
});
