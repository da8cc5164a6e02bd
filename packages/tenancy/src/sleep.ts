// Sleeping projects, the parts every process shares. The gateway (and the scheduler, for cron runs) records a
// project's last activity in a Redis sorted set, at most once per few seconds per project per process, and wakes a
// sleeping project before its request goes on: the request waits for that, never fails for it. Putting a project
// to sleep is the platform's (services/platform/src/domain/sleep.ts); every service releases its resources when
// the sleep message reaches it (control-plane.ts) and records what it released.
import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { ProjectRegistry } from './registry.js';

/** pub/sub channel carrying the ref of a project put to sleep */
export const SLEEP_CHANNEL = 'basalt:projects:sleep';
/** how often one process records the same project's activity at most */
const TOUCH_EVERY_MS = 5_000;

/** the sorted set of last activity (ms since epoch) by ref */
export const activityKey = (redisPrefix: string) => `${redisPrefix}activity`;
/** the hash of what each service replica released when the project last went to sleep */
export const sleepReportKey = (ref: string) => `basalt:sleep:${ref}`;

/** Clears the flag (only if set) and tells every replica; resolves to whether this call woke it. */
export async function wakeProject(control: Pick<pg.Pool, 'query'>, registry: ProjectRegistry, ref: string): Promise<boolean> {
  const { rowCount } = await control.query(
    'update platform.projects set sleeping_at = null, woke_at = now() where ref = $1 and sleeping_at is not null',
    [ref],
  );
  await registry.invalidate(ref);
  return (rowCount ?? 0) > 0;
}

export class ProjectActivity {
  readonly #touched = new Map<string, number>();
  readonly #waking = new Map<string, Promise<void>>();
  /** open long-lived connections (WebSockets) by ref: activity for as long as they stay open */
  readonly #held = new Map<string, number>();
  #heldTimer: NodeJS.Timeout | null = null;
  readonly #key: string;

  constructor(private readonly o: {
    redis: Redis; control: Pick<pg.Pool, 'query'>; registry: ProjectRegistry; redisPrefix: string;
    onError?: (err: Error, what: 'touch' | 'wake') => void;
  }) {
    this.#key = activityKey(o.redisPrefix);
  }

  /**
   * Records activity; cheap enough for every request (a Map read; a Redis write every few seconds per project).
   * `now`: the wall clock (ms), when the caller has read it already.
   */
  touch(ref: string, now = Date.now()): void {
    if (now - (this.#touched.get(ref) ?? 0) < TOUCH_EVERY_MS) return;
    if (this.#touched.size > 50_000) this.#touched.clear();
    this.#touched.set(ref, now);
    this.o.redis.zadd(this.#key, now, ref).catch((e: Error) => this.o.onError?.(e, 'touch'));
  }

  /** A long-lived connection keeps its project active until the returned function is called. */
  hold(ref: string): () => void {
    this.#held.set(ref, (this.#held.get(ref) ?? 0) + 1);
    this.touch(ref);
    if (!this.#heldTimer) {
      this.#heldTimer = setInterval(() => {
        for (const r of this.#held.keys()) this.touch(r);
      }, TOUCH_EVERY_MS);
      this.#heldTimer.unref();
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.#held.get(ref) ?? 1) - 1;
      if (n > 0) this.#held.set(ref, n);
      else this.#held.delete(ref);
    };
  }

  close(): void {
    if (this.#heldTimer) clearInterval(this.#heldTimer);
    this.#heldTimer = null;
  }

  /**
   * Wakes the project if it sleeps. Every request arriving meanwhile waits for the same wake; a failure to wake is
   * logged and the request goes on (its service opens what it needs on demand), so waking never fails a request.
   */
  async awake(project: { ref: string; sleeping: boolean }): Promise<void> {
    if (!project.sleeping) return;
    let pending = this.#waking.get(project.ref);
    if (!pending) {
      this.#touched.delete(project.ref);
      this.touch(project.ref);
      pending = wakeProject(this.o.control, this.o.registry, project.ref)
        .then(() => undefined, (e: Error) => this.o.onError?.(e, 'wake'))
        .finally(() => this.#waking.delete(project.ref));
      this.#waking.set(project.ref, pending);
    }
    await pending;
  }
}
