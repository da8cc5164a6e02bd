// Shared benchmark plumbing: a throwaway control database, wrk runs parsed into numbers, results written to bench/results/.
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import pg from 'pg';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { dropRedisKeys, freeBasePort, ROOT, startFleet, type Fleet, type FleetOptions } from '@basalt/fleet';
import { SecretBox } from '@basalt/crypto';
import { hmacKey, signJwt } from '@basalt/jwt';

/** clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ) */
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

/**
 * a process's utime + stime in µs, all threads, and cutime + cstime (its children it has waited for); null once it
 * is gone (a Postgres backend that exited mid-run)
 */
function ownCpuMicros(pid: number | string): { micros: number; reapedMicros: number; parent: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the fields after the command name (which may hold spaces and parentheses): ppid is the 2nd, utime the 12th,
    // stime the 13th, cutime the 14th, cstime the 15th
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const us = (a: string, b: string) => ((Number(a) + Number(b)) * 1e6) / CLOCK_TICKS;
    return { micros: us(f[11], f[12]), reapedMicros: us(f[13], f[14]), parent: f[1] };
  } catch {
    return null;
  }
}

/** µs of CPU used by this process's children that have exited and been waited for (wrk after execFileSync) */
export const reapedChildrenCpuMicros = (): number => ownCpuMicros(process.pid)!.reapedMicros;

/**
 * µs of CPU (user + system) the processes have used so far, a process gone counting 0; with `children`, their
 * child processes' too (the gateway's cluster workers). For CPU per request: req/s moves with whatever else the
 * machine runs, the CPU a process spent on a run's requests much less.
 */
export function cpuMicros(pids: number | number[], o: { children?: boolean } = {}): number {
  const wanted = Array.isArray(pids) ? pids : [pids];
  let sum = 0;
  for (const pid of wanted) sum += ownCpuMicros(pid)?.micros ?? 0;
  if (!o.children) return sum;
  const parents = new Set(wanted.map(String));
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || parents.has(d)) continue;
    const own = ownCpuMicros(d);
    if (own && parents.has(own.parent)) sum += own.micros;
  }
  return sum;
}

/** The Postgres backends serving one database (a project's, or the control database: whose CPU a request or a poll also costs). */
export async function backendPids(dbUrl: string): Promise<number[]> {
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  try {
    const { rows } = await c.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
    return rows.map((r) => r.pid);
  } finally {
    await c.end();
  }
}

/** the middle value (the upper of the two middle ones for an even count) */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** of several runs, the one of median req/s (or of median `by`) */
export const medianRun = <T extends { rps: number }>(runs: T[], by: (r: T) => number = (r) => r.rps): T =>
  [...runs].sort((a, b) => by(a) - by(b))[Math.floor(runs.length / 2)]!;

export interface WrkResult {
  rps: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  /** requests completed in the run */
  requests?: number;
}

/** Installs a Debian package the benchmark needs (as root), or explains what is missing. */
export function requireTool(cmd: string, aptPackage: string): void {
  if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0) return;
  if (process.getuid?.() === 0) {
    spawnSync('sh', ['-c', `apt-get install -y -qq ${aptPackage} || (apt-get update -qq && apt-get install -y -qq ${aptPackage})`], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) throw new Error(`${cmd} is required: apt-get install ${aptPackage}`);
}

export const toMs = (v: string) => {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v.trim());
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
};

type WrkOptions = {
  connections: number; seconds: number; threads?: number; headers?: Record<string, string>;
  /** a Lua script of wrk's (-s), e.g. one that changes a header request by request */
  script?: string;
};

function wrkArgs(url: string, opts: WrkOptions): string[] {
  const args = ['-t', String(opts.threads ?? 1), '-c', String(opts.connections), '-d', `${opts.seconds}s`, '--latency'];
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push('-H', `${k}: ${v}`);
  if (opts.script) args.push('-s', opts.script);
  return [...args, url];
}

function parseWrk(out: string): WrkResult {
  const pick = (re: RegExp) => re.exec(out)?.[1] ?? '';
  const non2xx = Number(pick(/Non-2xx or 3xx responses: (\d+)/) || 0);
  const sockErr = pick(/Socket errors: (.*)/);
  return {
    rps: Number(pick(/Requests\/sec:\s+([\d.]+)/)),
    p50_ms: toMs(pick(/\s50%\s+(\S+)/)),
    p99_ms: toMs(pick(/\s99%\s+(\S+)/)),
    requests: Number(pick(/(\d+) requests in /) || 0),
    errors: non2xx + (sockErr ? sockErr.split(',').reduce((n, part) => n + Number(/\d+/.exec(part)?.[0] ?? 0), 0) : 0),
  };
}

/** Runs wrk and waits for it (blocking this process: nothing else of the bench runs meanwhile). */
export function wrk(url: string, opts: WrkOptions): WrkResult {
  return parseWrk(execFileSync('wrk', wrkArgs(url, opts), { encoding: 'utf8' }));
}

/**
 * wrk, and the µs of CPU per request the process `pid` (its children included: the gateway's workers) spent meanwhile,
 * which moves less with the machine's minute than req/s.
 */
export function wrkWithCpu(url: string, opts: WrkOptions, pid: number): WrkResult & { cpu_us: number } {
  const before = cpuMicros(pid, { children: true });
  const r = wrk(url, opts);
  return { ...r, cpu_us: (cpuMicros(pid, { children: true }) - before) / (r.requests || r.rps * opts.seconds) };
}

/** Runs wrk while this process goes on (for load that runs beside work the bench does itself). */
export async function wrkAsync(url: string, opts: WrkOptions): Promise<WrkResult> {
  const { stdout } = await promisify(execFile)('wrk', wrkArgs(url, opts), { encoding: 'utf8' });
  return parseWrk(stdout);
}

export async function scratchDatabase(prefix: string) {
  const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/basalt');
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const url = Object.assign(new URL(base.toString()), { pathname: `/${name}` }).toString();
  const admin = Object.assign(new URL(base.toString()), { pathname: '/postgres' }).toString();
  const drop = async () => {
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    const control = new pg.Client({ connectionString: url });
    const projects = await control.connect().then(
      () => control.query('select db_name, db_role from platform.projects').then((r) => r.rows).catch(() => []).finally(() => control.end()),
      () => [],
    );
    for (const p of projects) {
      await c.query(`drop database if exists "${p.db_name}" with (force)`);
      await c.query(`drop role if exists "${p.db_role}"`);
    }
    await c.query(`drop database if exists "${name}_tenant_template" with (force)`);
    await c.query(`drop database if exists "${name}" with (force)`);
    await c.end();
  };
  return { url, drop };
}

export function writeResults(name: string, data: unknown): string {
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.json`);
  writeFileSync(path, `${JSON.stringify({ at: new Date().toISOString(), ...(data as object) }, null, 2)}\n`);
  return path;
}


export interface BenchFleet {
  fleet: Fleet;
  /** the platform API through the gateway with the bench's platform token */
  platform: <T = any>(path: string, body?: unknown, method?: string) => Promise<T>;
  /** the control database URL, for set-up the API would make slow */
  databaseUrl: string;
  stop: () => Promise<void>;
}

/**
 * Starts the named services on free ports over a fresh control database, with the settings `npm start` uses
 * (what users get: LOG_LEVEL info and every service's own defaults); stop() drops everything again.
 */
export async function benchFleet(
  name: string, only: string[], extraEnv: Record<string, string> = {}, o: Pick<FleetOptions, 'bundles' | 'node'> = {},
): Promise<BenchFleet> {
  const base = await freeBasePort();
  const db = await scratchDatabase(`basalt_bench_${name}`);
  const token = `bsp_bench${randomBytes(20).toString('hex')}`;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  // unique per run: ports repeat between runs, and a queue left under the same prefix keeps its last 1,000
  // completed jobs, whose ids (cron's `runs-<first run id>-<n>`, run ids restarting at 1) make BullMQ drop new ones;
  // dropped with the fleet, as the test runner drops its own
  const redisPrefix = `bench-${name}-${base}-${randomBytes(4).toString('hex')}:`;
  const fleet = await startFleet({
    ...o,
    only,
    basePort: base,
    logs: join(tmpdir(), `basalt-bench-${name}-${base}`),
    env: {
      DATABASE_URL: db.url,
      REDIS_URL: redisUrl,
      BASALT_MASTER_KEY: randomBytes(32).toString('hex'),
      BASALT_PLATFORM_TOKEN: token,
      BASALT_PUBLIC_URL: `http://localhost:${base}`,
      BASALT_REDIS_PREFIX: redisPrefix,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      ...extraEnv,
    },
  }).catch(async (e) => {
    await db.drop();
    throw e;
  });
  const platform = async (path: string, body?: unknown, method = body === undefined ? 'GET' : 'POST') => {
    const r = await fetch(`${fleet.gatewayUrl ?? fleet.urls.platform}/platform/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    const text = await r.text();
    return text ? JSON.parse(text) : undefined;
  };
  const stop = async () => {
    await fleet.stop();
    await db.drop();
    await dropRedisKeys(redisUrl, redisPrefix).catch((e) => process.stderr.write(`bench: Redis keys under ${redisPrefix} left: ${e.message}\n`));
  };
  return { fleet, platform, databaseUrl: db.url, stop };
}

/** A project's own database URL (its name from the control database), for baselines that query it directly. */
export async function projectDatabaseUrl(controlUrl: string, ref: string): Promise<string> {
  return Object.assign(new URL(controlUrl), { pathname: `/${await projectColumn(controlUrl, ref, 'db_name')}` }).toString();
}

/** One column of a project's row in the control database. */
async function projectColumn(controlUrl: string, ref: string, column: 'db_name' | 'jwt_secret_enc'): Promise<string> {
  const control = new pg.Client({ connectionString: controlUrl });
  await control.connect();
  try {
    const { rows: [row] } = await control.query(`select ${column} as value from platform.projects where ref = $1`, [ref]);
    return row.value;
  } finally {
    await control.end();
  }
}

/** A wrk script that sends each request with the next of `n` signed-in users' tokens (role authenticated, a sub each). */
export async function usersScript(bench: BenchFleet, ref: string, n: number): Promise<string> {
  // the project's JWT secret, sealed in the control database with the fleet's master key
  const key = hmacKey(new SecretBox(bench.fleet.env.BASALT_MASTER_KEY!).decrypt(await projectColumn(bench.databaseUrl, ref, 'jwt_secret_enc')));
  const now = Math.floor(Date.now() / 1000);
  const tokens = Array.from({ length: n }, () => signJwt({ aud: 'authenticated', role: 'authenticated', sub: randomUUID(), ref, iat: now, exp: now + 3600 }, key));
  const file = join(mkdtempSync(join(tmpdir(), 'bench-users-')), 'users.lua');
  writeFileSync(file, `local tokens = { ${tokens.map((t) => `"${t}"`).join(', ')} }
local n = 0
request = function()
  n = n + 1
  wrk.headers["authorization"] = "Bearer " .. tokens[n % #tokens + 1]
  return wrk.format()
end
`);
  return file;
}

/**
 * A baseline server (`source`, CommonJS, printing its port on stdout) in its own process, since wrk runs
 * synchronously here and would stall a server on this event loop. It gets DB_URL and PG_PATH (node-postgres).
 */
export async function startMinimalServer(source: string, dbUrl: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', source], {
    env: { ...process.env, DB_URL: dbUrl, PG_PATH: createRequire(import.meta.url).resolve('pg') }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve) => child.stdout!.once('data', (d) => resolve(Number(String(d).trim()))));
  return { port, child };
}
