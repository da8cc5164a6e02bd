// Placement's SQL against real Postgres, on a scratch control database with the platform migrations: the cluster
// with the fewest projects takes the next one, clusters kept out of placement never do, and counts include moves.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { migrate, readMigrations } from '@basalt/db';
import { clustersDb } from './clusters.js';
import { placementDb } from './placement.js';

const base = new URL(process.env.BASALT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
const name = `basalt_clusters_test_${randomBytes(4).toString('hex')}`;
const at = (db: string) => Object.assign(new URL(base.toString()), { pathname: `/${db}` }).toString();
const admin = new pg.Client({ connectionString: at('postgres') });
let pool: pg.Pool;

before(async () => {
  await admin.connect();
  await admin.query(`create database ${name}`);
  pool = new pg.Pool({ connectionString: at(name), max: 2 });
  // an idle connection ended from outside (another test's cleanup ending sessions) is not this test's failure
  pool.on('error', () => undefined);
  const c = await pool.connect();
  try {
    await migrate(c, 'platform', await readMigrations(fileURLToPath(new URL('../../migrations/', import.meta.url))));
  } finally {
    c.release();
  }
});
after(async () => {
  await pool?.end();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
});

let n = 0;
const project = (cluster: string) => {
  const ref = `abcdefghijklmnopqrs${'abcdefghij'[n++]}`; // refs are 20 lower-case letters
  return pool.query(
    `insert into platform.projects (ref, name, status, cluster_id, db_name, db_role, db_password_enc, jwt_secret_enc, anon_key_enc, service_key_enc)
     values ($1, 'p', 'active', $2, 'proj_' || $1, 'proj_' || $1 || '_auth', 'x', 'x', 'x', 'x')`,
    [ref, cluster],
  ).then(() => ref);
};

test('the cluster with the fewest projects takes the next one; one kept out of placement never does', async () => {
  const clusters = clustersDb(pool);
  assert.equal(await clusters.register({ id: 'a', adminUrlEnc: 'sealed-a', replicaUrlEnc: null, acceptsNewProjects: true }), true);
  await clusters.register({ id: 'b', adminUrlEnc: 'sealed-b', replicaUrlEnc: 'sealed-b-ro', acceptsNewProjects: true });
  await clusters.register({ id: 'reserved', adminUrlEnc: 'sealed-r', replicaUrlEnc: null, acceptsNewProjects: false });
  assert.equal((await clusters.pickForNewProject()).id, 'a', 'a tie goes to the first id');
  await project('a');
  assert.equal((await clusters.pickForNewProject()).id, 'b');
  const moving = await project('b');
  await project('b');
  assert.equal((await clusters.pickForNewProject()).id, 'a');
  // an update keeps the cluster and says so
  assert.equal(await clusters.register({ id: 'b', adminUrlEnc: 'sealed-b2', replicaUrlEnc: null, acceptsNewProjects: true }), false);
  assert.equal((await clusters.get('b'))?.replica_url_enc, null);
  const counts = Object.fromEntries((await clusters.list()).map((c) => [c.id, c.projects]));
  assert.deepEqual(counts, { a: 1, b: 2, reserved: 0 });

  // a move in progress holds its target: the project counts there, and a second move is refused
  const placement = placementDb(pool);
  assert.equal(await placement.claimMove(moving, 'reserved'), true);
  assert.equal(await placement.claimMove(moving, 'a'), false);
  assert.deepEqual(await clusters.projectsOn('reserved'), [moving]);
  await placement.switchCluster(moving, 'reserved');
  assert.deepEqual(Object.fromEntries((await clusters.list()).map((c) => [c.id, c.projects])), { a: 1, b: 1, reserved: 1 });
  assert.equal(await placement.claimMove(moving, 'a'), true);
  await placement.releaseMove(moving);
  assert.deepEqual(await clusters.projectsOn('a'), [(await pool.query(`select ref from platform.projects where cluster_id = 'a'`)).rows[0].ref]);
});
