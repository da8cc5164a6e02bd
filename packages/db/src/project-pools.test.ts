// A project's pool replaced under a request: the request that took it before the project changed is served by
// the pool in its place instead of failing, and the replaced pool's connections still go at once.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { ProjectPools } from './project-pools.js';

const url = process.env.BASALT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const pools = new ProjectPools({ maxPerProject: 2, applicationName: `pools-test-${randomBytes(4).toString('hex')}` });
after(() => pools.closeAll());

test('a pool taken before its project changed still answers, through its successor; its own connections go', async () => {
  const project = { ref: 'poolstestaaaaaaaaaaa', connectionString: url };
  const taken = pools.get(project);
  assert.equal((await taken.query('select 1 as n')).rows[0].n, 1);
  assert.equal(taken.totalCount, 1);
  pools.evict(project.ref); // the project changed: a new API key, new settings
  assert.ok(taken.ending);
  assert.equal((await taken.query('select 2 as n')).rows[0].n, 2, 'query()');
  const client = await taken.connect();
  assert.equal((await client.query('select 3 as n')).rows[0].n, 3, 'connect()');
  client.release();
  const now = pools.get(project);
  assert.notEqual(now, taken, 'later requests get the new pool');
  assert.equal(now.totalCount, 1, 'which served the straggler');
  for (let i = 0; i < 50 && taken.totalCount > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(taken.totalCount, 0, 'the replaced pool holds no connection');
});

test('a pool released (its project put to sleep) answers a straggler with a new pool', async () => {
  const project = { ref: 'poolstestbbbbbbbbbbb', connectionString: url };
  const taken = pools.get(project);
  await taken.query('select 1');
  assert.equal(await pools.release(project.ref), true);
  assert.equal(taken.totalCount, 0, 'release waits for its connections to close');
  assert.equal((await taken.query('select 4 as n')).rows[0].n, 4);
  const again = pools.get(project);
  assert.notEqual(again, taken);
  assert.equal(again.totalCount, 1, 'the straggler opened the project a pool again');
});
