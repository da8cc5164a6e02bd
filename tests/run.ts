// The test runner behind `npm test`: a fresh control database, the fleet on free ports, every *.test.ts file
// under node's test runner, then everything it created dropped again (databases, roles, stored objects, its Redis
// keys), whatever the outcome; and first, what earlier runs killed outright left behind (runs.ts).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { freeBasePort, ROOT, startFleet, type Fleet } from '@basalt/fleet';
import { dropEverything, holdRunLease, newRunDatabase, sweepDeadRuns } from './runs.js';

const SEARCH = ['gateway', 'services', 'packages', 'tests'];
const filters = process.argv.slice(2);

function findTests(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) findTests(path, out);
    else if (entry.name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const baseUrl = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/basalt');
const controlDb = newRunDatabase();
const databaseUrl = Object.assign(new URL(baseUrl.toString()), { pathname: `/${controlDb}` }).toString();
const adminUrl = Object.assign(new URL(baseUrl.toString()), { pathname: '/postgres' }).toString();
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const masterKey = randomBytes(32).toString('hex');
const platformToken = `bsp_test${randomBytes(24).toString('hex')}`;
const logDir = join(ROOT, '.basalt/test-logs', controlDb);

const files = findTests(ROOT).filter((f) => SEARCH.some((d) => relative(ROOT, f).startsWith(`${d}/`)))
  .filter((f) => filters.length === 0 || filters.some((x) => relative(ROOT, f).includes(x)))
  .sort();

const storageRoot = mkdtempSync(join(tmpdir(), 'basalt-storage-'));
let fleet: Fleet | undefined;
let code = 1;
let child: ReturnType<typeof spawn> | undefined;
// An interrupted run (Ctrl-C, a CI time-out) still stops its fleet and drops what it created; interrupted while the
// fleet is still starting, startFleet stops the services it launched so far before it rejects.
const starting = new AbortController();
let fleetStarted: Promise<Fleet> | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    child?.kill(signal);
    starting.abort();
    await fleetStarted?.then((f) => f.stop(), () => undefined);
    await dropEverything(adminUrl, controlDb, redisUrl).catch(() => undefined);
    rmSync(storageRoot, { recursive: true, force: true });
    process.exit(130);
  });
}
try {
  // this run's lock first (its database does not exist yet), then what runs killed outright left behind
  const lease = await holdRunLease(adminUrl, controlDb);
  const swept = await sweepDeadRuns(adminUrl, redisUrl, lease.client, controlDb);
  if (swept.length) process.stderr.write(`basalt test: dropped what ${swept.length} dead run(s) left: ${swept.join(', ')}\n`);
  const basePort = await freeBasePort();
  const env = {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    BASALT_MASTER_KEY: masterKey,
    BASALT_PLATFORM_TOKEN: platformToken,
    BASALT_PUBLIC_URL: `http://localhost:${basePort}`,
    BASALT_REDIS_PREFIX: `${controlDb}:`,
    // object bytes of this run, removed with it
    STORAGE_FS_ROOT: storageRoot,
    STORAGE_SWEEP_INTERVAL_MS: '1000',
    // no nightly backup of every test project (tests drive the schedule themselves); retention runs every second
    BACKUP_NIGHTLY_HOUR_UTC: 'off',
    BACKUP_SCHEDULE_INTERVAL_MS: '1000',
    // The tests' stand-ins for the outside world (OAuth, SMTP, a public site) listen on 127.0.0.77, which the
    // operator allow-list lets through; the rest of loopback stays blocked, as egress tests expect.
    BASALT_EGRESS_ALLOW: '127.0.0.77',
    // log-like tables are pruned every second, so tests can watch it happen
    HISTORY_PRUNE_INTERVAL_MS: '1000',
    // usage counters flush and levels are sampled often, so tests can poll for their totals
    METERING_FLUSH_INTERVAL_MS: '300',
    METERING_SAMPLE_INTERVAL_MS: '1000',
    // database quotas (db_bytes read-only, connection limit, statement timeout) reconciled every second
    QUOTA_CHECK_INTERVAL_MS: '1000',
    // a statement of the services' own unanswered for 8 s counts as a silent database (tests/e2e/silent-database)
    DATABASE_SILENCE_MS: '8000',
  };
  process.stderr.write(`basalt test: control database ${controlDb}, fleet on :${basePort}, logs in ${relative(ROOT, logDir)}\n`);
  // BASALT_TEST_ONLY=platform,gateway,rest starts just those services (while others are being built).
  const only = process.env.BASALT_TEST_ONLY?.split(',').map((x) => x.trim()).filter(Boolean);
  fleetStarted = startFleet({
    env, basePort, logs: logDir, only, signal: starting.signal,
    onRestart: ({ name, code, signal, output }) =>
      process.stderr.write(`basalt test: ${name} ${signal ?? `exited with ${code}`}; restarting it${output ? `. Its last output:\n${output}` : ''}\n`),
    onGiveUp: ({ reason }) => process.stderr.write(`basalt test: ${reason}\n`),
  });
  fleet = await fleetStarted;
  // Files that kill the functions runtime's shared processes on purpose run after the rest, on their own: a shared
  // process they make spin takes down whatever else it runs at that moment, such as another file's functions. The
  // limits and plan-quota files send their offenders to the one quarantine process, where two such files' spins
  // once added up to a kill neither test expected.
  const alone = (f: string) => /services\/functions\/test\/(containment|limits|quota-functions)\.test\.ts$/.test(f);
  const started = fleet;
  const run = (batch: string[], concurrency: number) => new Promise<number>((resolve) => {
    child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-concurrency=${concurrency}`, '--test-timeout=300000', ...batch],
    {
      cwd: ROOT,
      stdio: 'inherit',
      env: {
        ...process.env,
        ...env,
        BASALT_TEST_GATEWAY_URL: started.gatewayUrl,
        BASALT_TEST_PLATFORM_TOKEN: platformToken,
        BASALT_TEST_DATABASE_URL: databaseUrl,
        BASALT_TEST_REDIS_URL: redisUrl,
        BASALT_TEST_MASTER_KEY: masterKey,
        BASALT_TEST_SERVICES: JSON.stringify(started.urls),
        BASALT_TEST_FLEET_ENV: JSON.stringify(started.env),
      },
    },
  );
    child.on('exit', (c) => resolve(c ?? 1));
  });
  const shared = files.filter((f) => !alone(f));
  const separate = files.filter(alone);
  // Three files at a time on this 2-core machine: most of a file's time is spent waiting (on Postgres, on timers,
  // on the fleet), and at two the cores sat a third idle; three took the shared files from 531 s to 415 and 443 s.
  code = shared.length ? await run(shared, 3) : 0;
  if (separate.length) code = (await run(separate, 1)) || code;
} catch (e) {
  if (!starting.signal.aborted) process.stderr.write(`basalt test: ${(e as Error).message}\n`);
} finally {
  await fleet?.stop();
  await dropEverything(adminUrl, controlDb, redisUrl).catch((e) => process.stderr.write(`basalt test: cleanup failed: ${e.message}\n`));
  rmSync(storageRoot, { recursive: true, force: true });
}
if (starting.signal.aborted) process.exit(130); // interrupted: the signal handler's exit, whichever gets here first
if (code !== 0) process.stderr.write(`basalt test: failed; service logs are in ${relative(ROOT, logDir)}\n`);
process.exit(code);
