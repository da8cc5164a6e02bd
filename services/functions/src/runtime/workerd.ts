// One workerd process running the dispatcher worker (dispatcher.js): spawned with a generated config in its own
// temporary directory, listening on a Unix socket there (--control-fd says when; cheaper per call than loopback
// TCP), invocations sent over a keep-alive pool (@basalt/upstream). It knows which isolate ids it has loaded and
// which invocations are in flight, so the supervisor (runtimes.ts) can blame them when it has to kill the process. workerd enforces no CPU or memory limit itself (see runtimes.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { UpstreamPool } from '@basalt/upstream';
import workerdPackage from 'workerd';

/** the workerd binary of the `workerd` package (its CJS export's default is the path; a static import, so the build links the package) */
export const WORKERD_BIN: string = typeof workerdPackage === 'string' ? workerdPackage : workerdPackage.default;
const DISPATCHER = readFileSync(new URL('./dispatcher.js', import.meta.url), 'utf8');
/** kills workerd with its parent even when the parent is SIGKILLed (util-linux; absent elsewhere) */
const SETPRIV = '/usr/bin/setpriv';
/** USER_HZ of /proc/<pid>/stat times: 100 on Linux */
const CLOCK_TICKS = 100;

const config = (hostPort: number, token: string, socketPath: string) => `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "dispatcher", worker = (
      modules = [(name = "dispatcher.js", esModule = embed "dispatcher.js")],
      compatibilityDate = "2026-07-01",
      bindings = [
        (name = "LOADER", workerLoader = (id = "functions")),
        (name = "HOST", service = "host"),
        (name = "TOKEN", text = "${token}"),
      ],
      globalOutbound = "nowhere",
    )),
    (name = "host", external = (address = "127.0.0.1:${hostPort}", http = ())),
    (name = "nowhere", network = (allow = [])),
  ],
  sockets = [(name = "http", address = "unix:${socketPath}", http = (), service = "dispatcher")],
  # gc() for the dispatcher and the prelude's periodic collection (see dispatcher.js); the prelude hides it from
  # function code
  v8Flags = ["--expose-gc"],
);
`;

export type KillReason = 'cpu' | 'memory' | 'recycle' | 'shutdown';

export interface Flight {
  isolate: string;
  /** performance.now() when the invocation was sent */
  started: number;
  /** set when the supervisor killed the process while this invocation ran */
  killed?: KillReason;
  /** the invocation's CPU cap (Dispatch.cpuMs) */
  cpuMs?: number;
}

const rssMb = (pid: number): number => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
};

export class Workerd {
  readonly ready: Promise<void>;
  readonly exited: Promise<number | null>;
  readonly loaded = new Set<string>();
  readonly inflight = new Set<Flight>();
  /**
   * isolates whose invocations have answered, until when (performance.now()) their background work (waitUntil)
   * may still run: such work holds the process's thread as an invocation does, with no invocation left to blame
   */
  readonly tails = new Map<string, number>();
  /** keep-alive sockets to the dispatcher */
  readonly pool: UpstreamPool;
  /** the dispatcher listens on its socket */
  listening = false;
  /** performance.now() of the last invocation sent */
  lastUsed = performance.now();
  killedFor: KillReason | null = null;
  /** the isolates that were running when the process was killed */
  blamed: string[] = [];
  /** when a liveness ping went unanswered since (ms, performance.now()), or null */
  pingSince: number | null = null;
  /** cpuMs() when that ping went out */
  pingCpu = 0;
  readonly #child: ChildProcess;
  readonly #dir: string;
  readonly #socket: string;
  readonly #pingAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  constructor(readonly name: string, hostPort: number, readonly token: string, onStderr: (line: string) => void) {
    this.#dir = mkdtempSync(join(tmpdir(), 'basalt-workerd-'));
    writeFileSync(join(this.#dir, 'dispatcher.js'), DISPATCHER);
    this.#socket = join(this.#dir, 'http.sock');
    // workerd closes a keep-alive connection after 5 s idle
    this.pool = new UpstreamPool({ path: this.#socket }, 4_000);
    writeFileSync(join(this.#dir, 'config.capnp'), config(hostPort, token, this.#socket));
    const args = ['serve', '--experimental', '--control-fd=3', join(this.#dir, 'config.capnp')];
    const pdeath = process.platform === 'linux' && existsSync(SETPRIV);
    this.#child = spawn(pdeath ? SETPRIV : WORKERD_BIN, pdeath ? ['--pdeathsig', 'KILL', WORKERD_BIN, ...args] : args, {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'], env: { TZ: 'UTC' }, // nothing of the host's environment (TZ set: glibc need not consult /etc/localtime on clock reads)
    });
    createInterface({ input: this.#child.stderr! }).on('line', onStderr);
    this.exited = new Promise((resolve) => this.#child.once('exit', (code) => {
      rmSync(this.#dir, { recursive: true, force: true });
      this.pool.destroy();
      this.#pingAgent.destroy();
      resolve(code);
    }));
    this.ready = new Promise((resolve, reject) => {
      const lines = createInterface({ input: this.#child.stdio[3] as NodeJS.ReadableStream });
      lines.on('line', (line) => {
        try {
          const ev = JSON.parse(line) as { event?: string; socket?: string };
          if (ev.event === 'listen' && ev.socket === 'http') {
            this.listening = true;
            resolve();
          }
        } catch {
          /* not an event line */
        }
      });
      void this.exited.then((code) => reject(new Error(`workerd exited (${code}) before listening`)));
      this.#child.once('error', reject);
    });
    this.ready.catch(() => undefined);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get alive(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** CPU time (user + system, ms) the process has used so far, from /proc (0 where there is none) */
  cpuMs(): number {
    try {
      const fields = readFileSync(`/proc/${this.#child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
    } catch {
      return 0;
    }
  }

  rssMb(): number {
    return this.#child.pid ? rssMb(this.#child.pid) : 0;
  }

  /** Resolves true when the dispatcher answers within ms: its one thread is not stuck in some isolate's loop. */
  ping(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const req = http.get({ socketPath: this.#socket, path: '/__basalt/ping', agent: this.#pingAgent, headers: { 'x-basalt-runtime-token': this.token } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
      });
      req.setTimeout(ms, () => {
        req.destroy();
        resolve(false);
      });
      req.on('error', () => resolve(false));
    });
  }

  /**
   * SIGKILL now (a CPU-bound isolate ignores SIGTERM); the invocations in flight are marked with why, and those
   * sent before `since` (when the process stopped answering) are blamed: one sent later never got to run.
   */
  kill(why: KillReason, since = Infinity): void {
    if (!this.killedFor) this.killedFor = why;
    for (const f of this.inflight) f.killed ??= why;
    this.blamed = [...this.inflight].filter((f) => f.started < since).map((f) => f.isolate);
    // nothing was running when it stopped answering: some isolate's work after its answer holds the thread
    if (this.blamed.length === 0 && since !== Infinity) for (const [isolate, until] of this.tails) if (until > since) this.blamed.push(isolate);
    try {
      this.#child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }

  /** Waits for the invocations in flight (at most graceMs), then stops the process. */
  async retire(graceMs: number): Promise<void> {
    const until = Date.now() + graceMs;
    while (this.inflight.size > 0 && Date.now() < until && this.alive) await new Promise((r) => setTimeout(r, 50));
    if (this.alive) this.kill(this.inflight.size > 0 ? 'recycle' : 'shutdown');
    await this.exited;
  }
}
