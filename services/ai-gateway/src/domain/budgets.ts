// Limits of a key (or of a signed-in user): allowed models, requests per minute (@basalt/rate-limit), tokens
// per UTC day and cost per UTC month. Token and cost counters live in Redis. A request is admitted while what is
// spent and reserved is under the budget, and reserves its estimate (its prompt's tokens and its max output) in the
// same script, so requests sent at once cannot all pass a check made before any of them spent (50 at once against a
// budget for 5 all went through); its real usage replaces the estimate when it is known. Like the gateway's limiter
// they fail open: a Redis outage must not stop every project's model calls.
import type { Redis } from 'ioredis';
import type { RateLimiter } from '@basalt/rate-limit';
import { aiErrors } from '../errors.js';
import type { Caller } from './callers.js';
import { globMatcher } from './glob.js';

export interface BudgetDeps {
  redis: Redis;
  limiter: RateLimiter;
  prefix: string;
  onError: (err: Error) => void;
}

const day = (now: Date) => now.toISOString().slice(0, 10);
const month = (now: Date) => now.toISOString().slice(0, 7);
const secondsToNextDay = (now: Date) => Math.max(1, Math.ceil((Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1) - now.getTime()) / 1000));
const secondsToNextMonth = (now: Date) => Math.max(1, Math.ceil((Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1) - now.getTime()) / 1000));

/** what a request holds of its caller's budgets until its usage is known: the counters and the amounts it added */
export interface Reservation {
  tokensKey: string | null;
  tokens: number;
  costKey: string | null;
  micros: number;
}

/** a request's expected use, for its reservation */
export interface Estimate {
  tokens: number;
  costUsd: number;
}

// KEYS: the token and cost counters; ARGV: token limit, token estimate, cost limit (micro-USD), cost estimate, and
// the two expiries. A limit of 0 is no limit. 1 or 2: that budget is used up, nothing reserved; 0: reserved.
const RESERVE = `
local function over(key, limit) return limit > 0 and tonumber(redis.call('GET', key) or '0') >= limit end
if over(KEYS[1], tonumber(ARGV[1])) then return 1 end
if over(KEYS[2], tonumber(ARGV[3])) then return 2 end
if tonumber(ARGV[1]) > 0 then redis.call('INCRBY', KEYS[1], ARGV[2]); redis.call('EXPIRE', KEYS[1], ARGV[5]) end
if tonumber(ARGV[3]) > 0 then redis.call('INCRBY', KEYS[2], ARGV[4]); redis.call('EXPIRE', KEYS[2], ARGV[6]) end
return 0`;

const TOKENS_TTL_S = 2 * 86_400;
const COST_TTL_S = 32 * 86_400;

/** whose tokens: the key, or the user within the project */
const subject = (c: Caller) => (c.kind === 'user' ? `u:${c.ref}:${c.userId}` : `k:${c.keyId ?? `${c.ref}:service`}`);

export function budgets(d: BudgetDeps) {
  const tokensKey = (c: Caller, now: Date) => `${d.prefix}ai:tok:${subject(c)}:${day(now)}`;
  const costKey = (c: Caller, now: Date) => `${d.prefix}ai:usd:${subject(c)}:${month(now)}`;

  return {
    modelAllowed(c: Caller, model: string): void {
      const allowed = c.limits.allowed_models;
      if (allowed && !allowed.some((p) => globMatcher(p)(model))) throw aiErrors.modelNotAllowed(model);
    },

    /** counts the request against the per-minute window; 429 once it is full */
    async admitRequest(c: Caller): Promise<void> {
      const rpm = c.limits.requests_per_minute;
      if (!rpm) return;
      if (!(await d.limiter.take(`ai:rpm:${subject(c)}`, rpm, 60))) {
        throw aiErrors.rateLimited(Math.max(1, 60 - (Math.floor(Date.now() / 1000) % 60)));
      }
    },

    /**
     * 429 while the day's tokens or the month's cost are used up (spent and reserved); otherwise reserves the
     * request's estimate (asked only when the caller has a budget) and returns what it holds. Null: nothing held.
     */
    async reserve(c: Caller, estimate: () => Estimate, now = new Date()): Promise<Reservation | null> {
      const { tokens_per_day: tokens, cost_per_month_usd: usd } = c.limits;
      if (!tokens && !usd) return null;
      const e = estimate();
      // the script reads both counters, the one without a budget (limit 0) too
      const [tKey, cKey] = [tokensKey(c, now), costKey(c, now)];
      const r: Reservation = {
        tokensKey: tokens ? tKey : null, tokens: tokens ? Math.max(0, Math.ceil(e.tokens)) : 0,
        costKey: usd ? cKey : null, micros: usd ? Math.max(0, Math.ceil(e.costUsd * 1e6)) : 0,
      };
      let verdict: number;
      try {
        verdict = Number(await d.redis.eval(RESERVE, 2, tKey, cKey,
          tokens ?? 0, r.tokens, usd ? Math.ceil(usd * 1e6) : 0, r.micros, TOKENS_TTL_S, COST_TTL_S));
      } catch (err) {
        d.onError(err as Error);
        return null;
      }
      if (verdict === 1) throw aiErrors.budgetExhausted(c.kind === 'user' ? "This user's daily token budget" : "This key's daily token budget", secondsToNextDay(now));
      if (verdict === 2) throw aiErrors.budgetExhausted("This key's monthly cost budget", secondsToNextMonth(now));
      return r;
    },

    /**
     * Adds a finished request's tokens and cost (off the request path), less what its reservation already added, to
     * the counters the reservation went to; with usage 0 it gives the reservation back.
     */
    spend(c: Caller, tokens: number, costUsd: number, held: Reservation | null, now = new Date()): void {
      const { tokens_per_day: perDay, cost_per_month_usd: perMonth } = c.limits;
      if (!perDay && !perMonth) return;
      const m = d.redis.multi();
      const tKey = held?.tokensKey ?? (perDay ? tokensKey(c, now) : null);
      const cKey = held?.costKey ?? (perMonth ? costKey(c, now) : null);
      const tDelta = Math.ceil(tokens) - (held?.tokens ?? 0);
      const cDelta = Math.ceil(costUsd * 1e6) - (held?.micros ?? 0);
      if (tKey && tDelta !== 0) m.incrby(tKey, tDelta).expire(tKey, TOKENS_TTL_S);
      if (cKey && cDelta !== 0) m.incrby(cKey, cDelta).expire(cKey, COST_TTL_S);
      m.exec().catch((err: Error) => d.onError(err));
    },
  };
}

export type Budgets = ReturnType<typeof budgets>;
