// Rate limits shared by every replica through Redis, one script for all of them (gateway, auth, functions):
// fixed windows counted with INCRBY. The failure policy is explicit: when Redis errors or does not answer in
// `timeoutMs`, the limiter fails open (a Redis outage must not take every project's API down, nor turn requests
// into 500s), counts it in basalt_rate_limit_redis_failures_total and reports it through onError.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import client from 'prom-client';

/** Takes up to ARGV[1] tokens from a window of ARGV[3] ms holding ARGV[2]; returns how many were granted. */
const TAKE = `
local used = redis.call('INCRBY', KEYS[1], ARGV[1])
if used == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
local granted = math.min(tonumber(ARGV[1]), tonumber(ARGV[2]) - (used - tonumber(ARGV[1])))
if granted < 0 then granted = 0 end
return granted`;
const TAKE_SHA = createHash('sha1').update(TAKE).digest('hex');

export interface Window {
  /** what is counted, e.g. `auth:signin:ip:1.2.3.4` (the prefix and the window number are added) */
  key: string;
  limit: number;
  seconds: number;
}

export interface RateLimiterOptions {
  /** Redis key prefix of this install (BASALT_REDIS_PREFIX) */
  prefix: string;
  /** how long a decision may wait for Redis before failing open */
  timeoutMs?: number;
  onError?: (err: Error) => void;
  registry?: client.Registry;
}

/** the number of the fixed window of `seconds` that `nowMs` falls in: a window's Redis key ends with it */
const windowOf = (nowMs: number, seconds: number) => Math.floor(nowMs / (seconds * 1000));

interface Slice {
  /** the window this slice leases from (its number: time / its length) */
  window: number;
  /** when that window ends (ms) */
  ends: number;
  tokens: number;
  /** the limit it was leased under: a changed one (a plan upgraded after its quota ran out) asks Redis again */
  limit: number;
  /** the window's budget is spent: deny without asking Redis again */
  exhausted?: boolean;
  pending?: Promise<number>;
}

export class RateLimiter {
  readonly #slices = new Map<string, Slice>();
  readonly #failures: client.Counter;
  readonly #timeoutMs: number;

  constructor(private readonly redis: Redis, private readonly opts: RateLimiterOptions) {
    this.#timeoutMs = opts.timeoutMs ?? 250;
    this.#failures = new client.Counter({
      name: 'basalt_rate_limit_redis_failures_total', help: 'Rate-limit decisions made without Redis (failed open)',
      registers: opts.registry ? [opts.registry] : [],
    });
  }

  /** One Redis round trip: `want` tokens from the window, or what is left of them; fails open with `want`. */
  async #take(key: string, want: number, limit: number, windowMs: number): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.#run(`${this.opts.prefix}rl:${key}`, want, limit, windowMs * 2),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`Redis did not answer in ${this.#timeoutMs} ms`)), this.#timeoutMs))),
      ]);
    } catch (err) {
      this.#failures.inc();
      this.opts.onError?.(err as Error);
      return want;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The script by its hash (Redis keeps it compiled); sent whole only when this Redis has not seen it yet. */
  async #run(key: string, want: number, limit: number, ttlMs: number): Promise<number> {
    try {
      return (await this.redis.evalsha(TAKE_SHA, 1, key, want, limit, ttlMs)) as number;
    } catch (err) {
      if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
      return (await this.redis.eval(TAKE, 1, key, want, limit, ttlMs)) as number;
    }
  }

  /** Counts one hit in every window; true when none is over its limit. */
  async hit(windows: Window[]): Promise<boolean> {
    const now = Date.now();
    const granted = await Promise.all(windows.map((w) => this.#take(`${w.key}:${windowOf(now, w.seconds)}`, 1, w.limit, w.seconds * 1000)));
    return granted.every((g) => g === 1);
  }

  /**
   * A limit on the hot path (the gateway's per-second limits, auth's refresh per IP, a function's daily quota):
   * each replica leases a slice of the window's budget, so most calls are answered from memory and the sum over
   * replicas never exceeds the limit (a replica may hold back at most one slice another could have used). A
   * promise only when a new lease is needed. `now`: the wall clock (ms), when the caller has read it already.
   */
  take(key: string, limit: number, seconds = 1, now = Date.now()): boolean | Promise<boolean> {
    const window = windowOf(now, seconds);
    let slice = this.#slices.get(key);
    if (!slice || slice.window !== window) {
      slice = { window, ends: (window + 1) * seconds * 1000, tokens: 0, limit };
      this.#slices.set(key, slice);
      if (this.#slices.size > 50_000) this.#sweep(now);
    } else if (slice.limit !== limit) {
      slice.limit = limit;
      slice.exhausted = false;
    }
    if (slice.tokens > 0) {
      slice.tokens--;
      return true;
    }
    return this.#lease(key, slice, limit, seconds);
  }

  async #lease(key: string, slice: Slice, limit: number, seconds: number): Promise<boolean> {
    // Small limits lease one token at a time (exact); large ones lease 5% of the budget per round trip.
    const size = Math.max(1, Math.floor(limit / 20));
    for (;;) {
      if (slice.tokens > 0) {
        slice.tokens--;
        return true;
      }
      if (Date.now() >= slice.ends) return this.take(key, limit, seconds);
      if (slice.exhausted) return false;
      slice.pending ??= this.#take(`${key}:${slice.window}`, size, limit, seconds * 1000).then((granted) => {
        slice.tokens += granted;
        if (granted < size) slice.exhausted = true;
        slice.pending = undefined;
        return granted;
      });
      await slice.pending;
    }
  }

  #sweep(now: number): void {
    for (const [key, s] of this.#slices) if (s.ends <= now) this.#slices.delete(key);
  }
}
