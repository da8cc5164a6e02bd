// Limits of a key (or of a signed-in user): allowed models, requests per minute (@basalt/rate-limit), tokens
// per UTC day and cost per UTC month. Token and cost counters live in Redis, added to as each request's usage
// is known and read before the next one is sent upstream. Like the gateway's limiter they fail open: a Redis
// outage must not stop every project's model calls.
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

/** whose tokens: the key, or the user within the project */
const subject = (c: Caller) => (c.kind === 'user' ? `u:${c.ref}:${c.userId}` : `k:${c.keyId ?? `${c.ref}:service`}`);

export function budgets(d: BudgetDeps) {
  const tokensKey = (c: Caller, now: Date) => `${d.prefix}ai:tok:${subject(c)}:${day(now)}`;
  const costKey = (c: Caller, now: Date) => `${d.prefix}ai:usd:${subject(c)}:${month(now)}`;

  async function read(keys: string[]): Promise<(number | null)[]> {
    try {
      return (await d.redis.mget(...keys)).map((v) => (v === null ? null : Number(v)));
    } catch (err) {
      d.onError(err as Error);
      return keys.map(() => null);
    }
  }

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

    /** 429 while the day's tokens or the month's cost are used up */
    async checkBudgets(c: Caller, now = new Date()): Promise<void> {
      const { tokens_per_day: tokens, cost_per_month_usd: usd } = c.limits;
      if (!tokens && !usd) return;
      const [usedTokens, usedMicro] = await read([tokensKey(c, now), costKey(c, now)]);
      if (tokens && usedTokens !== null && usedTokens >= tokens) {
        throw aiErrors.budgetExhausted(c.kind === 'user' ? "This user's daily token budget" : "This key's daily token budget", secondsToNextDay(now));
      }
      if (usd && usedMicro !== null && usedMicro >= usd * 1e6) throw aiErrors.budgetExhausted("This key's monthly cost budget", secondsToNextMonth(now));
    },

    /** adds a finished request's tokens and cost (off the request path) */
    spend(c: Caller, tokens: number, costUsd: number, now = new Date()): void {
      const { tokens_per_day: perDay, cost_per_month_usd: perMonth } = c.limits;
      if (!perDay && !perMonth) return;
      const m = d.redis.multi();
      if (perDay && tokens > 0) m.incrby(tokensKey(c, now), tokens).expire(tokensKey(c, now), 2 * 86_400);
      if (perMonth && costUsd > 0) m.incrby(costKey(c, now), Math.ceil(costUsd * 1e6)).expire(costKey(c, now), 32 * 86_400);
      m.exec().catch((err: Error) => d.onError(err));
    },
  };
}

export type Budgets = ReturnType<typeof budgets>;
