// The plan's ai_tokens_per_day (project.quotas): a model call is refused once the project's calls have used that
// many tokens since 00:00 UTC, counted from platform.ai_usage. The sum is cached per project for a moment, so a
// burst costs one query; calls in flight and rows not yet flushed may overshoot the quota by that much, as a daily
// quota can afford.
import { LRUCache } from 'lru-cache';
import type { ProjectRegistry } from '@basalt/tenancy';
import type { UsageDb } from '../db/usage.js';
import { aiErrors } from '../errors.js';

export interface TokenQuotaDeps {
  usage: Pick<UsageDb, 'tokensSince'>;
  registry: ProjectRegistry;
  /** how long a project's sum for the day is reused */
  cacheMs: number;
}

const startOfDay = (now: Date) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
const secondsToNextDay = (now: Date) => Math.max(1, Math.ceil((startOfDay(now).getTime() + 86_400_000 - now.getTime()) / 1000));

export function tokenQuota(d: TokenQuotaDeps) {
  const used = new LRUCache<string, Promise<number>>({ max: 10_000, ttl: d.cacheMs });

  function usedToday(ref: string, now: Date): Promise<number> {
    const since = startOfDay(now);
    const key = `${ref}:${since.getTime()}`;
    let hit = used.get(key);
    if (!hit) {
      hit = d.usage.tokensSince(ref, since);
      hit.catch(() => used.delete(key));
      used.set(key, hit);
    }
    return hit;
  }

  return {
    /** The project's limit and what is left of it today, or null when its plan sets none; 429 once none is left. */
    async admit(ref: string, now = new Date()): Promise<{ limit: number; remaining: number } | null> {
      const quota = (await d.registry.get(ref))?.quotas.ai_tokens_per_day ?? null;
      if (quota === null) return null;
      const spent = await usedToday(ref, now);
      if (spent >= quota) throw aiErrors.tokenQuota(quota, secondsToNextDay(now));
      return { limit: quota, remaining: quota - spent };
    },
  };
}

export type TokenQuota = ReturnType<typeof tokenQuota>;
