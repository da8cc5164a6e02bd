// SQL of platform.ai_usage: batched inserts (idempotent on request id) and the usage report's aggregates.
import type pg from 'pg';

export interface UsageRecord {
  ref: string;
  request_id: string;
  key_id: string | null;
  principal: 'key' | 'service_role' | 'user';
  user_id: string | null;
  endpoint: string;
  model: string;
  provider: string | null;
  upstream_model: string | null;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  cache_write_tokens: number;
  cost_usd: number;
  latency_ms: number | null;
  ttft_ms: number | null;
  status: number;
  error: string | null;
  stream: boolean;
  created_at: Date;
}

const FIELDS = [
  'ref', 'request_id', 'key_id', 'principal', 'user_id', 'endpoint', 'model', 'provider', 'upstream_model', 'input_tokens', 'output_tokens',
  'cached_tokens', 'cache_write_tokens', 'cost_usd', 'latency_ms', 'ttft_ms', 'status', 'error', 'stream', 'created_at',
] as const;

/** the column types of a usage row, as jsonb_to_recordset reads the batch */
const RECORD = `ref text, request_id text, key_id uuid, principal text, user_id text, endpoint text, model text, provider text,
  upstream_model text, input_tokens int, output_tokens int, cached_tokens int, cache_write_tokens int, cost_usd numeric,
  latency_ms int, ttft_ms int, status int, error text, stream bool, created_at timestamptz`;

export type GroupBy = 'day' | 'model' | 'key' | 'user';

const GROUP_EXPR: Record<GroupBy, string> = {
  day: "to_char(date_trunc('day', u.created_at at time zone 'UTC'), 'YYYY-MM-DD')",
  model: 'u.model',
  key: "coalesce(u.key_id::text, u.principal)",
  user: "coalesce(u.user_id, '')",
};

const SUMS = `count(*)::int as requests, count(*) filter (where u.status >= 400)::int as errors,
  coalesce(sum(u.input_tokens), 0)::bigint as input_tokens, coalesce(sum(u.output_tokens), 0)::bigint as output_tokens,
  coalesce(sum(u.cached_tokens), 0)::bigint as cached_tokens, coalesce(sum(u.cost_usd), 0)::float8 as cost_usd`;

export interface Totals {
  requests: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  cost_usd: number;
}

const numeric = <T extends object>(row: T) =>
  Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'string' && /tokens$/.test(k) ? Number(v) : v])) as T;

export const usageDb = (db: pg.Pool) => ({
  /** Tokens (input + output) the project's calls used since `since`: the plan's ai_tokens_per_day counts these. */
  async tokensSince(ref: string, since: Date): Promise<number> {
    const { rows } = await db.query<{ used: number }>(
      'select coalesce(sum(input_tokens + output_tokens), 0)::float8 as used from platform.ai_usage where ref = $1 and created_at >= $2',
      [ref, since],
    );
    return rows[0].used;
  },
  /**
   * One statement for the whole batch; a row already written (same project and request id) is skipped, and so is a
   * row whose project has been deleted meanwhile (its key, if deleted, becomes null), so one stale row never holds
   * the queue up.
   */
  async insert(rows: UsageRecord[]): Promise<void> {
    // one JSON document for the batch: serialising it is a fraction of the cost of twenty typed arrays
    const select = FIELDS.map((f) => (f === 'key_id' ? 'k.id' : `u.${f}`)).join(', ');
    await db.query(
      `insert into platform.ai_usage (${FIELDS.join(', ')})
       select ${select} from jsonb_to_recordset($1::jsonb) as u (${RECORD})
       join platform.projects p on p.ref = u.ref
       left join platform.ai_keys k on k.id = u.key_id
       on conflict (ref, request_id) do nothing`,
      [JSON.stringify(rows)],
    );
  },

  async totals(ref: string, from: Date, to: Date): Promise<Totals> {
    const { rows } = await db.query<Totals>(`select ${SUMS} from platform.ai_usage u where u.ref = $1 and u.created_at >= $2 and u.created_at < $3`, [ref, from, to]);
    return numeric(rows[0]);
  },

  async grouped(ref: string, from: Date, to: Date, by: GroupBy): Promise<(Totals & { group: string; key_name?: string | null })[]> {
    const name = by === 'key' ? ', max(k.name) as key_name' : '';
    const join = by === 'key' ? 'left join platform.ai_keys k on k.id = u.key_id' : '';
    const { rows } = await db.query(
      `select ${GROUP_EXPR[by]} as "group"${name}, ${SUMS} from platform.ai_usage u ${join}
        where u.ref = $1 and u.created_at >= $2 and u.created_at < $3 group by 1 order by 1`,
      [ref, from, to],
    );
    return rows.map(numeric);
  },

  async records(ref: string, from: Date, to: Date, limit: number): Promise<Record<string, unknown>[]> {
    const { rows } = await db.query(
      `select id::text, request_id, key_id, principal, user_id, endpoint, model, provider, upstream_model, input_tokens, output_tokens,
              cached_tokens, cache_write_tokens, cost_usd::float8 as cost_usd, latency_ms, ttft_ms, status, error, stream, created_at
         from platform.ai_usage u where u.ref = $1 and u.created_at >= $2 and u.created_at < $3 order by u.created_at desc, u.id desc limit $4`,
      [ref, from, to, limit],
    );
    return rows;
  },
});

export type UsageDb = ReturnType<typeof usageDb>;
