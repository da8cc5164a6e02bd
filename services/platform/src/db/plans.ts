// All SQL of plans in the control database: the plans themselves, which plan a project is on, and what the
// database-quota check reads and records per project.
import type pg from 'pg';

export interface PlanRecord {
  name: string;
  quotas: Record<string, unknown>;
  projects: number;
  created_at: Date;
  updated_at: Date;
}

/** What the database-quota check needs of one active project. */
export interface QuotaTarget {
  ref: string;
  cluster_id: string;
  db_name: string;
  db_role: string;
  quotas: Record<string, unknown> | null;
  read_only_reason: string | null;
}

const SELECT_PLAN = `select p.name, p.quotas, p.created_at, p.updated_at,
    (select count(*)::int from platform.projects x where x.plan = p.name and x.status = 'active') as projects
  from platform.plans p`;

const SELECT_TARGET = `select p.ref, p.cluster_id, p.db_name, p.db_role, pl.quotas, p.read_only_reason
  from platform.projects p left join platform.plans pl on pl.name = p.plan where p.status = 'active'`;

export const plansDb = (db: pg.Pool) => ({
  async list(): Promise<PlanRecord[]> {
    return (await db.query<PlanRecord>(`${SELECT_PLAN} order by p.created_at, p.name`)).rows;
  },
  async find(name: string): Promise<PlanRecord | null> {
    return (await db.query<PlanRecord>(`${SELECT_PLAN} where p.name = $1`, [name])).rows[0] ?? null;
  },
  /** Creates the plan or replaces its quotas; true when it was created. */
  async put(name: string, quotas: Record<string, number | null>): Promise<boolean> {
    const { rows } = await db.query<{ created: boolean }>(
      `insert into platform.plans (name, quotas) values ($1, $2)
       on conflict (name) do update set quotas = excluded.quotas, updated_at = now()
       returning (xmax = 0) as created`,
      [name, JSON.stringify(quotas)],
    );
    return rows[0].created;
  },
  /** Deletes a plan no project is on: 'deleted', 'in_use' or 'missing'. */
  async remove(name: string): Promise<'deleted' | 'in_use' | 'missing'> {
    // a project moved onto the plan meanwhile trips the foreign key: that is in use too
    const { rows } = await db.query<{ deleted: boolean; in_use: boolean }>(
      `with used as (select exists (select 1 from platform.projects where plan = $1) as in_use),
        gone as (delete from platform.plans where name = $1 and not (select in_use from used) returning 1)
       select exists (select 1 from gone) as deleted, (select in_use from used) as in_use`,
      [name],
    ).catch((e: { code?: string }) => {
      if (e.code === '23503') return { rows: [{ deleted: false, in_use: true }] };
      throw e;
    });
    return rows[0].deleted ? 'deleted' : rows[0].in_use ? 'in_use' : 'missing';
  },
  /** Moves an active project to a plan; false when there is no such active project. */
  async assign(ref: string, plan: string): Promise<boolean> {
    const { rowCount } = await db.query(
      `update platform.projects set plan = $2, updated_at = now() where ref = $1 and status = 'active'`,
      [ref, plan],
    );
    return (rowCount ?? 0) > 0;
  },
  async targets(ref?: string): Promise<QuotaTarget[]> {
    const { rows } = ref
      ? await db.query<QuotaTarget>(`${SELECT_TARGET} and p.ref = $1`, [ref])
      : await db.query<QuotaTarget>(`${SELECT_TARGET} order by p.cluster_id, p.ref`);
    return rows;
  },
  async setReadOnlyReason(ref: string, reason: string | null): Promise<void> {
    await db.query('update platform.projects set read_only_reason = $2 where ref = $1', [ref, reason]);
  },
});

export type PlansDb = ReturnType<typeof plansDb>;
