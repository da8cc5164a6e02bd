// The function runtime: a few workerd processes (workerd.ts) running the dispatcher worker, which loads every
// function version into its own isolate through the Worker Loader. Projects are spread over the shard processes
// by a hash of their ref. A version that has not yet answered once runs in the probation process (so a module
// that loops, throws or blows up at start harms no established function); a version running when its shard had
// to be killed goes back to probation, and one running when probation had to be killed moves to a quarantine
// process for good, so a repeat offender takes down nobody else.
//
// workerd (open source) enforces no CPU time and no memory limit and runs each process on one thread, so this
// supervisor does: a process whose dispatcher stops answering pings while invocations run, and burns cpuMs of CPU
// time meanwhile, is stuck in some isolate's loop and is SIGKILLed; one whose resident memory passes its budget likewise. A process that dies
// for any reason is started again at once; only the invocations it was running fail. Loader ids live as long as
// their process (workerd never evicts them), so a process that has loaded maxIsolates ids is replaced by a fresh
// one (started before the switch) and retired once its invocations finish: that bounds memory and evicts idle
// isolates.
//
// The host socket (127.0.0.1, random port, a per-process token) is the processes' only way out: GET /code/:id
// hands the dispatcher a version's bundle and env, and /egress carries every fetch an isolate makes, under the
// shared egress policy.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidResponse, send, type Cancellation, type UpstreamResponse } from '@basalt/upstream';
import { passUpTo } from './byte-limit.js';
import { egressGuard, type EgressOptions } from './egress.js';
import { Workerd, type Flight, type KillReason } from './workerd.js';

export interface IsolateSpec {
  code: string;
  env: Record<string, string>;
}

export interface RuntimeOptions {
  /** workerd processes tenants are spread over (plus one quarantine process, started when needed) */
  processes: number;
  /** isolate ids a process may load before it is replaced */
  maxIsolates: number;
  /** working memory (MB) a process may use beyond its isolates' share; past it, it is killed */
  memoryMb: number;
  /** how long the dispatcher may go unanswered while invocations run: the longest run of CPU an isolate gets */
  cpuMs: number;
  /** outbound requests (fetch) one invocation may make */
  subrequests: number;
  /**
   * largest body of one outbound request (default 20 MB): the egress path reads a body whole before it sends it
   * (each redirect hop may send it again), so without a cap a body that never ends grows the service's memory
   */
  subrequestBytes?: number;
  egress: EgressOptions;
  /** a project's probation process stops after this long without invocations (default 10 s) */
  probationIdleMs?: number;
  /** how long after its answer an invocation's background work (EdgeRuntime.waitUntil) is watched, and blamed (default 30 s) */
  tailMs?: number;
  onEvent: (event: string, detail: Record<string, unknown>) => void;
}

/** compat date and flags of every function isolate, local or on a remote target (Deno.serve shim and node:async_hooks need nodejs_compat) */
export const COMPAT = { compatibilityDate: '2024-09-23', compatibilityFlags: ['nodejs_compat'] };
/** resident memory allowed per loaded isolate, on top of the process baseline */
const ISOLATE_MB = 3;
const BASE_MB = 96;
const QUARANTINE = 'quarantine';
const SHARD = 'shard-';
/** probation processes are per project (`probation:<ref>`), started on demand, stopped when idle */
const PROBATION = 'probation:';
const PROBATION_IDLE_MS = 10_000;
const MAX_PROBATION = 4;
/** supervisor tick: how often a busy process is pinged; memory is read every 4th tick */
const TICK_MS = 25;
/**
 * the tick while no process is busy or on probation, which only reads memory: an idle service then wakes once a
 * second, not 40 times (the 25 ms tick cost an idle service 8–9 ms of CPU a second)
 */
const IDLE_TICK_MS = 1000;
/** request bodies up to this size are kept while they stream, so an invocation that never ran can be replayed */
const REPLAY_BYTES = 1024 * 1024;
const TAIL_MS = 30_000;
const SUBREQUEST_BYTES = 20 * 1024 * 1024;

export interface RuntimeStat {
  process: string;
  pid: number | undefined;
  isolates: number;
  inflight: number;
  rss_mb: number;
}

export class RuntimeError extends Error {
  /** innocent: the invocation shared a process another isolate brought down; it is not to blame */
  constructor(readonly reason: KillReason | 'crashed', message: string, readonly innocent = false, readonly unsent = false) {
    super(message);
  }
}

interface Spec {
  get: () => Promise<IsolateSpec>;
  refs: number;
  /** size of the code once it was handed over */
  bytes?: number;
}

interface Tap {
  kept: Buffer[];
  bytes: number;
  ended: boolean;
}

interface Budget {
  inflight: number;
  left: number;
}

export interface Dispatch {
  isolate: string;
  /** stable part of the isolate id (version and secrets), what quarantine remembers */
  version: string;
  ref: string;
  spec: () => Promise<IsolateSpec>;
  url: string;
  method: string;
  headers: Record<string, string>;
  body: Readable | null;
  /** the invocation's CPU cap: the runtime's own cpuMs, or the plan's fn_cpu_ms where that is lower */
  cpuMs?: number;
}

export class Runtimes {
  /** process slots by name: shard-0…shard-N-1, probation, quarantine; each holds its current process */
  readonly #slots = new Map<string, Workerd>();
  readonly #starting = new Map<string, Promise<Workerd>>();
  /** versions that have answered once without harm: only they run beside other projects */
  readonly #proven = new Set<string>();
  /** versions that answered on probation and are being loaded into their shard meanwhile */
  readonly #promoting = new Set<string>();
  readonly #suspects = new Set<string>();
  readonly #specs = new Map<string, Spec>();
  readonly #budgets = new Map<string, Budget>();
  /** isolates a process still holds for sleeping projects (workerd cannot unload one): past half, it is recycled */
  readonly #released = new WeakMap<Workerd, Set<string>>();
  readonly #token = randomBytes(24).toString('hex');
  readonly #host: http.Server;
  readonly #outbound: (request: Request) => Promise<Response>;
  /** the supervisor's next tick */
  #watch: NodeJS.Timeout | null = null;
  /** ticking every TICK_MS (from a process's first invocation until every process is idle again), else IDLE_TICK_MS */
  #watching = false;
  #hostPort = 0;
  #ticks = 0;
  #closing = false;

  private readonly o: Required<RuntimeOptions>;

  constructor(options: RuntimeOptions) {
    this.o = { probationIdleMs: PROBATION_IDLE_MS, subrequestBytes: SUBREQUEST_BYTES, tailMs: TAIL_MS, ...options };
    this.#outbound = egressGuard(options.egress);
    this.#host = http.createServer((req, res) => void this.#serveHost(req, res));
    this.#host.keepAliveTimeout = 60_000;
    this.#tickIn(IDLE_TICK_MS);
  }

  /** whether the supervisor ticks every TICK_MS: from a process's first invocation until every process is idle again */
  get watching(): boolean {
    return this.#watching;
  }

  /** The supervisor's tick at its busy rate, from now: before anything is sent that it must watch. */
  #watchOn(): void {
    if (this.#watching) return;
    this.#watching = true;
    this.#tickIn(TICK_MS);
  }

  #tickIn(ms: number): void {
    if (this.#watch) clearTimeout(this.#watch);
    if (this.#closing) return;
    this.#watch = setTimeout(() => this.#supervise(), ms);
    this.#watch.unref();
  }

  /** Binds the host socket and starts the processes, so the first invocation finds them warm. */
  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#host.listen(0, '127.0.0.1', resolve));
    this.#hostPort = (this.#host.address() as AddressInfo).port;
    const names = Array.from({ length: this.o.processes }, (_, i) => `shard-${i}`);
    await Promise.all(names.map((name) => this.#slot(name).catch((e: Error) => this.o.onEvent('workerd failed to start', { process: name, error: e.message }))));
  }

  /**
   * Which process runs a version: a new version is on probation in its project's own probation process until it
   * has answered once; a version that was running when probation had to be killed is quarantined for good; every
   * other one runs in its project's shard (a hash of the ref).
   */
  #slotFor(ref: string, version: string): string {
    if (this.#suspects.has(version)) return QUARANTINE;
    if (!this.#proven.has(version)) return PROBATION + ref;
    return this.#shardOf(ref);
  }

  #shardOf(ref: string): string {
    let h = 0;
    for (let i = 0; i < ref.length; i++) h = (h * 31 + ref.charCodeAt(i)) | 0;
    return `${SHARD}${Math.abs(h) % this.o.processes}`;
  }

  #running(name: string): Workerd | undefined {
    const w = this.#slots.get(name);
    return w && w.alive && !w.killedFor ? w : undefined;
  }

  /** The slot's process, started (once, however many callers wait) when it has none or it died. */
  #slot(name: string): Promise<Workerd> {
    const w = this.#running(name);
    if (w) return Promise.resolve(w);
    const pending = this.#starting.get(name);
    if (pending) return pending;
    if (this.#closing) return Promise.reject(new RuntimeError('shutdown', 'the functions service is shutting down'));
    if (name.startsWith(PROBATION)) this.#trimProbation();
    const started = this.#launch(name).finally(() => this.#starting.delete(name));
    this.#starting.set(name, started);
    return started;
  }

  /** Before another probation process starts: beyond MAX_PROBATION, the least recently used idle one stops. */
  #trimProbation(): void {
    const idle = [...this.#slots.values()].filter((w) => w.name.startsWith(PROBATION));
    if (idle.length < MAX_PROBATION) return;
    const lru = idle.filter((w) => w.inflight.size === 0).sort((x, y) => x.lastUsed - y.lastUsed)[0];
    if (!lru) return;
    this.#slots.delete(lru.name);
    lru.killedFor = 'shutdown';
    void lru.retire(0);
  }

  /** Starts a process for a slot and installs it once it listens; when it dies, the slot gets a new one. */
  #launch(name: string): Promise<Workerd> {
    const w = new Workerd(name, this.#hostPort, this.#token, (line) => this.o.onEvent('workerd stderr', { process: name, line }));
    void w.exited.then((code) => {
      if (this.#closing) return;
      this.o.onEvent('workerd exited', { process: name, pid: w.pid, code, reason: w.killedFor ?? 'crashed', running: w.killedFor ? w.blamed : [...w.inflight].map((f) => f.isolate) });
      // a shard or quarantine restarts at once (not on the next invocation) so its other tenants find it warm;
      // a probation process on the next invocation of its project
      if (w.listening && this.#slots.get(name) === w) {
        this.#slots.delete(name);
        if (!name.startsWith(PROBATION)) void this.#slot(name).catch(() => undefined);
      }
    });
    return w.ready.then(() => {
      this.#slots.set(name, w);
      this.o.onEvent('workerd started', { process: name, pid: w.pid });
      return w;
    });
  }

  /** Invokes an isolate: resolves with the response head and its body stream, or rejects with a RuntimeError. */
  async dispatch(d: Dispatch, signal: Cancellation): Promise<UpstreamResponse> {
    // the body is kept (up to REPLAY_BYTES) while it streams, so an invocation that never ran can be sent again
    const tap: Tap = { kept: [], bytes: 0, ended: d.body === null };
    try {
      return await this.#attempt(d, d.body, signal, tap);
    } catch (e) {
      // Sent to a process already stuck in another isolate's loop, it never ran: it goes again, once.
      if (!(e instanceof RuntimeError) || !e.innocent || (e.reason !== 'cpu' && !e.unsent) || !tap.ended || tap.bytes > REPLAY_BYTES || signal.aborted) throw e;
      this.o.onEvent('invocation replayed', { isolate: d.isolate });
      return this.#attempt(d, d.body ? Readable.from(tap.kept) : null, signal, undefined, true);
    }
  }

  /** fresh: on a new connection (a replay, after a pooled one closed under the first try) */
  async #attempt(d: Dispatch, body: Readable | null, signal: Cancellation, tap?: Tap, fresh = false): Promise<UpstreamResponse> {
    const version = d.version;
    const name = this.#slotFor(d.ref, version);
    // the slot's running process without a turn of the event loop (the common case), else started
    const w = this.#running(name) ?? (await this.#slot(name));
    w.lastUsed = performance.now();
    if (!w.loaded.has(d.isolate)) this.#holdSpec(d.isolate, d.spec);
    const flight: Flight = { isolate: d.isolate, started: performance.now(), cpuMs: d.cpuMs };
    w.inflight.add(flight);
    this.#watchOn();
    const budget = this.#budgets.get(d.isolate) ?? { inflight: 0, left: 0 };
    budget.inflight++;
    budget.left += this.o.subrequests;
    this.#budgets.set(d.isolate, budget);
    const done = () => {
      w.inflight.delete(flight);
      w.tails.set(d.isolate, performance.now() + this.o.tailMs);
      if (--budget.inflight === 0) this.#budgets.delete(d.isolate);
      if (!w.loaded.has(d.isolate)) this.#releaseSpec(d.isolate);
    };
    try {
      if (body && tap) {
        body.on('data', (c: Buffer) => {
          tap.bytes += c.length;
          if (tap.bytes <= REPLAY_BYTES) tap.kept.push(c);
        });
        body.once('end', () => {
          tap.ended = true;
        });
      }
      // the invocation's own header object carries the runtime's fields (set again by a replay, for its process)
      const headers = d.headers;
      headers['x-basalt-runtime-token'] = w.token;
      headers['x-basalt-runtime-isolate'] = d.isolate;
      headers['x-basalt-runtime-url'] = d.url;
      const res = await send(w.pool, { method: d.method, path: '/', body, signal, fresh, headers });
      if (res.headers['x-basalt-runtime-error'] === undefined) {
        w.loaded.add(d.isolate);
        this.#released.get(w)?.delete(d.isolate);
      }
      const ok = () => {
        if (!flight.killed && res.status < 500) this.#prove(d, w);
      };
      if (res.stream) {
        res.stream.once('end', ok);
        res.stream.once('close', done);
        res.stream.once('error', () => undefined);
      } else {
        ok();
        done();
      }
      if (w.loaded.size > this.o.maxIsolates) this.#recycle(w);
      return res;
    } catch (e) {
      done();
      if (signal.aborted) throw signal.reason;
      // an answer came that cannot be read (a head past 64 KB): the function ran, and is not sent again
      if (e instanceof InvalidResponse) throw e;
      // the process died under this invocation: killed by the supervisor, or crashed (give the exit a moment)
      if (!flight.killed) await Promise.race([w.exited, new Promise((r) => setTimeout(r, 500))]);
      const why = flight.killed ?? (w.alive ? null : w.killedFor ?? 'crashed');
      // the connection failed but the process lives (a kept-alive socket closed as it was reused): never ran
      if (why === null) throw new RuntimeError('crashed', `the function runtime did not answer: ${(e as Error).message}`, true, true);
      // A version to blame loses its place beside other projects: from a shard it goes back to probation, and
      // from probation or quarantine it is quarantined for good. (A process stuck in a loop cannot say which
      // isolate it runs: every invocation sent before it stopped answering is blamed.)
      const blamed = why === 'crashed' || w.blamed.includes(d.isolate);
      if (blamed && w.name.startsWith(SHARD)) this.#proven.delete(version);
      else if (blamed) this.#suspects.add(version);
      throw new RuntimeError(why, why === 'crashed' ? `the function runtime stopped: ${(e as Error).message}` : `killed (${why})`, !blamed);
    }
  }

  /**
   * A version that answered without harm may run beside other projects. One proven on probation is first loaded
   * into its shard (module evaluation only: no request reaches it) while its calls stay on probation, where it is
   * warm; so moving costs the caller no second cold start. A load that fails leaves it on probation; one that brought
   * the shard down sends it to quarantine.
   */
  #prove(d: Dispatch, from: Workerd): void {
    if (this.#proven.has(d.version) || this.#promoting.has(d.version)) return;
    if (!from.name.startsWith(PROBATION)) return void this.#proven.add(d.version);
    this.#promoting.add(d.version);
    void this.#preload(d).then((ok) => {
      this.#promoting.delete(d.version);
      if (ok && !this.#suspects.has(d.version)) this.#proven.add(d.version);
    });
  }

  async #preload(d: Dispatch): Promise<boolean> {
    let w: Workerd;
    try {
      w = await this.#slot(this.#shardOf(d.ref));
    } catch {
      return false;
    }
    if (w.loaded.has(d.isolate)) return true;
    this.#holdSpec(d.isolate, d.spec);
    // watched like an invocation: a module that loops at start in the shard is caught and blamed
    const flight: Flight = { isolate: d.isolate, started: performance.now() };
    w.inflight.add(flight);
    this.#watchOn();
    try {
      const { status } = await send(w.pool, {
        method: 'POST', path: '/__basalt/load', body: null,
        headers: { 'x-basalt-runtime-token': w.token, 'x-basalt-runtime-isolate': d.isolate },
      });
      if (status !== 204 || flight.killed) return false;
      w.loaded.add(d.isolate);
      if (w.loaded.size > this.o.maxIsolates) this.#recycle(w);
      return true;
    } catch {
      return false;
    } finally {
      w.inflight.delete(flight);
      if (!w.loaded.has(d.isolate)) this.#releaseSpec(d.isolate);
      // it brought the shard down (a module that loops or blows up there): never near other projects again
      if (flight.killed && w.blamed.includes(d.isolate)) this.#suspects.add(d.version);
    }
  }

  /** After an invocation overran its wall time: is the process still answering, or stuck in the isolate? */
  async checkAfterTimeout(isolate: string): Promise<void> {
    for (const w of this.#all()) {
      if (![...w.inflight].some((f) => f.isolate === isolate) && !w.loaded.has(isolate)) continue;
      const since = performance.now();
      if (!(await w.ping(Math.min(this.o.cpuMs, 1000)))) w.kill('cpu', since);
    }
  }

  #all(): Workerd[] {
    return [...this.#slots.values()].filter((w) => w.alive);
  }

  /** Replaces a process that has loaded too many isolates: the new one starts first, the old one drains. */
  #recycle(w: Workerd): void {
    if (w.killedFor || this.#starting.has(w.name) || this.#slots.get(w.name) !== w) return;
    this.o.onEvent('workerd recycled', { process: w.name, pid: w.pid, isolates: w.loaded.size, rss_mb: Math.round(w.rssMb()) });
    const started = this.#launch(w.name).then((next) => {
      w.killedFor = 'recycle';
      void w.retire(30_000);
      return next;
    }).finally(() => this.#starting.delete(w.name));
    started.catch(() => undefined);
    this.#starting.set(w.name, started);
  }

  /**
   * Every tick: a process that runs invocations but no longer answers within cpuMs, or outgrew its memory (read
   * every 4th busy tick, and every idle one), dies. The busy rate goes on while a process has work to watch (or a
   * ping yet to be answered), or a probation process is yet to stop.
   */
  #supervise(): void {
    const now = performance.now();
    const memory = !this.#watching || ++this.#ticks % 4 === 0;
    let needed = false;
    for (const w of this.#all()) {
      if (!w.listening || w.killedFor) continue;
      if (w.name.startsWith(PROBATION) && w.inflight.size === 0 && now - w.lastUsed > this.o.probationIdleMs) {
        this.#slots.delete(w.name);
        w.killedFor = 'shutdown';
        void w.retire(0);
        continue;
      }
      // watched while invocations run, and while the work some left behind (waitUntil) may still run
      const busy = w.inflight.size > 0 || this.#tailing(w, now);
      if (busy || w.pingSince !== null || w.name.startsWith(PROBATION)) needed = true;
      if (busy && w.pingSince === null) {
        w.pingSince = now;
        w.pingCpu = w.cpuMs();
        // no timeout of its own: while unanswered, pingSince says since when the process has been stuck
        void w.ping(600_000).then(() => {
          w.pingSince = null;
        });
      } else if (w.pingSince !== null && busy && this.#spinning(w, now)) {
        w.kill('cpu', w.pingSince);
        this.#blameTails(w);
        this.o.onEvent('workerd stuck', { process: w.name, pid: w.pid, blamed: w.blamed, inflight: w.inflight.size });
        continue;
      }
      if (!memory) continue;
      // isolates released for a sleeping project still live in the process until it is recycled: they count
      const limit = BASE_MB + this.o.memoryMb + ISOLATE_MB * (w.loaded.size + (this.#released.get(w)?.size ?? 0));
      const rss = w.rssMb();
      if (rss > limit) {
        w.kill('memory', now - 100);
        this.#blameTails(w);
        this.o.onEvent('workerd over memory', { process: w.name, pid: w.pid, rss_mb: Math.round(rss), limit_mb: limit, blamed: w.blamed, inflight: w.inflight.size });
      }
    }
    this.#watching = needed;
    this.#tickIn(needed ? TICK_MS : IDLE_TICK_MS);
  }

  /** whether some isolate's background work may still run in the process (forgetting those past their time) */
  #tailing(w: Workerd, now: number): boolean {
    for (const [isolate, until] of w.tails) if (until <= now) w.tails.delete(isolate);
    return w.tails.size > 0;
  }

  /**
   * A kill blamed on work left behind by answered invocations (Workerd.kill): no invocation of theirs is waiting
   * to be blamed, so their versions lose their place here, as a running one's would (#attempt).
   */
  #blameTails(w: Workerd): void {
    for (const isolate of w.blamed) {
      if ([...w.inflight].some((f) => f.isolate === isolate)) continue;
      const version = isolate.slice(0, isolate.lastIndexOf('#'));
      if (w.name.startsWith(SHARD)) this.#proven.delete(version);
      else this.#suspects.add(version);
    }
  }

  /**
   * How long the process may go unanswered: cpuMs, or while it compiles and starts a version it has not loaded
   * yet, twice that plus a second per MB of code (a large bundle takes a while to compile; a loop at module init
   * is still caught).
   */
  #budget(w: Workerd): number {
    // A plan's fn_cpu_ms lowers it while that project has an invocation in the process: the process cannot say
    // which isolate holds its thread, so the lowest cap among those waiting applies to the stall.
    let cpuMs = this.o.cpuMs;
    for (const f of w.inflight) if (f.cpuMs !== undefined && f.cpuMs < cpuMs) cpuMs = f.cpuMs;
    let budget = cpuMs;
    for (const f of w.inflight) {
      if (w.loaded.has(f.isolate)) continue;
      budget = Math.max(budget, 2 * cpuMs + ((this.#specs.get(f.isolate)?.bytes ?? 0) / 1048576) * 1000);
    }
    return budget;
  }

  /**
   * Stuck in an isolate: since the unanswered ping went out, the process has used the budget in CPU time (so one
   * that is merely slow because the machine is overloaded is left alone). Without /proc: the budget in wall time.
   */
  #spinning(w: Workerd, now: number): boolean {
    const cpu = w.cpuMs();
    return cpu === 0 ? now - w.pingSince! > this.#budget(w) : cpu - w.pingCpu >= this.#budget(w);
  }

  #holdSpec(isolate: string, get: () => Promise<IsolateSpec>): void {
    const s = this.#specs.get(isolate);
    if (s) s.refs++;
    else this.#specs.set(isolate, { get, refs: 1 });
  }

  #releaseSpec(isolate: string): void {
    const s = this.#specs.get(isolate);
    if (s && --s.refs <= 0) this.#specs.delete(isolate);
  }

  async #serveHost(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.headers['x-basalt-runtime-token'] !== this.#token) return void res.writeHead(403).end();
    try {
      if (req.url?.startsWith('/code/')) {
        const isolate = decodeURIComponent(req.url.slice('/code/'.length));
        const s = this.#specs.get(isolate);
        if (!s) return void res.writeHead(404).end(`no pending load of ${isolate}`);
        const spec = await s.get();
        s.bytes = Buffer.byteLength(spec.code);
        // Deno.env reads these during module evaluation, before any request carries the bindings.
        const code = `globalThis.__BASALT_ENV__ = ${JSON.stringify(spec.env)};\n${spec.code}`;
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...COMPAT, code, env: spec.env }));
      }
      if (req.url === '/egress') return await this.#egress(req, res);
      res.writeHead(404).end();
    } catch (e) {
      if (!res.headersSent) res.writeHead(500).end((e as Error).message);
      else res.destroy();
    }
  }

  async #egress(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const isolate = String(req.headers['x-basalt-runtime-isolate']);
    const url = String(req.headers['x-basalt-runtime-url']);
    const budget = this.#budgets.get(isolate);
    if (!budget || budget.left <= 0) {
      req.resume();
      res.writeHead(429, { 'content-type': 'application/json', 'x-basalt-egress': 'limited' });
      return void res.end(JSON.stringify({ code: 'subrequest_limit', message: `A function invocation may make at most ${this.o.subrequests} subrequests` }));
    }
    budget.left--;
    const max = this.o.subrequestBytes;
    if (Number(req.headers['content-length'] ?? 0) > max) return this.#tooLarge(req, res);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !k.startsWith('x-basalt-runtime-')) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    let tooLarge = false;
    const body = hasBody ? passUpTo(req, max, (out) => {
      tooLarge = true;
      out.destroy(new Error(`outbound request body larger than ${max} bytes`));
    }) : null;
    const out = await this.#outbound(new Request(url, {
      method: req.method, headers,
      ...(body ? { body: Readable.toWeb(body) as ReadableStream, duplex: 'half' } : {}),
    } as RequestInit));
    if (tooLarge) {
      await out.body?.cancel();
      return this.#tooLarge(req, res);
    }
    const head: Record<string, string[]> = {};
    out.headers.forEach((v, k) => {
      if (k !== 'transfer-encoding' && k !== 'connection' && k !== 'keep-alive') (head[k] ??= []).push(v);
    });
    res.writeHead(out.status, head);
    if (out.body) await pipeline(Readable.fromWeb(out.body as never), res);
    else res.end();
  }

  /**
   * Refuses the body with a 413 and closes the connection: workerd hands an answer to the function only once its
   * body is all sent, so the function's fetch fails at once ("Network connection lost") instead of sending on.
   */
  #tooLarge(req: http.IncomingMessage, res: http.ServerResponse): void {
    req.unpipe();
    req.pause();
    res.writeHead(413, { 'content-type': 'application/json', 'x-basalt-egress': 'limited', connection: 'close' });
    res.end(JSON.stringify({ code: 'subrequest_too_large', message: `An outbound request body may be at most ${this.o.subrequestBytes} bytes` }));
  }

  /** Stops every process (SIGKILL after the grace) and the host socket. */
  async close(): Promise<void> {
    this.#closing = true;
    if (this.#watch) clearTimeout(this.#watch);
    // A process still starting (a shard restarting after a kill) is installed once it listens: wait for it (a few
    // seconds at most), so it is retired with the rest instead of outliving the service.
    await Promise.race([Promise.allSettled([...this.#starting.values()]), new Promise((r) => setTimeout(r, 5_000).unref())]);
    await Promise.all(this.#all().map((w) => w.retire(2000)));
    await new Promise((r) => this.#host.close(r));
    this.#host.closeAllConnections();
  }

  /**
   * A project put to sleep: its probation process stops, and its isolates no longer count as loaded anywhere. A
   * workerd process cannot unload one isolate, so a process whose isolates are mostly released ones is replaced
   * (the new one starts first, the old one drains), which frees their memory.
   */
  release(ref: string): { fn_isolates: number; fn_processes: number } {
    let isolates = 0;
    let processes = 0;
    const mine = (id: string) => id.startsWith(`${ref}/`);
    for (const w of this.#all()) {
      if (w.name === PROBATION + ref && w.inflight.size === 0) {
        isolates += w.loaded.size;
        processes++;
        this.#slots.delete(w.name);
        w.killedFor = 'shutdown';
        void w.retire(0);
        continue;
      }
      const ids = [...w.loaded].filter(mine);
      if (ids.length === 0) continue;
      const released = this.#released.get(w) ?? new Set<string>();
      for (const id of ids) {
        w.loaded.delete(id);
        released.add(id);
      }
      this.#released.set(w, released);
      isolates += ids.length;
      if (released.size >= Math.max(1, w.loaded.size)) {
        this.#released.delete(w);
        this.#recycle(w);
      }
    }
    return { fn_isolates: isolates, fn_processes: processes };
  }

  /** isolates of a project loaded in any process (0 once it sleeps) */
  isolatesOf(ref: string): number {
    let n = 0;
    for (const w of this.#all()) for (const id of w.loaded) if (id.startsWith(`${ref}/`)) n++;
    return n;
  }

  /** figures for /metrics and the bench */
  stats(): RuntimeStat[] {
    return this.#all().map((w) => ({ process: w.name, pid: w.pid, isolates: w.loaded.size, inflight: w.inflight.size, rss_mb: Math.round(w.rssMb()) }));
  }
}
