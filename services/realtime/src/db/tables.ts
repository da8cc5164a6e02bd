// All SQL of change capture on a project database: what a table looks like (columns, primary key, RLS,
// replica identity, which API roles may select it), installing and dropping the capture trigger, and the
// per-subscriber visibility check of changed rows.
import type pg from 'pg';
import { CALLER_SETTINGS_SQL, callerSettingsValues, ident, literal, type CallerSettings } from '@basalt/db';

export interface TableMeta {
  schema: string;
  table: string;
  columns: { name: string; type: string }[];
  pk: { name: string; type: string }[];
  rls: boolean;
  fullIdentity: boolean;
  selectable: { anon: boolean; authenticated: boolean };
}

const META_SQL = `
select c.relrowsecurity as rls, c.relreplident = 'f' as full,
  has_table_privilege('anon', c.oid, 'select') as anon, has_table_privilege('authenticated', c.oid, 'select') as authenticated,
  coalesce((select json_agg(json_build_object('name', a.attname, 'type', t.typname) order by a.attnum)
     from pg_attribute a join pg_type t on t.oid = a.atttypid
     where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '[]') as columns,
  coalesce((select json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod)) order by array_position(i.indkey, a.attnum))
     from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
     where i.indrelid = c.oid and i.indisprimary), '[]') as pk
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = $1 and c.relname = $2 and c.relkind in ('r', 'p')`;

export async function tableMeta(db: pg.Pool | pg.PoolClient, schema: string, table: string): Promise<TableMeta | null> {
  const { rows } = await db.query(META_SQL, [schema, table]);
  const r = rows[0];
  if (!r) return null;
  return { schema, table, columns: r.columns, pk: r.pk, rls: r.rls, fullIdentity: r.full, selectable: { anon: r.anon, authenticated: r.authenticated } };
}

export async function tablesOf(db: pg.Pool | pg.PoolClient, schema: string): Promise<string[]> {
  const { rows } = await db.query<{ relname: string }>(
    `select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relkind in ('r', 'p')`, [schema]);
  return rows.map((r) => r.relname);
}

const qualified = (schema: string, table: string) => `${ident(schema)}.${ident(table)}`;

/** Serialises installs and drops of one table's trigger across replicas (held to the transaction's end). */
export async function lockTable(tx: pg.PoolClient, schema: string, table: string): Promise<void> {
  await tx.query(`select pg_advisory_xact_lock(hashtext('realtime.capture'), hashtext($1))`, [`${schema}.${table}`]);
}

export async function installCapture(tx: pg.PoolClient, schema: string, table: string): Promise<void> {
  await tx.query(`create or replace trigger realtime_capture after insert or update or delete on ${qualified(schema, table)}
    for each row execute function realtime.capture_change()`);
}

export async function dropCapture(tx: pg.PoolClient, schema: string, table: string): Promise<void> {
  await tx.query(`drop trigger if exists realtime_capture on ${qualified(schema, table)}`);
}

/** Tables that carry the capture trigger now. */
export async function capturedTables(db: pg.Pool | pg.PoolClient): Promise<[string, string][]> {
  const { rows } = await db.query<{ schema: string; table: string }>(
    `select n.nspname as schema, c.relname as table from pg_trigger t join pg_class c on c.oid = t.tgrelid
     join pg_namespace n on n.oid = c.relnamespace where t.tgname = 'realtime_capture'`);
  return rows.map((r) => [r.schema, r.table]);
}

export async function overflowPayloads(db: pg.Pool, ids: number[]): Promise<Map<number, unknown>> {
  const { rows } = await db.query<{ id: string; payload: unknown }>('select id, payload from realtime.change_overflow where id = any($1::bigint[])', [ids]);
  return new Map(rows.map((r) => [Number(r.id), r.payload]));
}

export interface VisibilityCheck {
  caller: CallerSettings;
  meta: TableMeta;
  keys: string[][];
}

/** One Postgres array literal ('{"1","2"}'): far cheaper to parse than an ARRAY[...] of quoted literals. */
const arrayLiteral = (values: string[]) => literal(`{${values.map((v) => `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(',')}}`);

/** The keys join the table through its primary key index (an `= any(array)` filter would be checked per row). */
function readSql(meta: TableMeta, keys: string[][]): string {
  const arrays = meta.pk.map((c, i) => `${arrayLiteral(keys.map((k) => k[i]))}::${c.type}[]`);
  const on = meta.pk.map((c, i) => `t.${ident(c.name)} = k.c${i}`).join(' and ');
  const cols = meta.pk.map((c, i) => `t.${ident(c.name)}::text as k${i}`).join(', ');
  return `select ${cols} from unnest(${arrays.join(', ')}) as k(${meta.pk.map((_, i) => `c${i}`).join(', ')}) join ${qualified(meta.schema, meta.table)} t on ${on}`;
}

const keyOf = (r: Record<string, string>, n: number) => Array.from({ length: n }, (_, i) => r[`k${i}`]).join('\u0001');

/** A caller's settings as one statement with literal values (to switch callers inside one transaction). */
const settingsSql = (c: CallerSettings) => {
  const values = callerSettingsValues(c);
  return CALLER_SETTINGS_SQL.replace(/\$(\d)/g, (_, n: string) => literal(values[Number(n) - 1]));
};

/**
 * Which of the given primary keys each caller can SELECT under RLS. Several callers share one round trip and
 * one read-only transaction that is rolled back: `begin; <settings 1>; <read 1>; <settings 2>; <read 2>; …;
 * rollback` as one simple query. Keys come back as their text forms joined by \u0001. A statement that fails
 * (a missing grant) aborts the rest, which are then asked one by one so one caller's failure never hides
 * another's rows.
 */
export async function visibleKeys(pool: pg.Pool, checks: VisibilityCheck[]): Promise<Set<string>[]> {
  if (!checks.length) return [];
  const sql = `begin; ${checks.map((c) => `${settingsSql(c.caller)}; ${readSql(c.meta, c.keys)}`).join('; ')}; rollback`;
  const client = await pool.connect();
  let failure: unknown = null;
  let results: pg.QueryResult[] = [];
  try {
    results = (await client.query(sql)) as unknown as pg.QueryResult[];
  } catch (e) {
    failure = e;
  }
  const broken = failure !== null && (await client.query('rollback').then(() => false, () => true));
  client.release(broken);
  if (failure === null) return checks.map((c, i) => new Set((results[2 + i * 2].rows as Record<string, string>[]).map((r) => keyOf(r, c.meta.pk.length))));
  if (checks.length > 1) return (await Promise.all(checks.map((c) => visibleKeys(pool, [c])))).flat();
  if ((failure as { code?: string }).code === '42501') return [new Set()];
  throw failure;
}
