// All SQL of sleeping projects in the control database: the flag, the candidates, the leftovers on the cluster.
import type pg from 'pg';

export interface AwakeProject {
  ref: string;
  /** ms since epoch: creation or the last wake, whichever is later (activity the gateway may not have seen) */
  since: number;
  /** the plan's sleep_after_s; null: the plan says nothing (the operator's default applies) */
  plan_sleep_after_s: number | null;
}

export const sleepDb = (db: pg.Pool) => ({
  /** Sets the flag if the project is active and awake; true when this call put it to sleep. */
  async markSleeping(ref: string): Promise<boolean> {
    const { rowCount } = await db.query(
      `update platform.projects set sleeping_at = now() where ref = $1 and status = 'active' and sleeping_at is null`,
      [ref],
    );
    return (rowCount ?? 0) > 0;
  },
  async state(ref: string): Promise<{ sleeping_at: Date | null; woke_at: Date | null; created_at: Date } | null> {
    const { rows } = await db.query(
      `select sleeping_at, woke_at, created_at from platform.projects where ref = $1 and status = 'active'`,
      [ref],
    );
    return rows[0] ?? null;
  },
  async awake(): Promise<AwakeProject[]> {
    const { rows } = await db.query<{ ref: string; since: string; plan_sleep_after_s: string | null }>(
      `select p.ref, (extract(epoch from greatest(p.created_at, coalesce(p.woke_at, p.created_at))) * 1000)::bigint as since,
              case when jsonb_typeof(pl.quotas -> 'sleep_after_s') = 'number' then (pl.quotas ->> 'sleep_after_s')::numeric end as plan_sleep_after_s
         from platform.projects p left join platform.plans pl on pl.name = p.plan
        where p.status = 'active' and p.sleeping_at is null and p.moving_to is null`,
    );
    return rows.map((r) => ({ ref: r.ref, since: Number(r.since), plan_sleep_after_s: r.plan_sleep_after_s === null ? null : Number(r.plan_sleep_after_s) }));
  },
});

/** Ends the idle sessions left on a sleeping project's database (a replica that missed the message); returns how many. */
export async function terminateIdleSessions(admin: pg.ClientBase, dbName: string): Promise<number> {
  const { rows } = await admin.query<{ n: string }>(
    `select count(pg_terminate_backend(pid)) as n from pg_stat_activity
      where datname = $1 and backend_type = 'client backend' and state = 'idle' and pid <> pg_backend_pid()`,
    [dbName],
  );
  return Number(rows[0]?.n ?? 0);
}

export type SleepDb = ReturnType<typeof sleepDb>;
