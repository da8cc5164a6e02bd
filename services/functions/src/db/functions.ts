// All SQL of functions, versions, secrets and invocations in the control database.
import type pg from 'pg';

export interface FunctionRecord {
  ref: string;
  slug: string;
  verify_jwt: boolean;
  allow_service_role: boolean;
  timeout_ms: number;
  active_version: number;
  created_at: Date;
  updated_at: Date;
}

export interface ActiveFunction extends FunctionRecord {
  /** changes whenever a project secret is set or removed: part of the isolate key, so new values apply at once */
  secrets_version: string;
}

const FN = 'f.ref, f.slug, f.verify_jwt, f.allow_service_role, f.timeout_ms, f.active_version, f.created_at, f.updated_at';

interface InvocationRow {
  ref: string;
  slug: string;
  version: number;
  method: string;
  status: number;
  durationMs: number;
  logs: string;
  error: string | null;
}

/**
 * Invocation rows are written in batches (one multi-row insert every 100 ms, or per 500 rows) instead of one
 * insert per invocation; reading the log flushes first, so a caller always sees its own invocations.
 */
function invocationWriter(db: pg.Pool) {
  let pending: InvocationRow[] = [];
  let timer: NodeJS.Timeout | null = null;
  let writing: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = null;
    const rows = pending;
    pending = [];
    if (rows.length === 0) return writing;
    writing = writing.then(() => db.query(
      `insert into platform.function_invocations (ref, slug, version, method, status, duration_ms, logs, error)
       select r.ref, r.slug, r.version, r.method, r.status, r.duration_ms, r.logs, r.error
         from unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::int[], $6::int[], $7::text[], $8::text[])
              with ordinality as r(ref, slug, version, method, status, duration_ms, logs, error, n)
        where exists (select 1 from platform.functions f where f.ref = r.ref and f.slug = r.slug)
        order by r.n`,
      [rows.map((r) => r.ref), rows.map((r) => r.slug), rows.map((r) => r.version), rows.map((r) => r.method), rows.map((r) => r.status),
        rows.map((r) => Math.round(r.durationMs)), rows.map((r) => r.logs.slice(0, 64 * 1024)), rows.map((r) => r.error)],
    ).then(() => undefined, () => undefined));
    return writing;
  };
  return {
    add(row: InvocationRow): void {
      pending.push(row);
      if (pending.length >= 500) void flush();
      else timer ??= setTimeout(flush, 100);
    },
    flush,
  };
}

export const functionsDb = (db: pg.Pool, writer = invocationWriter(db)) => ({
  /** A deploy: upsert the function, add the next version, make it active — one transaction. */
  async deploy(d: { ref: string; slug: string; verifyJwt: boolean; allowServiceRole: boolean; timeoutMs: number; code: string; source: unknown; entrypoint: string }): Promise<FunctionRecord> {
    const { rows } = await db.query<FunctionRecord>(
      `with f as (
         insert into platform.functions as f (ref, slug, verify_jwt, allow_service_role, timeout_ms, active_version)
         values ($1, $2, $3, $4, $5, 1)
         on conflict (ref, slug) do update set verify_jwt = $3, allow_service_role = $4, timeout_ms = $5,
           active_version = (select coalesce(max(version), 0) + 1 from platform.function_versions v where v.ref = $1 and v.slug = $2),
           updated_at = now()
         returning *
       ), v as (
         insert into platform.function_versions (ref, slug, version, code, source, entrypoint)
         select ref, slug, active_version, $6, $7, $8 from f
       )
       select ${FN} from f`,
      [d.ref, d.slug, d.verifyJwt, d.allowServiceRole, d.timeoutMs, d.code, JSON.stringify(d.source), d.entrypoint],
    );
    return rows[0];
  },
  /** The hot path's one query: the active version and the secrets revision, without the bundle text. */
  async active(ref: string, slug: string): Promise<ActiveFunction | null> {
    const { rows } = await db.query<ActiveFunction>({
      name: 'functions-active',
      text: `select ${FN}, (select coalesce(max(s.updated_at)::text, '') || ':' || count(*) from platform.function_secrets s where s.ref = f.ref) as secrets_version
               from platform.functions f where f.ref = $1 and f.slug = $2`,
      values: [ref, slug],
    });
    return rows[0] ?? null;
  },
  /** The bundle of one version, read only when an isolate boots. */
  async code(ref: string, slug: string, version: number): Promise<string | null> {
    const { rows } = await db.query<{ code: string }>('select code from platform.function_versions where ref = $1 and slug = $2 and version = $3', [ref, slug, version]);
    return rows[0]?.code ?? null;
  },
  async list(ref: string): Promise<(FunctionRecord & { versions: { version: number; created_at: Date }[] })[]> {
    const { rows } = await db.query(
      `select ${FN}, coalesce((select json_agg(json_build_object('version', v.version, 'created_at', v.created_at) order by v.version)
                from platform.function_versions v where v.ref = f.ref and v.slug = f.slug), '[]') as versions
         from platform.functions f where f.ref = $1 order by f.slug`,
      [ref],
    );
    return rows;
  },
  async activate(ref: string, slug: string, version: number): Promise<FunctionRecord | null> {
    const { rows } = await db.query<FunctionRecord>(
      `update platform.functions f set active_version = $3, updated_at = now()
        where f.ref = $1 and f.slug = $2 and exists (select 1 from platform.function_versions v where v.ref = $1 and v.slug = $2 and v.version = $3)
        returning ${FN}`,
      [ref, slug, version],
    );
    return rows[0] ?? null;
  },
  async remove(ref: string, slug: string): Promise<boolean> {
    const { rowCount } = await db.query('delete from platform.functions where ref = $1 and slug = $2', [ref, slug]);
    return rowCount === 1;
  },
  async setSecrets(ref: string, secrets: { name: string; valueEnc: string }[]): Promise<void> {
    await db.query(
      `insert into platform.function_secrets (ref, name, value_enc)
       select $1, * from unnest($2::text[], $3::text[])
       on conflict (ref, name) do update set value_enc = excluded.value_enc, updated_at = now()`,
      [ref, secrets.map((s) => s.name), secrets.map((s) => s.valueEnc)],
    );
  },
  async secrets(ref: string): Promise<{ name: string; value_enc: string; updated_at: Date }[]> {
    const { rows } = await db.query('select name, value_enc, updated_at from platform.function_secrets where ref = $1 order by name', [ref]);
    return rows;
  },
  async deleteSecrets(ref: string, names: string[]): Promise<void> {
    await db.query('delete from platform.function_secrets where ref = $1 and name = any($2)', [ref, names]);
  },
  logInvocation(i: InvocationRow): Promise<void> {
    writer.add(i);
    return Promise.resolve();
  },
  /** writes the invocation rows still buffered (on reads and at shutdown) */
  flushInvocations: () => writer.flush(),
  async invocations(ref: string, slug: string, limit: number) {
    await writer.flush();
    const { rows } = await db.query(
      `select id, version, method, status, duration_ms, logs, error, created_at from platform.function_invocations
        where ref = $1 and slug = $2 order by id desc limit $3`,
      [ref, slug, limit],
    );
    return rows;
  },
});

export type FunctionsDb = ReturnType<typeof functionsDb>;
