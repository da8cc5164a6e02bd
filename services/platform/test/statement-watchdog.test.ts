// The plan's statement_timeout_ms holds whatever timeout a session sets for itself: the project login's own
// statement_timeout is the first bound, and the platform's statement watchdog the second, for a session that raised
// it (`set statement_timeout = 0`, which any client that can send SQL may do). Past the cap by a second a statement
// is cancelled; one that catches the cancel and goes on loses its session. The SQL API keeps its own, longer
// timeout; a project whose plan sets none is left alone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { SecretBox } from '@basalt/crypto';
import { createProject, platform, testEnv, type TestProject } from '@basalt/testkit';

const env = testEnv();
const plan = `w-${randomBytes(4).toString('hex')}`;
const CAP_MS = 400;
let p: TestProject;

/** a session of the project's own login, as any service (or a leaked connection string) has one */
async function loginSession(ref: string): Promise<pg.Client> {
  const admin = new pg.Client({ connectionString: env.databaseUrl });
  await admin.connect();
  let row: { db_name: string; db_role: string; db_password_enc: string };
  try {
    [row] = (await admin.query('select db_name, db_role, db_password_enc from platform.projects where ref = $1', [ref])).rows;
  } finally {
    await admin.end();
  }
  const url = new URL(env.databaseUrl);
  url.username = row.db_role;
  url.password = new SecretBox(env.masterKey).decrypt(row.db_password_enc);
  url.pathname = `/${row.db_name}`;
  const c = new pg.Client({ connectionString: url.toString(), application_name: 'watchdog-test' });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

/** runs the SQL in a new login session that first lifts its own timeout: its error (or null) and the seconds taken */
async function unbounded(sql: string): Promise<{ error: (Error & { code?: string }) | null; seconds: number }> {
  const c = await loginSession(p.ref);
  const t0 = performance.now();
  try {
    await c.query('set statement_timeout = 0');
    await c.query(sql);
    return { error: null, seconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    return { error: e as Error, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await c.end().catch(() => undefined);
  }
}

before(async () => {
  p = await createProject('watchdog');
  await platform(`/plans/${plan}`, { method: 'PUT', json: { quotas: { statement_timeout_ms: CAP_MS } } });
});

after(async () => {
  await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { plan: 'unlimited' } }).catch(() => undefined);
  await platform(`/plans/${plan}`, { method: 'DELETE' }).catch(() => undefined);
});

test('a plan without statement_timeout_ms: a session that lifted its own timeout runs to the end', async () => {
  const { error, seconds } = await unbounded('select pg_sleep(2.2)');
  assert.equal(error, null);
  assert.ok(seconds >= 2.2, String(seconds));
});

test('on a capped plan a lifted timeout is no escape: cancelled past the cap, a caught cancel ends the session; the SQL API keeps its own', async () => {
  await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { plan } });
  const [plain, stubborn, sqlApi] = await Promise.all([
    unbounded('select pg_sleep(30)'),
    // a cancel is an exception plpgsql may catch (WHEN OTHERS does not, naming it does): the statement goes on
    unbounded(`do $$ declare t0 timestamptz := clock_timestamp(); begin
      while clock_timestamp() < t0 + interval '30 seconds' loop
        begin perform pg_sleep(0.05); exception when query_canceled then null; end;
      end loop; end $$`),
    // the owner's SQL through the platform runs under the SQL API's own timeout (60 s here), not the plan's
    (async () => {
      const t0 = performance.now();
      await p.sql('select pg_sleep(2.2)');
      return (performance.now() - t0) / 1000;
    })(),
  ]);

  assert.equal(plain.error?.code, '57014', String(plain.error));
  assert.match(plain.error!.message, /canceling statement due to user request/);
  // past the cap by the grace (1 s), found within a pass (1 s)
  assert.ok(plain.seconds >= 1.3 && plain.seconds < 4, `cancelled after ${plain.seconds} s`);

  // 57P01 "terminating connection due to administrator command", or the socket closing first
  assert.ok(stubborn.error?.code === '57P01' || /Connection terminated/.test(String(stubborn.error)), String(stubborn.error));
  // past the cap by 4 s, found within a pass
  assert.ok(stubborn.seconds >= 4 && stubborn.seconds < 7.5, `terminated after ${stubborn.seconds} s`);

  assert.ok(sqlApi >= 2.2, String(sqlApi));

  // services go on: the project's statements under its cap run as before
  const rows = await p.sql<{ one: number }>('select 1 as one');
  assert.deepEqual(rows, [{ one: 1 }]);
});
