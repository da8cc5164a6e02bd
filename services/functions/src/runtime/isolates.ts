// Function isolates: one workerd (through Miniflare) per function version and secrets revision, kept warm in
// an LRU. workerd enforces no CPU or memory limit itself, so this supervisor disposes an isolate that runs past
// its wall time or whose process grows past the memory limit; the next invocation boots a fresh one.
import { readdirSync, readFileSync } from 'node:fs';
import { Miniflare } from 'miniflare';
import { egressGuard } from './egress.js';

export interface IsolateSpec {
  code: string;
  env: Record<string, string>;
}

interface Entry {
  mf: Miniflare;
  ready: Promise<unknown>;
  pid: number | null;
  killedFor: 'memory' | null;
}

/** workerd processes started by this service, by pid. */
function workerdChildren(): Set<number> {
  const out = new Set<number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8').trim();
      const [, comm, rest] = /^\d+ \((.*)\) (.*)$/.exec(stat) ?? [];
      if (comm === 'workerd' && Number(rest?.split(' ')[1]) === process.pid) out.add(Number(d));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

const rssMb = (pid: number): number => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
};

export class Isolates {
  readonly #entries = new Map<string, Entry>();
  readonly #watch: NodeJS.Timeout;

  readonly #outbound: (request: Request) => Promise<Response>;

  constructor(private readonly max: number, private readonly memoryMb: number, allowedOrigins: string[], private readonly onEvict: (key: string, why: string) => void) {
    this.#outbound = egressGuard(allowedOrigins);
    this.#watch = setInterval(() => this.#checkMemory(), 500);
    this.#watch.unref();
  }

  async get(key: string, spec: () => Promise<IsolateSpec>): Promise<Entry> {
    const hit = this.#entries.get(key);
    if (hit) {
      this.#entries.delete(key); // re-insert: the map's order is the LRU order
      this.#entries.set(key, hit);
      await hit.ready;
      return hit;
    }
    const { code, env } = await spec();
    const before = process.platform === 'linux' ? workerdChildren() : new Set<number>();
    const mf = new Miniflare({
      modules: true,
      // Deno.env reads these during module evaluation, before any request carries the bindings.
      script: `globalThis.__BASALT_ENV__ = ${JSON.stringify(env)};\n${code}`,
      compatibilityDate: '2024-09-23',
      compatibilityFlags: ['nodejs_compat'],
      bindings: env,
      outboundService: this.#outbound,
    });
    const entry: Entry = { mf, ready: mf.ready, pid: null, killedFor: null };
    this.#entries.set(key, entry);
    try {
      await mf.ready;
    } catch (e) {
      this.#entries.delete(key);
      void mf.dispose().catch(() => undefined);
      throw e;
    }
    if (process.platform === 'linux') entry.pid = [...workerdChildren()].find((p) => !before.has(p)) ?? null;
    while (this.#entries.size > this.max) this.dispose(this.#entries.keys().next().value as string, 'lru');
    return entry;
  }

  dispose(key: string, why: string): void {
    const e = this.#entries.get(key);
    if (!e) return;
    this.#entries.delete(key);
    this.onEvict(key, why);
    void e.mf.dispose().catch(() => undefined);
  }

  #checkMemory(): void {
    for (const [key, e] of this.#entries) {
      if (e.pid && rssMb(e.pid) > this.memoryMb) {
        e.killedFor = 'memory';
        try {
          process.kill(e.pid, 'SIGKILL'); // a runaway isolate is stopped now, not when it yields
        } catch {
          /* already gone */
        }
        this.dispose(key, 'memory');
      }
    }
  }

  async closeAll(): Promise<void> {
    clearInterval(this.#watch);
    await Promise.all([...this.#entries.values()].map((e) => e.mf.dispose().catch(() => undefined)));
    this.#entries.clear();
  }
}

export type Isolate = Awaited<ReturnType<Isolates['get']>>;
