// Putting projects to sleep: by the operator (POST /projects/{ref}/sleep) or for idleness (jobs/sleeper.ts). The
// flag is set once (the update is conditional, so several platform replicas sleep a project once), every replica
// drops its cached project and pools (registry invalidation), then the sleep message has each service release
// its own resources and report them. The gateway wakes the project on its next request (@basalt/tenancy sleep.ts).
import type { Redis } from 'ioredis';
import { activityKey, SLEEP_CHANNEL, sleepReportKey, type ProjectRegistry } from '@basalt/tenancy';
import type { Logger } from '@basalt/http';
import { terminateIdleSessions, type AwakeProject, type SleepDb } from '../db/sleep.js';
import { platformErrors } from '../errors.js';
import { onCluster } from './provisioner.js';

export interface SleepDeps {
  db: SleepDb;
  redis: Redis;
  registry: ProjectRegistry;
  redisPrefix: string;
  /** the operator's idle limit (PROJECT_SLEEP_AFTER_S) when the project's plan names none; 0: never */
  sleepAfterS: number;
  /** how long services get to close their connections before idle leftovers are ended */
  leftoverGraceMs: number;
  adminUrlOf: (ref: string) => Promise<{ adminUrl: string; dbName: string }>;
  log: Logger;
}

/** Which awake projects have been idle past their limit at `now` (ms); `lastActive` from the activity set. */
export function idleProjects(awake: AwakeProject[], lastActive: (number | null)[], defaultAfterS: number, now: number): string[] {
  return awake.filter((p, i) => {
    const limitS = p.plan_sleep_after_s ?? defaultAfterS;
    if (!(limitS > 0)) return false;
    return now - Math.max(p.since, lastActive[i] ?? 0) > limitS * 1000;
  }).map((p) => p.ref);
}

export function sleepDomain(d: SleepDeps) {
  const key = activityKey(d.redisPrefix);

  /** Ends what is left on the database once the services had their grace (only if it still sleeps). */
  const sweepLeftovers = async (ref: string) => {
    const state = await d.db.state(ref);
    if (!state?.sleeping_at) return;
    const { adminUrl, dbName } = await d.adminUrlOf(ref);
    const n = await onCluster(adminUrl, (c) => terminateIdleSessions(c, dbName));
    if (n > 0) d.log.info({ ref, sessions: n }, 'idle sessions of a sleeping project ended');
  };

  async function sleep(ref: string, reason: 'idle' | 'operator'): Promise<{ ref: string; sleeping: true }> {
    if (!(await d.db.markSleeping(ref))) {
      if (!(await d.db.state(ref))) throw platformErrors.projectNotFound(ref);
      return { ref, sleeping: true }; // already asleep
    }
    await d.redis.del(sleepReportKey(ref));
    await d.registry.invalidate(ref);
    await d.redis.publish(SLEEP_CHANNEL, ref);
    d.log.info({ ref, reason }, 'project put to sleep');
    setTimeout(() => void sweepLeftovers(ref).catch((err: Error) => d.log.warn({ ref, err: err.message }, 'ending leftover sessions failed')), d.leftoverGraceMs).unref();
    return { ref, sleeping: true };
  }

  return {
    sleep: (ref: string) => sleep(ref, 'operator'),
    /** The project's sleep state, its last recorded activity and what each service replica released. */
    async status(ref: string) {
      const state = await d.db.state(ref);
      if (!state) throw platformErrors.projectNotFound(ref);
      const [score, reports] = await Promise.all([d.redis.zscore(key, ref), d.redis.hgetall(sleepReportKey(ref))]);
      const last = Math.max(Number(score ?? 0), state.created_at.getTime(), state.woke_at?.getTime() ?? 0);
      return {
        ref,
        sleeping: state.sleeping_at !== null,
        sleeping_since: state.sleeping_at?.toISOString() ?? null,
        last_active_at: new Date(last).toISOString(),
        released: state.sleeping_at ? Object.fromEntries(Object.entries(reports).map(([k, v]) => [k, JSON.parse(v) as unknown])) : {},
      };
    },
    /** One pass of the sleeper: every awake project idle past its limit goes to sleep; returns their refs. */
    async sleepIdle(now = Date.now()): Promise<string[]> {
      const awake = await d.db.awake();
      const slept: string[] = [];
      for (let i = 0; i < awake.length; i += 500) {
        const batch = awake.slice(i, i + 500);
        const scores = await d.redis.zmscore(key, ...batch.map((p) => p.ref));
        for (const ref of idleProjects(batch, scores.map((s) => (s === null ? null : Number(s))), d.sleepAfterS, now)) {
          await sleep(ref, 'idle');
          slept.push(ref);
        }
      }
      return slept;
    },
  };
}

export type SleepDomain = ReturnType<typeof sleepDomain>;
