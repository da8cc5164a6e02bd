// All SQL that reads metered usage (platform.usage_hourly, written by @basalt/metering) and what the sampler needs:
// which projects had traffic lately, and where each project's database lives.
import type pg from 'pg';

export type GroupBy = 'hour' | 'day' | 'service';

export interface UsageRange {
  /** null: every project (the operator's report) */
  ref: string | null;
  from: Date;
  to: Date;
  groupBy: GroupBy;
  /** metrics whose hourly values are peaks: a range takes their max, not their sum */
  peaks: readonly string[];
  limit: number;
}

export interface UsageRowOut {
  ref: string;
  period?: string;
  service: string;
  metric: string;
  value: number;
}

/** `from` is a whole UTC hour (the domain rounds it down) */
const WHERE = `($1::text is null or u.ref = $1) and u.hour >= $2 and u.hour < $3`;
const AGG = `(case when u.metric = any($4::text[]) then max(u.value) else sum(u.value) end)::bigint`;
const PERIOD: Record<Exclude<GroupBy, 'service'>, string> = {
  hour: `to_char(u.hour at time zone 'UTC', 'YYYY-MM-DD"T"HH24:00:00"Z"')`,
  day: `to_char(date_trunc('day', u.hour at time zone 'UTC'), 'YYYY-MM-DD')`,
};

export const usageDb = (db: pg.Pool) => ({
  /** Rows of the range, grouped; at most limit + 1 (so the caller can tell it was cut). */
  async rows(q: UsageRange): Promise<UsageRowOut[]> {
    const params = [q.ref, q.from, q.to, q.peaks, q.limit + 1];
    const sql = q.groupBy === 'service'
      ? `select u.ref, u.service, u.metric, ${AGG} as value from platform.usage_hourly u where ${WHERE}
          group by u.ref, u.service, u.metric order by u.ref, u.service, u.metric limit $5`
      : `select u.ref, ${PERIOD[q.groupBy]} as period, u.service, u.metric, ${AGG} as value from platform.usage_hourly u where ${WHERE}
          group by u.ref, 2, u.service, u.metric order by 2, u.ref, u.service, u.metric limit $5`;
    const { rows } = await db.query<UsageRowOut & { value: string }>(sql, params);
    return rows.map((r) => ({ ...r, value: Number(r.value) }));
  },

  /** One value per metric: counters summed; peaks taken per project, then added across projects. */
  async totals(q: Omit<UsageRange, 'groupBy' | 'limit'>): Promise<Record<string, number>> {
    const { rows } = await db.query<{ metric: string; value: string }>(
      `with per as (select u.ref, u.metric, ${AGG} as value from platform.usage_hourly u where ${WHERE} group by u.ref, u.metric)
       select metric, sum(value)::bigint as value from per group by metric order by metric`,
      [q.ref, q.from, q.to, q.peaks],
    );
    return Object.fromEntries(rows.map((r) => [r.metric, Number(r.value)]));
  },

  async projectExists(ref: string): Promise<boolean> {
    return ((await db.query('select 1 from platform.projects where ref = $1', [ref])).rowCount ?? 0) > 0;
  },

  /** Requests metered per project since the start of the previous hour: a change means the project had traffic. */
  async recentRequests(): Promise<Map<string, number>> {
    const { rows } = await db.query<{ ref: string; n: string }>(
      `select ref, sum(value)::bigint as n from platform.usage_hourly
        where metric = 'requests' and hour >= to_timestamp(floor(extract(epoch from now()) / 3600) * 3600 - 3600) group by ref`,
    );
    return new Map(rows.map((r) => [r.ref, Number(r.n)]));
  },

  /** Active projects (all, or those named) with their database and their cluster's admin URL, sealed. */
  async placements(refs: string[] | null): Promise<{ ref: string; db_name: string; cluster_id: string; admin_url_enc: string }[]> {
    const { rows } = await db.query(
      `select p.ref, p.db_name, p.cluster_id, c.admin_url_enc from platform.projects p join platform.clusters c on c.id = p.cluster_id
        where p.status = 'active' and ($1::text[] is null or p.ref = any($1)) order by p.cluster_id, p.ref`,
      [refs],
    );
    return rows;
  },
});

export type UsageDb = ReturnType<typeof usageDb>;

/** Database sizes on one cluster, asked as its admin: pg_database_size of each named database. */
export async function databaseSizes(c: pg.Client, dbNames: string[]): Promise<Map<string, number>> {
  const { rows } = await c.query<{ datname: string; size: string }>(
    'select datname, pg_database_size(oid) as size from pg_database where datname = any($1)', [dbNames],
  );
  return new Map(rows.map((r) => [r.datname, Number(r.size)]));
}

/**
 * Bytes of a project's stored objects (Supabase's metadata.size), asked in its own database: the total storage keeps
 * for its quota (tenant migration 0018), not a sum over every object.
 */
export async function storedBytes(c: pg.Client): Promise<number> {
  const { rows } = await c.query<{ bytes: string }>('select coalesce(sum(delta), 0)::bigint as bytes from storage.size_deltas');
  return Number(rows[0]?.bytes ?? 0);
}
