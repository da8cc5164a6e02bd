// Read-your-writes across REST replicas, against real Postgres and Redis: two ReadReplicas stand for two REST
// processes. The "replica" here is the primary itself, which cannot say how far it has replayed
// (pg_last_wal_replay_lsn() is null on a primary), so a session with a write on record must read the primary.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { ProjectPools } from '@basalt/db';
import type { Project } from '@basalt/tenancy';
import { ReadReplicas } from './read-replicas.js';

const dbUrl = process.env.BASALT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redis = new Redis(process.env.BASALT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1, lazyConnect: true });
const prefix = `test-ryw-${randomBytes(4).toString('hex')}:`;
const pools = new ProjectPools({ maxPerProject: 2 });
const primaryPools = new ProjectPools({ maxPerProject: 2 });
const project = { ref: 'ryw', replicaConnectionString: dbUrl } as unknown as Project;
const primary = primaryPools.get({ ref: 'ryw', connectionString: dbUrl });

after(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  await pools.closeAll();
  await primaryPools.closeAll();
});

test('a write recorded by one REST process keeps the session on the primary in another, for the window only', async () => {
  await redis.connect();
  const a = new ReadReplicas(pools, 1_000, { redis, prefix });
  const b = new ReadReplicas(pools, 1_000, { redis, prefix });
  const token = `token-${randomBytes(4).toString('hex')}`;
  const replica = await b.route(project, token, primary)!.read();
  assert.notEqual(replica, primary, 'no write on record: the replica');

  await a.route(project, token, primary)!.wrote();
  assert.equal(await b.route(project, token, primary)!.read(), primary, 'the other process sees the write');
  assert.notEqual(await b.route(project, 'another session', primary)!.read(), primary, 'other sessions are not held back');

  await new Promise((r) => setTimeout(r, 1_200));
  assert.notEqual(await b.route(project, token, primary)!.read(), primary, 'after the window: the replica again');
});

test('without Redis a write is remembered by its own process only', async () => {
  const a = new ReadReplicas(pools, 5_000);
  const b = new ReadReplicas(pools, 5_000);
  const token = `token-${randomBytes(4).toString('hex')}`;
  await a.route(project, token, primary)!.wrote();
  assert.equal(await a.route(project, token, primary)!.read(), primary);
  assert.notEqual(await b.route(project, token, primary)!.read(), primary);
});
