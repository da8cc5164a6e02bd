// The request context against real Postgres: every setting a policy may read, transaction-local, and gone
// after commit or rollback; values with quotes cannot break out of their literal.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPool } from './pool.js';
import pg from 'pg';
import { asCaller, beginAsCallerSql, callerSettingsStatement, switchCaller, type CallerSettings } from './request-context.js';

const pool = createPool(process.env.BASALT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', { max: 1 });
after(() => pool.end());

/**
 * The reference: every setting decided by the server from the claims JSON ($4), as the REST service once ran it.
 * What the service code sends (callerSettingsEntries, in three forms) must leave exactly what this leaves.
 */
const SERVER_SIDE_SETTINGS_SQL = `select set_config('search_path', coalesce(nullif($1, ''), current_setting('search_path')), true),
  set_config('statement_timeout', coalesce(nullif($2, '0ms'), current_setting('statement_timeout')), true),
  set_config('role', $3, true), set_config('request.jwt.claims', $4, true), set_config('request.jwt.claim.sub', $5, true),
  set_config('request.jwt.claim.role', $3, true), set_config('request.method', $6, true), set_config('request.path', $7, true),
  set_config('transaction_read_only', coalesce(nullif($8, 'off'), current_setting('transaction_read_only')), true), set_config('timezone', coalesce(nullif($9, ''), current_setting('timezone')), true),
  (select count(set_config('request.jwt.claim.' || c.k, c.v, true)) from json_each_text($4::json) as c(k, v) where c.k ~ '^[a-z_][a-z0-9_]*$')`;

function serverSideSettingsValues(s: CallerSettings): string[] {
  return [
    s.searchPath ?? '', `${Math.trunc(s.timeoutMs ?? 0)}ms`, s.role, JSON.stringify(s.claims),
    typeof s.claims.sub === 'string' ? s.claims.sub : '', s.method ?? '', s.path ?? '', s.readOnly ? 'on' : 'off', s.timezone ?? '',
  ];
}

const READ = `select current_user as role, current_setting('request.jwt.claims') as claims, current_setting('request.jwt.claim.sub') as sub,
  current_setting('request.jwt.claim.email') as email, current_setting('request.jwt.claim.role') as claim_role,
  current_setting('request.method') as method, current_setting('request.path') as path, current_setting('search_path') as search_path,
  current_setting('statement_timeout') as timeout, current_setting('transaction_read_only') as read_only`;

test('every setting is visible inside the transaction and gone after it', async () => {
  const claims = { sub: 'u-1', email: "o'brien@x.test", role: 'postgres', 'Bad-Key': 'ignored' };
  const inside = await asCaller(pool, { role: 'postgres', claims, method: 'PATCH', path: '/rest/v1/x', searchPath: 'public, pg_catalog', timeoutMs: 1500, readOnly: true },
    async (c) => (await c.query(READ)).rows[0]);
  assert.deepEqual(inside, {
    role: 'postgres', claims: JSON.stringify(claims), sub: 'u-1', email: "o'brien@x.test", claim_role: 'postgres',
    method: 'PATCH', path: '/rest/v1/x', search_path: 'public, pg_catalog', timeout: '1500ms', read_only: 'on',
  });
  const afterwards = (await pool.query(`select current_setting('request.jwt.claims', true) as claims, current_setting('transaction_read_only') as ro`)).rows[0];
  assert.ok(!afterwards.claims, 'nothing leaks to the next user of the connection');
  assert.equal(afterwards.ro, 'off');
});

test('an error rolls back; switchCaller changes the role mid-transaction', async () => {
  await assert.rejects(asCaller(pool, { role: 'postgres', claims: {} }, async (c) => {
    await c.query('create temp table t_rollback (x int)');
    throw new Error('boom');
  }, { mapError: (e) => new Error(`mapped: ${(e as Error).message}`) }), /mapped: boom/);
  const seen = await asCaller(pool, { role: 'postgres', claims: { sub: 'a' } }, async (c) => {
    await switchCaller(c, { role: 'postgres', claims: { sub: 'b' } });
    return (await c.query(`select current_setting('request.jwt.claim.sub') as sub`)).rows[0].sub;
  });
  assert.equal(seen, 'b');
  assert.equal((await pool.query(`select to_regclass('t_rollback') as t`)).rows[0].t, null);
  // a claim of the caller before is not left to the next one's policies
  const after = await asCaller(pool, { role: 'postgres', claims: { sub: 'a', email: 'a@example.com', app_metadata: { x: 1 } } }, async (c) => {
    await switchCaller(c, { role: 'postgres', claims: { sub: 'b' } });
    const { rows: [r] } = await c.query(`select current_setting('request.jwt.claim.email', true) as email,
      current_setting('request.jwt.claim.app_metadata', true) as meta, current_setting('request.jwt.claim.sub', true) as sub`);
    await switchCaller(c, { role: 'postgres', claims: { sub: 'a', email: 'a@example.com' } });
    const { rows: [back] } = await c.query(`select current_setting('request.jwt.claim.email', true) as email`);
    return { ...r, back: back.email };
  });
  assert.deepEqual(after, { email: '', meta: '', sub: 'b', back: 'a@example.com' });
});

function freeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (v !== null && typeof v === 'object') freeze(v);
  return Object.freeze(o);
}

test('the one-round-trip BEGIN and the statement of listed settings set exactly what the parameterised settings statement sets', async () => {
  const url = process.env.BASALT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  // every setting either form may touch, read on a fresh connection so nothing is left from another transaction
  const seen = async (s: CallerSettings, begin: (c: pg.Client) => Promise<unknown>) => {
    const names = ['request.jwt.claims', 'request.method', 'request.path', 'search_path', 'statement_timeout', 'transaction_read_only', 'TimeZone',
      ...['sub', 'role', ...Object.keys(s.claims)].map((k) => `request.jwt.claim.${k}`)];
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await begin(c);
      const { rows: [row] } = await c.query('select current_user as who, array(select current_setting(n, true) from unnest($1::text[]) n) as settings', [names]);
      await c.query('rollback');
      return { who: row.who, settings: Object.fromEntries(names.map((n, i) => [n, row.settings[i]])) };
    } finally {
      await c.end();
    }
  };
  const cases: CallerSettings[] = [
    { role: 'postgres', claims: {} },
    { role: 'postgres', claims: { sub: 'u-1', role: 'authenticated', email: "o'b\\x@y", 'Bad-Key': 1, n: 1.5, ok: true, none: null, app_metadata: { a: [1, 'x'] }, aal: 'aal1' }, method: 'GET', path: '/rest/v1/t?x=1' },
    { role: 'postgres', claims: { sub: 42, role: 'postgres' } },
    { role: 'postgres', claims: { role: 'service_role', ref: 'abcd' }, timeoutMs: 2500, readOnly: true, searchPath: 'public, extensions', timezone: 'Europe/Paris' },
  ];
  // a verified token's claims come deep-frozen, and what they decide is kept per object: the second use of the same
  // object (another request with the token) must set what the first did, with this request's own method and path
  const frozen = freeze({ sub: 'u-2', role: 'authenticated', amr: [{ method: 'password', timestamp: 1 }], user_metadata: { name: "d'Arc" } });
  cases.push({ role: 'authenticated', claims: frozen, method: 'GET', path: '/a' }, { role: 'authenticated', claims: frozen, method: 'POST', path: '/b', readOnly: true });
  for (const s of cases) {
    const lean = await seen(s, (c) => c.query(beginAsCallerSql(s)));
    assert.equal(lean.settings['request.jwt.claims'], JSON.stringify(s.claims));
    const parameterised = await seen(s, async (c) => {
      await c.query('begin');
      await c.query(SERVER_SIDE_SETTINGS_SQL, serverSideSettingsValues(s));
    });
    assert.deepEqual(lean, parameterised, JSON.stringify(s));
    const listed = await seen(s, async (c) => {
      await c.query('begin');
      const { text, values } = callerSettingsStatement(s);
      await c.query({ name: `settings-${values.length}`, text, values });
    });
    assert.deepEqual(listed, parameterised, JSON.stringify(s));
  }
});
