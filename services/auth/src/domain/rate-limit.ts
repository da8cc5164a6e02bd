// Fixed-window request limits per project, per client IP and per email address, counted in Redis so every
// replica shares them. Limits come from project settings (settings.auth.rate_limits) so tests can lower them.
// A Redis outage fails open: a missing counter must not lock every user out of signing in.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '@basalt/http';
import type { AuthContext } from '../context.js';
import { authErrors } from '../errors.js';
import type { AuthSettings } from './settings.js';

export type LimitBucket = keyof AuthSettings['rate_limits'];
export type RateLimit = (ctx: AuthContext, bucket: LimitBucket, email?: string | null) => Promise<void>;

export function rateLimiter(redis: Redis, prefix: string, log: Logger): RateLimit {
  return async (ctx, bucket, email) => {
    const l = ctx.settings.rate_limits[bucket];
    const win = Math.floor(Date.now() / 1000 / l.window_seconds);
    const base = `${prefix}auth:rl:${ctx.project.ref}:${bucket}`;
    const keys: [string, number][] = [[`${base}:ip:${ctx.ip}:${win}`, l.per_ip]];
    if (typeof email === 'string' && email) {
      keys.push([`${base}:email:${createHash('sha256').update(email.trim().toLowerCase()).digest('hex').slice(0, 32)}:${win}`, l.per_email]);
    }
    let counts: number[];
    try {
      const p = redis.pipeline();
      for (const [k] of keys) p.incr(k).expire(k, l.window_seconds + 1);
      const res = (await p.exec()) ?? [];
      counts = keys.map((_, i) => Number(res[i * 2]?.[1] ?? 0));
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'rate limit check skipped');
      return;
    }
    if (keys.some(([, max], i) => counts[i] > max)) throw authErrors.rateLimited();
  };
}
