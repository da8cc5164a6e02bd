// The schema cache's LISTEN connections are bounded: one per cached project, closed on LRU eviction and on drop,
// and a NOTIFY pgrst 'reload schema' makes the next lookup see new tables.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { SecretBox } from '@basalt/crypto';
import { ProjectPools } from '@basalt/db';
import { ProjectRegistry } from '@basalt/tenancy';
import { createProject, eventually, testEnv } from '@basalt/testkit';
import { SchemaCaches } from '../src/domain/schema-cache.js';

const env = testEnv();
const control = new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
const registry = new ProjectRegistry({ control, secrets: new SecretBox(env.masterKey) });
const pools = new ProjectPools({ maxPerProject: 2, applicationName: 'rest-cache-test' });
after(async () => {
  await pools.closeAll();
  await control.end();
});

const listeners = async (dbName: string) =>
  Number((await control.query("select count(*) from pg_stat_activity where datname = $1 and application_name = 'basalt-rest-listen'", [dbName])).rows[0].count);

test('one LISTEN connection per cached project, closed on eviction and drop; NOTIFY reloads', async () => {
  const [a, b] = await Promise.all([createProject('cache-a'), createProject('cache-b')]);
  const pa = (await registry.get(a.ref))!, pb = (await registry.get(b.ref))!;
  const caches = new SchemaCaches(1, () => undefined);
  const ia = await caches.get(pa, pools.get(pa));
  assert.equal(ia.table('public', 'later'), undefined);
  await eventually(async () => (await listeners(pa.dbName)) === 1);

  await a.sql('create table later (id int)'); // the template's event trigger NOTIFYs pgrst
  await eventually(async () => !!(await caches.get(pa, pools.get(pa))).table('public', 'later'));

  await caches.get(pb, pools.get(pb)); // max 1: project A is evicted and its LISTEN connection closed
  await eventually(async () => (await listeners(pa.dbName)) === 0 && (await listeners(pb.dbName)) === 1);
  caches.drop(pb.ref);
  await eventually(async () => (await listeners(pb.dbName)) === 0);
});
