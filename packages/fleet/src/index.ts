// Runs the fleet on one machine as child processes: platform first (it migrates the control database),
// then every other service that exists in this checkout, then the gateway; waits until each answers /health.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, fstatSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVICES, type ServiceSpec } from './services.js';
import { DEFAULT_RESTART_POLICY, Supervisor, type RestartPolicy, type SupervisorEvents } from './supervisor.js';

export { SERVICES, type ServiceSpec };
export { DEFAULT_RESTART_POLICY, Supervisor, type RestartPolicy, type SupervisorEvents };
export { postgresBin, startLocalCluster, type LocalCluster } from './local-cluster.js';
export { dropRedisKeys } from './redis-keys.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface FleetOptions {
  /** env shared by every service (DATABASE_URL, REDIS_URL, BASALT_MASTER_KEY, …) */
  env: Record<string, string>;
  /** gateway port; service i listens on basePort + its offset from 8000 */
  basePort?: number;
  /** 'inherit' prints logs; a directory writes <service>.log files there */
  logs?: 'inherit' | string;
  only?: string[];
  onExit?: (name: string, code: number | null) => void;
  /** a service that exits on its own is started again (see Supervisor); these report it */
  onRestart?: SupervisorEvents['onRestart'];
  onGiveUp?: SupervisorEvents['onGiveUp'];
  restartPolicy?: RestartPolicy;
  /** aborting it while the fleet starts stops what was launched so far; startFleet then rejects with its reason */
  signal?: AbortSignal;
  /**
   * services run from a built bundle (`npm run build -- --outdir <dir>` writes <dir>/<name>.mjs) with plain node, as
   * the images run them, instead of their sources under tsx: bench/gateway/ab.ts compares two builds in one fleet run
   */
  bundles?: Partial<Record<string, string>>;
  /** the node binary the services run with (default: this process's): bench/gateway/ab.ts compares two Node versions */
  node?: string;
}

export interface Fleet {
  urls: Record<string, string>;
  gatewayUrl: string;
  env: Record<string, string>;
  processes: Map<string, ChildProcess>;
  stop: () => Promise<void>;
  /** starts one service again (after a test stopped it) */
  restart: (name: string) => Promise<void>;
}

/**
 * Polls `url`/health until it answers 200. Given a process, a crash of it fails at once; given a supervisor, a crash
 * at start is the supervisor's to restart (a port another program held for a moment, say), and only its giving up
 * fails. An aborted `signal` fails it with the signal's reason.
 */
export async function waitForHealth(url: string, timeoutMs: number, child?: ChildProcess | Supervisor, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    if (child instanceof Supervisor) {
      if (child.givenUp) throw new Error(`${url}: ${child.name} kept exiting at start`);
    } else if (child && child.exitCode !== null) throw new Error(`${url}: process exited with code ${child.exitCode}`);
    try {
      const r = await fetch(`${url}/health`, { signal });
      if (r.ok) return;
      last = `HTTP ${r.status}`;
    } catch (e) {
      signal?.throwIfAborted();
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not become healthy in ${timeoutMs} ms (${last})`);
}

export function fleetEnv(specs: ServiceSpec[], basePort: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const s of specs) if (s.urlEnv) env[s.urlEnv] = `http://127.0.0.1:${basePort + (s.port - 8000)}`;
  return env;
}

/** BASALT_CPU_PROF=memory,gateway writes those services' V8 CPU profiles (on exit) to BASALT_CPU_PROF_DIR */
function profileArgs(name: string): string[] {
  const wanted = (process.env.BASALT_CPU_PROF ?? '').split(',').map((x) => x.trim());
  if (!wanted.includes(name) && !wanted.includes('all')) return [];
  return ['--cpu-prof', `--cpu-prof-dir=${process.env.BASALT_CPU_PROF_DIR ?? join(ROOT, '.basalt/profiles')}`];
}

export async function startFleet(opts: FleetOptions): Promise<Fleet> {
  const basePort = opts.basePort ?? 8000;
  const specs = SERVICES.filter((s) => existsSync(join(ROOT, s.entry)) && (!opts.only || opts.only.includes(s.name)));
  const shared = { ...opts.env, ...fleetEnv(specs, basePort) };
  const processes = new Map<string, ChildProcess>();
  const urls: Record<string, string> = {};
  if (opts.logs && opts.logs !== 'inherit') mkdirSync(opts.logs, { recursive: true });

  const supervisors = new Map<string, Supervisor>();
  const launch = async (s: ServiceSpec) => {
    opts.signal?.throwIfAborted(); // nothing is spawned once the start was called off
    const port = basePort + (s.port - 8000);
    const logFile = opts.logs && opts.logs !== 'inherit' ? join(opts.logs, `${s.name}.log`) : null;
    const spawnChild = () => {
      const out = logFile ? openSync(logFile, 'a') : 'inherit';
      const bundle = opts.bundles?.[s.name];
      const code = bundle ? ['--enable-source-maps', bundle] : ['--import', 'tsx', join(ROOT, s.entry)];
      const child = spawn(opts.node ?? process.execPath, [...(s.nodeArgs ?? []), ...profileArgs(s.name), ...code], {
        cwd: ROOT,
        env: { ...process.env, ...shared, PORT: String(port) },
        // the IPC channel ties the service to this process: it drains and exits when the channel closes (this process
        // killed by SIGKILL, say; @basalt/http's serve)
        stdio: ['ignore', out, out, 'ipc'],
      });
      if (typeof out === 'number') closeSync(out); // the child holds its own copy
      return child;
    };
    supervisors.get(s.name)?.release();
    const supervisor = new Supervisor(s.name, spawnChild, opts.restartPolicy ?? DEFAULT_RESTART_POLICY, {
      onSpawn: (child) => {
        processes.set(s.name, child);
        child.on('exit', (code) => opts.onExit?.(s.name, code));
      },
      onRestart: opts.onRestart,
      onGiveUp: opts.onGiveUp,
    }, () => (logFile ? tail(logFile) : ''));
    supervisors.set(s.name, supervisor);
    urls[s.name] = `http://127.0.0.1:${port}`;
    await waitForHealth(urls[s.name], 180_000, supervisor, opts.signal);
  };

  const stop = async () => {
    for (const s of supervisors.values()) s.release();
    await Promise.all(
      [...processes.values()].map(
        (p) =>
          new Promise<void>((r) => {
            if (p.exitCode !== null || p.signalCode !== null) return r();
            p.once('exit', () => r());
            p.kill('SIGTERM');
            setTimeout(() => p.kill('SIGKILL'), 10_000).unref();
          }),
      ),
    );
  };

  try {
    const platform = specs.find((s) => s.name === 'platform');
    if (platform) await launch(platform);
    await Promise.all(specs.filter((s) => s.name !== 'platform' && s.name !== 'gateway').map(launch));
    const gateway = specs.find((s) => s.name === 'gateway');
    if (gateway) await launch(gateway);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    urls,
    gatewayUrl: urls.gateway,
    env: shared,
    processes,
    stop,
    restart: async (name: string) => {
      const spec = specs.find((s) => s.name === name);
      if (!spec) throw new Error(`unknown service ${name}`);
      await launch(spec);
    },
  };
}

/** The last lines of a log file (at most 4 KB), to say why a service died. */
function tail(path: string, lines = 12): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(size, 4096));
    readSync(fd, buf, 0, buf.length, size - buf.length);
    return buf.toString('utf8').split('\n').slice(-lines - 1).join('\n');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * One more process of a service, started by a test (a process to stop, say) from its entry point under the repo
 * root, on a free port with `env` over this process's (a function of the port for settings that name it); resolves
 * once it is healthy, with `exited` (its exit code) already listening.
 */
export async function spawnService(
  entry: string, env: Record<string, string> | ((port: number) => Record<string, string>), stdout: 'inherit' | 'ignore' = 'inherit',
): Promise<{ port: number; url: string; child: ChildProcess; exited: Promise<number | null> }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, entry)], {
    env: { ...process.env, ...(typeof env === 'function' ? env(port) : env), PORT: String(port) },
    stdio: ['ignore', stdout, 'inherit'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(url, 30_000, child);
  return { port, url, child, exited };
}

/** A port the kernel just handed out as free (listen on 0), for processes a test starts itself. */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as import('node:net').AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A base port whose fleet range (base … base+10, as SERVICES lay it out) is free right now, below the kernel's
 * ephemeral range: there, any outgoing connection (the fleet's own to Postgres and Redis) may take a service's port
 * between this check and the service's listen.
 */
export async function freeBasePort(): Promise<number> {
  const net = await import('node:net');
  let ephemeralLow = 32_768;
  try {
    ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || ephemeralLow;
  } catch {
    // not Linux: the usual lower bound
  }
  const low = ephemeralLow > 12_000 ? 10_000 : 1_024;
  const slots = Math.max(1, Math.floor((ephemeralLow - 20 - low) / 100));
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = net.createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = low + Math.floor(Math.random() * slots) * 100;
    if ((await Promise.all(Array.from({ length: 11 }, (_, i) => free(base + i)))).every(Boolean)) return base;
  }
  throw new Error('no free port range found');
}
