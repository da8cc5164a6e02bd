// No service outlives the process that started it. startFleet called off while it starts (the test runner's Ctrl-C,
// a CI time-out) stops what it launched so far and launches nothing more, so no service is left running against a
// database the caller then drops; and a supervisor killed outright (SIGKILL) takes its services with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeBasePort, ROOT, startFleet } from '@basalt/fleet';
import { testEnv } from '@basalt/testkit';

/** a process's state and parent from /proc/<pid>/stat, or null once it is gone */
function procStat(pid: number | string): { state: string; ppid: number } | null {
  try {
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: state!, ppid: Number(ppid) };
  } catch {
    return null;
  }
}

const running = (pid: number) => (procStat(pid)?.state ?? 'Z') !== 'Z';

/** this process's live children that run a service (not, say, the esbuild process tsx may start), from /proc */
function children(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(entry);
    if (stat?.ppid !== process.pid || stat.state === 'Z') continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('/src/main.ts')) pids.push(Number(entry));
    } catch {
      // gone between the listing and the read
    }
  }
  return pids;
}

async function until(what: string, ok: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function env(databaseUrl: string, base: number) {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    BASALT_MASTER_KEY: randomBytes(32).toString('hex'),
    BASALT_PLATFORM_TOKEN: `bsp_abort${randomBytes(20).toString('hex')}`,
    BASALT_PUBLIC_URL: `http://localhost:${base}`,
    BASALT_REDIS_PREFIX: `fleet-abort-${randomBytes(4).toString('hex')}:`,
    LOG_LEVEL: 'warn',
  };
}

test('a start already called off launches nothing', { skip: !existsSync('/proc/self/stat') }, async (t) => {
  const logs = mkdtempSync(join(tmpdir(), 'basalt-fleet-abort-'));
  t.after(() => rmSync(logs, { recursive: true, force: true }));
  const base = await freeBasePort();
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(startFleet({ env: env('postgres://127.0.0.1:1/none', base), basePort: base, logs, only: ['platform', 'gateway'], signal: controller.signal }), { name: 'AbortError' });
  assert.deepEqual(children(), []);
  assert.deepEqual(readdirSync(logs), []);
});

test('called off while the first service starts: it is stopped, and the ones after it never launch', { skip: !existsSync('/proc/self/stat') }, async (t) => {
  const logs = mkdtempSync(join(tmpdir(), 'basalt-fleet-abort-'));
  t.after(() => rmSync(logs, { recursive: true, force: true }));
  const base = await freeBasePort();
  const controller = new AbortController();
  // a database nothing listens on: the platform crashes at start and is restarted, never healthy
  const started = startFleet({ env: env('postgres://127.0.0.1:1/none', base), basePort: base, logs, only: ['platform', 'gateway'], signal: controller.signal });
  await until('the platform to be launched', () => children().length === 1);
  await new Promise((r) => setTimeout(r, 500));
  controller.abort();
  await assert.rejects(started, { name: 'AbortError' });
  assert.deepEqual(children(), []);
  assert.deepEqual(readdirSync(logs), ['platform.log']);
});

test('called off while the services after the platform start: every one launched is stopped', { skip: !existsSync('/proc/self/stat') }, async (t) => {
  const logs = mkdtempSync(join(tmpdir(), 'basalt-fleet-abort-'));
  t.after(() => rmSync(logs, { recursive: true, force: true }));
  const base = await freeBasePort();
  const controller = new AbortController();
  // a platform of its own over the run's control database (as the supervisor test starts one); once it is healthy,
  // REST and auth are launched beside each other, and the gateway after them
  const shared = Object.fromEntries(Object.entries(testEnv().fleetEnv).filter(([k]) => !k.endsWith('_URL') || ['DATABASE_URL', 'REDIS_URL'].includes(k)));
  const started = startFleet({
    env: { ...shared, BASALT_PUBLIC_URL: `http://localhost:${base}` },
    basePort: base, logs, only: ['platform', 'rest', 'auth', 'gateway'], signal: controller.signal,
  });
  await until('REST and auth to be launched', () => children().length === 3);
  controller.abort();
  await assert.rejects(started, { name: 'AbortError' });
  assert.deepEqual(children(), []);
  assert.ok(!existsSync(join(logs, 'gateway.log')), 'the gateway was launched after the start was called off');
});

test('a supervisor killed with SIGKILL takes its services with it', { skip: !existsSync('/proc/self/stat') }, async (t) => {
  const logs = mkdtempSync(join(tmpdir(), 'basalt-fleet-orphans-'));
  const base = await freeBasePort();
  const shared = Object.fromEntries(Object.entries(testEnv().fleetEnv).filter(([k]) => !k.endsWith('_URL') || ['DATABASE_URL', 'REDIS_URL'].includes(k)));
  // a process of its own runs the fleet (as `basalt dev` does) and prints its services' pids once they are up
  const supervisor = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
    import { startFleet } from '@basalt/fleet';
    const fleet = await startFleet(${JSON.stringify({ env: { ...shared, BASALT_PUBLIC_URL: `http://localhost:${base}` }, basePort: base, logs, only: ['platform', 'rest'] })});
    console.log(JSON.stringify([...fleet.processes.values()].map((p) => p.pid)));
  `], { cwd: join(ROOT, 'tests'), stdio: ['ignore', 'pipe', 'inherit'] });
  let pids: number[] = [];
  t.after(() => {
    supervisor.kill('SIGKILL');
    for (const pid of pids) try { process.kill(pid, 'SIGKILL'); } catch { /* gone, as it should be */ }
    rmSync(logs, { recursive: true, force: true });
  });
  pids = await new Promise<number[]>((resolve, reject) => {
    let out = '';
    supervisor.stdout!.on('data', (c) => {
      out += c;
      const line = out.split('\n').find((l) => l.startsWith('['));
      if (line) resolve(JSON.parse(line));
    });
    supervisor.once('exit', (code) => reject(new Error(`the supervisor exited with ${code}:\n${out}`)));
  });
  assert.equal(pids.length, 2);
  supervisor.kill('SIGKILL');
  await until('the services to exit', () => pids.every((pid) => !running(pid)), 30_000);
});
