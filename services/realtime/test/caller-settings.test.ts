// Row checks switch callers inside one transaction naming only the settings that change: after each switch the
// settings are those beginAsCallerSql gives the caller in a transaction of its own (a claim only an earlier caller
// had reads as empty, where a fresh transaction has none).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pg from 'pg';
import { beginAsCallerSql, type CallerSettings } from '@basalt/db';
import { CallerSwitch, callerValues } from '../src/db/caller-settings.js';

const db = new pg.Client({ connectionString: process.env.BASALT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' });
after(() => db.end());

const now = 1_700_000_000;
const user = (sub: string, extra: Record<string, unknown> = {}): CallerSettings => ({
  role: 'authenticated', readOnly: true, claims: { sub, role: 'authenticated', aud: 'authenticated', iat: now, exp: now + 3600, ...extra },
});
const CALLERS: CallerSettings[] = [
  user('u-1', { email: "o'brien@x.test", app_metadata: { provider: 'email' } }),
  user('u-2'),
  { role: 'anon', readOnly: true, claims: { role: 'anon', iss: 'basalt' } },
  user('u-3', { email: 'three@x.test', is_anonymous: null }),
  user('u-3', { email: 'three@x.test', is_anonymous: null }),
  { role: 'service_role', readOnly: true, claims: { role: 'service_role' } },
];

test('each switch leaves the settings a transaction of the caller’s own has', async () => {
  await db.connect();
  const names = [...new Set(CALLERS.flatMap((c) => [...callerValues(c).keys()]))].filter((n) => n !== 'role');
  const read = `select current_user::text as role, ${names.map((n, i) => `nullif(current_setting('${n}', true), '') as s${i}`).join(', ')}`;
  const own: unknown[] = [];
  for (const c of CALLERS) {
    const r = (await db.query(`${beginAsCallerSql(c)}; ${read}; rollback`)) as unknown as pg.QueryResult[];
    own.push(r[2].rows[0]);
  }
  const sw = new CallerSwitch();
  const switched = (await db.query(`begin read only; ${CALLERS.map((c) => `${sw.to(c)}; ${read}`).join('; ')}; rollback`)) as unknown as pg.QueryResult[];
  CALLERS.forEach((c, i) => assert.deepEqual(switched[2 + i * 2].rows[0], own[i], `caller ${i} (${c.role})`));
});

test('a switch names only what changes', () => {
  const sw = new CallerSwitch();
  sw.to(user('u-1'));
  const next = sw.to(user('u-2'));
  assert.match(next, /request\.jwt\.claim\.sub/);
  assert.doesNotMatch(next, /'role'|request\.method|claim\.aud/);
  assert.equal(sw.to(user('u-2')), 'select');
});
