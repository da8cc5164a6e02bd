// Per-project requests-per-second limits shared by every gateway replica through Redis.
// Each replica leases a slice of the second's budget (one Redis round trip per slice, not per request),
// so the hot path stays in memory while the sum over replicas never exceeds the limit.
import type { Redis } from 'ioredis';

const LEASE = `
local used = redis.call('INCRBY', KEYS[1], ARGV[1])
if used == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], 2000) end
local before = used - tonumber(ARGV[1])
local granted = math.min(tonumber(ARGV[1]), tonumber(ARGV[2]) - before)
if granted < 0 then granted = 0 end
return granted`;

interface Slice {
  second: number;
  tokens: number;
  /** the second's budget is spent: deny without asking Redis again */
  exhausted?: boolean;
  pending?: Promise<number>;
}

export class RateLimiter {
  readonly #slices = new Map<string, Slice>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly onRedisError: (err: Error) => void,
  ) {}

  /** true when the request may pass; a promise only when a new lease is needed. */
  take(ref: string, limit: number): boolean | Promise<boolean> {
    const second = Math.floor(Date.now() / 1000);
    let slice = this.#slices.get(ref);
    if (!slice || slice.second !== second) {
      slice = { second, tokens: 0 };
      this.#slices.set(ref, slice);
      if (this.#slices.size > 50_000) this.#sweep(second);
    }
    if (slice.tokens > 0) {
      slice.tokens--;
      return true;
    }
    return this.#lease(ref, slice, limit);
  }

  async #lease(ref: string, slice: Slice, limit: number): Promise<boolean> {
    // Small limits lease one token at a time (exact); large ones lease 5% of the budget per round trip.
    const size = Math.max(1, Math.floor(limit / 20));
    for (;;) {
      if (slice.tokens > 0) {
        slice.tokens--;
        return true;
      }
      if (Math.floor(Date.now() / 1000) !== slice.second) return this.take(ref, limit);
      if (slice.exhausted) return false;
      if (!slice.pending) {
        slice.pending = (this.redis.eval(LEASE, 1, `${this.prefix}rl:${ref}:${slice.second}`, size, limit) as Promise<number>)
          .catch((err: Error) => {
            this.onRedisError(err);
            return size; // fail open: a Redis outage must not take every project's API down
          })
          .then((granted) => {
            slice.tokens += granted;
            if (granted < size) slice.exhausted = true;
            slice.pending = undefined;
            return granted;
          });
      }
      await slice.pending;
    }
  }

  #sweep(second: number): void {
    for (const [ref, s] of this.#slices) if (s.second !== second) this.#slices.delete(ref);
  }
}
