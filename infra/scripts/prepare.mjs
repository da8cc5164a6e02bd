// What `npm start` and `npm test` do before anything else, with no dependency installed yet:
// install the workspace's packages, then find Postgres and Redis, starting or installing them if needed.
import { execSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const say = (msg) => process.stderr.write(`basalt: ${msg}\n`);
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const run = (cmd, opts = {}) => execSync(cmd, { stdio: 'inherit', cwd: ROOT, ...opts });

export function ensureDependencies() {
  const marker = join(ROOT, 'node_modules/.modules.yaml');
  const lock = join(ROOT, 'pnpm-lock.yaml');
  if (existsSync(marker) && existsSync(lock) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).packageManager.split('@')[1];
  const pnpm = has('pnpm') ? 'pnpm' : `npx --yes pnpm@${version}`;
  say(`installing dependencies (${pnpm} install)…`);
  run(`${pnpm} install --frozen-lockfile --reporter=append-only`, { env: { ...process.env, CI: 'true' } });
}

function reachable(host, port, timeoutMs = 1500) {
  return new Promise((done) => {
    const s = net.connect({ host, port });
    const end = (ok) => {
      s.destroy();
      done(ok);
    };
    s.setTimeout(timeoutMs, () => end(false));
    s.once('connect', () => end(true));
    s.once('error', () => end(false));
  });
}

async function waitFor(host, port, seconds) {
  for (let i = 0; i < seconds * 4; i++) {
    if (await reachable(host, port, 500)) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

const isLocal = (host) => ['127.0.0.1', 'localhost', '::1', ''].includes(host);
const isRoot = () => process.getuid?.() === 0;

function aptInstall(pkgs) {
  if (!isRoot() || !has('apt-get')) return false;
  say(`installing ${pkgs.join(' ')} with apt-get…`);
  try {
    run('apt-get update -qq', { stdio: 'ignore' });
    run(`DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${pkgs.join(' ')}`, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function ensurePostgres(url) {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || 5432);
  if (await reachable(host, port)) return;
  if (!isLocal(host)) throw new Error(`Postgres at ${host}:${port} (DATABASE_URL) is not reachable`);
  say(`Postgres is not answering on ${host}:${port}; trying to start it…`);
  if (!existsSync('/etc/postgresql') && !has('pg_ctlcluster')) aptInstall(['postgresql']);
  const tryRun = (cmd) => {
    try {
      run(cmd, { stdio: 'ignore' });
    } catch {
      /* next way */
    }
  };
  if (existsSync('/etc/postgresql')) {
    for (const version of execSync('ls /etc/postgresql').toString().split(/\s+/).filter(Boolean)) {
      tryRun(`pg_ctlcluster --skip-systemctl-redirect ${version} main start`);
    }
  }
  tryRun('service postgresql start');
  if (!(await waitFor(host, port, 20))) {
    throw new Error(`Postgres is not running on ${host}:${port} and could not be started or installed. Start it, or set DATABASE_URL.`);
  }
}

async function ensureRedis(url) {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || 6379);
  if (await reachable(host, port)) return;
  if (!isLocal(host)) throw new Error(`Redis at ${host}:${port} (REDIS_URL) is not reachable`);
  say(`Redis is not answering on ${host}:${port}; trying to start it…`);
  if (!has('redis-server')) aptInstall(['redis-server']);
  if (has('redis-server')) {
    try {
      run(`redis-server --daemonize yes --bind 127.0.0.1 --port ${port} --appendonly yes --dir /tmp --maxmemory-policy noeviction`, { stdio: 'ignore' });
    } catch {
      /* reported below */
    }
  }
  if (!(await waitFor(host, port, 10))) {
    throw new Error(`Redis is not running on ${host}:${port} and could not be started or installed. Start it, or set REDIS_URL.`);
  }
}

/**
 * Debian's Chromium for the browser tests, installed before they start: installed by the first test that needs it,
 * the others running beside it would find it missing and skip.
 */
export function ensureChromium() {
  if (existsSync('/usr/bin/chromium')) return;
  if (!aptInstall(['chromium'])) say('Chromium is not installed (apt-get install chromium): the browser tests will be skipped');
}

export async function prepare() {
  ensureDependencies();
  const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/basalt';
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  await ensurePostgres(databaseUrl);
  await ensureRedis(redisUrl);
  return { databaseUrl, redisUrl };
}
