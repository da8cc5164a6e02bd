// A fresh checkout meeting an existing control database sealed with another master key: the platform stops
// at start-up with the ways out (exit 78, nothing changed), `npm start` (basalt dev) says the same before it
// starts anything, and only an explicit reset naming the database drops it and the projects it lists.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import net from 'node:net';
import pg from 'pg';
import { dropRedisKeys, freePort, ROOT, waitForHealth } from '@basalt/fleet';
import { testEnv } from '@basalt/testkit';

const env = testEnv();
const withDatabase = (url: string, name: string) => Object.assign(new URL(url), { pathname: `/${name}` }).toString();
const dbName = `basalt_mk_${randomBytes(4).toString('hex')}`;
const databaseUrl = withDatabase(env.databaseUrl, dbName);
const adminUrl = withDatabase(env.databaseUrl, 'postgres');
const keyA = randomBytes(32).toString('hex');
const keyB = randomBytes(32).toString('hex');
const token = `bsp_mk${randomBytes(20).toString('hex')}`;
let projectDb = '';

const admin = async <T>(sql: string, params: unknown[] = []) => {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
};
const databases = async () => (await admin<{ datname: string }>(`select datname from pg_database where datname like $1`, [`${dbName}%`])).map((r) => r.datname);

function platformProcess(masterKey: string, port: number) {
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'services/platform/src/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...env.fleetEnv, DATABASE_URL: databaseUrl, BASALT_MASTER_KEY: masterKey, BASALT_PLATFORM_TOKEN: token, PORT: String(port), BASALT_REDIS_PREFIX: `${dbName}:` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exited, output: () => output };
}

before(async () => {
  // an earlier install: its control database, sealed with key A, holding one project
  const port = await freePort();
  const first = platformProcess(keyA, port);
  await waitForHealth(`http://127.0.0.1:${port}`, 60_000, first.child);
  const r = await fetch(`http://127.0.0.1:${port}/platform/v1/projects`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'old' }),
  });
  assert.equal(r.status, 201);
  projectDb = `proj_${((await r.json()) as { ref: string }).ref}`;
  first.child.kill('SIGTERM');
  await first.exited;
});

after(async () => {
  for (const db of [...(await databases()), projectDb]) await admin(`drop database if exists "${db}" with (force)`).catch(() => undefined);
  await dropRedisKeys(env.redisUrl, `${dbName}:`); // what its platform processes kept under their own prefix
});

test('the platform refuses another master key at start-up with the ways out, and changes nothing', async () => {
  const second = platformProcess(keyB, await freePort());
  assert.equal(await second.exited, 78);
  const out = second.output();
  assert.match(out, /was set up with a different master key/);
  assert.match(out, /restore the original key/);
  assert.match(out, new RegExp(`--reset-control-db ${dbName}`));
  assert.doesNotMatch(out, /Unsupported state or unable to authenticate data/);
  assert.ok((await databases()).includes(dbName));
  assert.equal((await admin(`select 1 from pg_database where datname = $1`, [projectDb])).length, 1, 'the project database is still there');
});

// a port that is taken, so `basalt dev` stops before starting a fleet even after a reset
const taken = net.createServer().listen(0, '0.0.0.0');
after(() => taken.close());
const dev = (...args: string[]) =>
  spawnSync(process.execPath, [join(ROOT, 'packages/cli/bin/basalt.mjs'), 'dev', '--port', String((taken.address() as net.AddressInfo).port), ...args], {
    encoding: 'utf8', cwd: ROOT, env: { ...process.env, DATABASE_URL: databaseUrl, BASALT_MASTER_KEY: keyB, REDIS_URL: env.redisUrl }, timeout: 60_000,
  });

test('npm start (basalt dev) says so before starting anything', () => {
  const r = dev();
  assert.equal(r.status, 78, r.stderr);
  assert.match(r.stderr + r.stdout, /different master key[\s\S]*DATABASE_URL[\s\S]*--reset-control-db/);
});

test('a reset must name the control database; naming it drops it and every project database it lists', async () => {
  const wrong = dev('--reset-control-db', 'basalt');
  assert.equal(wrong.status, 2, wrong.stderr);
  assert.match(wrong.stderr, /must name the control database to drop/);
  assert.ok((await databases()).includes(dbName), 'a wrong name drops nothing');
  const reset = dev('--reset-control-db', dbName);
  assert.match(reset.stderr + reset.stdout, /dropped "basalt_mk_[0-9a-f]+" and 1 project database/);
  assert.deepEqual(await databases(), []);
  assert.equal((await admin(`select 1 from pg_database where datname = $1`, [projectDb])).length, 0);
});
