// Fixed-window request limits per project, per client IP and per email address, counted in Redis (the shared
// @basalt/rate-limit script) so every replica shares them. Limits come from project settings
// (settings.auth.rate_limits) so tests can lower them. A Redis outage fails open, as the limiter's policy says:
// a missing counter must not lock every user out of signing in.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '@basalt/http';
import { RateLimiter, type Window } from '@basalt/rate-limit';
import type { AuthContext } from '../context.js';
import { authErrors } from '../errors.js';
import type { AuthSettings } from './settings.js';

export type LimitBucket = keyof AuthSettings['rate_limits'];
export type RateLimit = (ctx: AuthContext, bucket: LimitBucket, email?: string | null) => Promise<void>;

export function rateLimiter(redis: Redis, prefix: string, log: Logger): RateLimit {
  const limiter = new RateLimiter(redis, { prefix, onError: (err) => log.warn({ err: err.message }, 'rate limit check skipped') });
  return async (ctx, bucket, email) => {
    const l = ctx.settings.rate_limits[bucket];
    const base = `auth:${ctx.project.ref}:${bucket}`;
    const windows: Window[] = [{ key: `${base}:ip:${ctx.ip}`, limit: l.per_ip, seconds: l.window_seconds }];
    if (typeof email === 'string' && email) {
      const who = createHash('sha256').update(email.trim().toLowerCase()).digest('hex').slice(0, 32);
      windows.push({ key: `${base}:email:${who}`, limit: l.per_email, seconds: l.window_seconds });
    }
    // a lone window (a refresh: no address) is leased, so most requests ask Redis nothing; with an address both
    // windows are counted in Redis on every request
    const ok = windows.length === 1 ? await limiter.take(windows[0].key, windows[0].limit, windows[0].seconds) : await limiter.hit(windows);
    if (!ok) throw authErrors.rateLimited();
  };
}
