// All SQL of change capture on a project database: what a table looks like (columns, primary key, RLS,
// replica identity, which API roles may select it), installing and dropping the capture trigger, and the
// per-subscriber visibility check of changed rows.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { ident, literal, type CallerSettings } from '@basalt/db';
import { CallerSwitch } from './caller-settings.js';

export interface TableMeta {
  schema: string;
  table: string;
  columns: { name: string; type: string }[];
  pk: { name: string; type: string }[];
  rls: boolean;
  fullIdentity: boolean;
  selectable: { anon: boolean; authenticated: boolean };
  /** basalt_admin may read the table: the row checks can locate a batch's rows once for all callers */
  locatable: boolean;
}

const META_SQL = `
select c.relrowsecurity as rls, c.relreplident = 'f' as full,
  has_table_privilege('anon', c.oid, 'select') as anon, has_table_privilege('authenticated', c.oid, 'select') as authenticated,
  has_table_privilege('basalt_admin', c.oid, 'select') as locatable,
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
  return { schema, table, columns: r.columns, pk: r.pk, rls: r.rls, fullIdentity: r.full, selectable: { anon: r.anon, authenticated: r.authenticated }, locatable: r.locatable };
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

/** Logged changes by number (a change too big for NOTIFY arrives as its number alone). */
export async function loggedChanges(db: pg.Pool, ids: number[]): Promise<Map<number, unknown>> {
  const { rows } = await db.query<{ id: string; payload: unknown }>('select id, payload from realtime.change_log where id = any($1::bigint[])', [ids]);
  return new Map(rows.map((r) => [Number(r.id), r.payload]));
}

/** The logged changes numbered above `after` that are committed now, by number. */
export async function changesAfter(db: pg.ClientBase | pg.Pool, after: number): Promise<unknown[]> {
  const { rows } = await db.query<{ payload: unknown }>('select payload from realtime.change_log where id > $1 order by id', [after]);
  return rows.map((r) => r.payload);
}

/** The highest change number made so far (a feed reads nothing back from before it started). */
export async function lastChangeNumber(db: pg.ClientBase | pg.Pool): Promise<number> {
  const { rows } = await db.query<{ n: string }>(`select case when is_called then last_value else 0 end as n from realtime.change_seq`);
  return Number(rows[0].n);
}

export async function pruneChangeLog(db: pg.ClientBase | pg.Pool, upTo: number): Promise<void> {
  await db.query('delete from realtime.change_log where id <= $1', [upTo]);
}

export interface VisibilityCheck {
  caller: CallerSettings;
  meta: TableMeta;
  keys: string[][];
  /**
   * The keys are all the batch's keys of the table, the very same array for every such check: their rows are
   * located once per round trip, and each caller's read visits those row versions directly.
   */
  shared?: boolean;
}

/** One Postgres array literal ('{"1","2"}'): far cheaper to parse than an ARRAY[...] of quoted literals. */
const arrayLiteral = (values: string[]) => literal(`{${values.map((v) => `"${/[\\"]/.test(v) ? v.replace(/[\\"]/g, (c) => `\\${c}`) : v}"`).join(',')}}`);

/** The key columns' array literals of a key set, made once however many round trips read the set. */
const literals = new WeakMap<string[][], string[]>();
function keyLiterals(meta: TableMeta, keys: string[][]): string[] {
  let l = literals.get(keys);
  if (!l) literals.set(keys, (l = meta.pk.map((_, i) => arrayLiteral(keys.map((k) => k[i])))));
  return l;
}

const keyColumns = (meta: TableMeta) => meta.pk.map((c, i) => `t.${ident(c.name)}::text as k${i}`).join(', ');

/**
 * The rows of the given keys. A single-column key is an `= any(array)` filter (an index scan, or a hashed filter
 * of a scan where the planner finds that cheaper); a composite one joins the keys through the primary key.
 */
function keyedSql(meta: TableMeta, keys: string[][], cols: string): string {
  const lits = keyLiterals(meta, keys);
  if (meta.pk.length === 1) {
    const c = meta.pk[0];
    return `select ${cols} from ${qualified(meta.schema, meta.table)} t where t.${ident(c.name)} = any(${lits[0]}::${c.type}[])`;
  }
  const arrays = meta.pk.map((c, i) => `${lits[i]}::${c.type}[]`);
  const on = meta.pk.map((c, i) => `t.${ident(c.name)} = k.c${i}`).join(' and ');
  return `select ${cols} from unnest(${arrays.join(', ')}) as k(${meta.pk.map((_, i) => `c${i}`).join(', ')}) join ${qualified(meta.schema, meta.table)} t on ${on}`;
}

/** fewer keys than this are read by key by each caller: locating them first would cost more than it saves */
const BY_VERSION_MIN = 8;

/**
 * Locates a key set's row versions (as basalt_admin, which reads past RLS) into three transaction settings
 * `<name>`, `<name>_lo`, `<name>_hi`. Where the versions lie together (a bulk insert: the span from the first to
 * the last holds hardly any other row, counted up to a bound), they are the span lo..hi and the list is empty;
 * elsewhere they are the list and the span is empty.
 */
function locateSql(meta: TableMeta, keys: string[][], name: string): string {
  const table = qualified(meta.schema, meta.table);
  const bound = keys.length + (keys.length >> 2) + 17;
  return `select set_config('${name}', case when d.dense then '{}' else coalesce(d.tids::text, '{}') end, true),
    set_config('${name}_lo', case when d.dense then d.lo::text else '(1,0)' end, true),
    set_config('${name}_hi', case when d.dense then d.hi::text else '(0,0)' end, true)
  from (select a.tids, a.lo, a.hi,
      a.n > 0 and (select count(*) from (select from ${table} t where t.ctid >= a.lo and t.ctid <= a.hi limit ${bound}) s) <= a.n + a.n / 4 + 16 as dense
    from (select array_agg(r.ctid) as tids, min(r.ctid) as lo, max(r.ctid) as hi, count(*) as n from (${keyedSql(meta, keys, 't.ctid')}) r) a) d`;
}

/**
 * A caller's read of located rows: a TID range scan of the span and a TID scan of the list (one of them empty),
 * the caller's policies applied to each row version. A span may hold rows outside the key set: their keys come
 * back too and are ignored, each of them a row this caller may see.
 */
function locatedReadSql(meta: TableMeta, name: string): string {
  const from = `select ${keyColumns(meta)} from ${qualified(meta.schema, meta.table)} t`;
  return `${from} where t.ctid >= (select current_setting('${name}_lo')::tid) and t.ctid <= (select current_setting('${name}_hi')::tid)
    union all ${from} where t.ctid = any((select current_setting('${name}')::tid[])::tid[])`;
}

const keyOf = (r: Record<string, string>, n: number) => Array.from({ length: n }, (_, i) => r[`k${i}`]).join('\u0001');

/**
 * A caller's read as a statement prepared on the connection: the checks of a batch run many callers' reads of one
 * table, and a prepared read is planned once per connection and role (force_generic_plan) rather than once per
 * caller: planning the policies was most of what a read of a few rows cost. Plans hold no caller's claims (the
 * policies read them from the settings as they run), and Postgres plans a read again for another role.
 */
interface Prepared {
  name: string;
  prepare: string;
}

const statements = new WeakMap<TableMeta, Map<string, Prepared>>();
function prepared(meta: TableMeta, kind: string, params: string[], text: () => string): Prepared {
  let byKind = statements.get(meta);
  if (!byKind) statements.set(meta, (byKind = new Map()));
  let st = byKind.get(kind);
  if (!st) {
    const body = `${params.length ? `(${params.join(', ')})` : ''} as ${text()}`;
    st = { name: `basalt_rt_${createHash('sha1').update(body).digest('hex').slice(0, 24)}`, prepare: '' };
    st.prepare = `prepare ${st.name}${body}`;
    byKind.set(kind, st);
  }
  return st;
}

/** A read of the given keys, the key arrays its parameters. */
function keyedRead(meta: TableMeta): Prepared {
  return prepared(meta, 'keyed', meta.pk.map((c) => `${c.type}[]`), () => {
    if (meta.pk.length === 1) return `select ${keyColumns(meta)} from ${qualified(meta.schema, meta.table)} t where t.${ident(meta.pk[0].name)} = any($1)`;
    const on = meta.pk.map((c, i) => `t.${ident(c.name)} = k.c${i}`).join(' and ');
    return `select ${keyColumns(meta)} from unnest(${meta.pk.map((_, i) => `$${i + 1}`).join(', ')}) as k(${meta.pk.map((_, i) => `c${i}`).join(', ')}) join ${qualified(meta.schema, meta.table)} t on ${on}`;
  });
}

/** the statements prepared on each connection (a connection that ends takes them along) */
const preparedOn = new WeakMap<object, Set<string>>();
/** a connection with more than this many is not reused: it ends rather than holding statements without bound */
const MAX_PREPARED = 256;

/**
 * Which of the given primary keys each caller can SELECT under RLS. Several callers share one round trip and
 * one read-only repeatable-read transaction that is rolled back, as one simple query: `begin; [prepare the reads
 * this connection lacks;] [as basalt_admin, the row versions (ctid) of each shared key set into transaction
 * settings;] <settings 1>; <read 1>; <settings 2>; <read 2>; …; rollback`. A shared read visits those row
 * versions directly (one snapshot for the whole transaction, so they are the versions each caller's read sees),
 * the caller's policies applied to each: no index descent per key per caller. Keys come back as their text forms
 * joined by \u0001. A statement that fails (a missing grant) aborts the rest, which are then asked one by one by
 * key so one caller's failure never hides another's rows. A caller whose own read fails (a missing grant: no rows;
 * a policy that raises: its error) is answered that, and the others their rows; a failure of the connection or the
 * server is thrown.
 */
export async function visibleKeys(pool: pg.Pool, checks: VisibilityCheck[], byVersion = true): Promise<(Set<string> | CallerError)[]> {
  if (!checks.length) return [];
  const located = new Map<string[][], string>();
  const head: string[] = [];
  if (byVersion) {
    for (const c of checks) {
      if (!c.shared || !c.meta.locatable || c.keys.length < BY_VERSION_MIN || located.has(c.keys)) continue;
      const name = `realtime.rows_${located.size}`;
      located.set(c.keys, name);
      head.push(locateSql(c.meta, c.keys, name));
    }
    if (head.length) head.unshift(`set local role basalt_admin`);
  }
  const client = await pool.connect();
  let known = preparedOn.get(client);
  if (!known) preparedOn.set(client, (known = new Set()));
  const prepare: string[] = [];
  const callers = new CallerSwitch();
  // callers of one key set run the same statement
  const executes = new Map<string[][], string>();
  const reads = checks.map((c) => {
    let execute = executes.get(c.keys);
    if (execute === undefined) {
      const rows = located.get(c.keys);
      const st = rows ? prepared(c.meta, rows, [], () => locatedReadSql(c.meta, rows)) : keyedRead(c.meta);
      if (!known.has(st.name)) {
        known.add(st.name);
        prepare.push(st.prepare);
      }
      execute = rows ? `execute ${st.name}` : `execute ${st.name}(${keyLiterals(c.meta, c.keys).join(', ')})`;
      executes.set(c.keys, execute);
    }
    return `${callers.to(c.caller)}; ${execute}`;
  });
  const sql = `begin isolation level repeatable read read only; set local plan_cache_mode = force_generic_plan; ${[...prepare, ...head, ...reads].join('; ')}; rollback`;
  let failure: unknown = null;
  let results: pg.QueryResult[] = [];
  try {
    results = (await client.query(sql)) as unknown as pg.QueryResult[];
  } catch (e) {
    failure = e;
  }
  // after a failure the connection's prepared statements are not known for sure: it ends, and takes them along
  if (failure !== null) await client.query('rollback').catch(() => undefined);
  client.release(failure !== null || known.size > MAX_PREPARED);
  const first = 2 + prepare.length + head.length;
  if (failure === null) return checks.map((c, i) => new Set((results[first + i * 2 + 1].rows as Record<string, string>[]).map((r) => keyOf(r, c.meta.pk.length))));
  // a grant basalt_admin lost since the table was described: every caller reads by key
  if (head.length) return visibleKeys(pool, checks, false);
  if (checks.length > 1) return (await Promise.all(checks.map((c) => visibleKeys(pool, [c], false)))).flat();
  const code = (failure as { code?: string }).code;
  if (code === '42501') return [new Set()];
  if (code && !SERVER_FAILURE.test(code)) return [new CallerError((failure as Error).message, code)];
  throw failure;
}

/** SQLSTATE classes that say nothing of the caller's read: connection, resources, operator, system, internal */
const SERVER_FAILURE = /^(08|53|57P|58|XX)/;

/** The caller's own read failed (its policy raised, timed out): it sees none of the rows, the others theirs. */
export class CallerError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
  }
}
