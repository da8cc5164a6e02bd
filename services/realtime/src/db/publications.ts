// All SQL of logical-decoding capture, run on the cluster admin's connection to a project database: whether the
// cluster can decode, the replica's publication and the tables in it, the replication slot, and turning the text
// values of decoded rows into the JSON a row trigger's to_jsonb(new) gives.
import type pg from 'pg';
import { ident } from '@basalt/db';

export const PUBLICATION_PREFIX = 'basalt_rt_';

const qualified = (schema: string, table: string) => `${ident(schema)}.${ident(table)}`;

/** wal_level = logical and a login that may replicate (a superuser, or REPLICATION for the slot). */
export async function canDecode(c: pg.ClientBase): Promise<boolean> {
  const { rows } = await c.query<{ ok: boolean }>(`select current_setting('wal_level') = 'logical'
    and (select rolsuper or rolreplication from pg_roles where rolname = current_user) as ok`);
  return rows[0]?.ok === true;
}

/** An empty publication; it must exist before the slot, or decoding fails on any change ("does not exist"). */
export async function resetPublication(c: pg.ClientBase, name: string): Promise<void> {
  await c.query(`drop publication if exists ${ident(name)}`);
  await c.query(`create publication ${ident(name)} with (publish = 'insert, update, delete')`);
}

export async function dropPublication(c: pg.ClientBase, name: string): Promise<void> {
  await c.query(`drop publication if exists ${ident(name)}`);
}

const isMember = async (c: pg.ClientBase, pub: string, schema: string, table: string) =>
  (await c.query('select 1 from pg_publication_tables where pubname = $1 and schemaname = $2 and tablename = $3', [pub, schema, table])).rowCount! > 0;

/**
 * Adds a table. The lock waits out transactions writing the table now: one that wrote before the table was
 * published would be decoded without it even if it commits later, so a claim resolves only after they end
 * (as installing the capture trigger does).
 */
export async function publishTable(c: pg.ClientBase, pub: string, schema: string, table: string): Promise<void> {
  await c.query('begin');
  try {
    await c.query(`lock table ${qualified(schema, table)} in share row exclusive mode`);
    if (!(await isMember(c, pub, schema, table))) await c.query(`alter publication ${ident(pub)} add table ${qualified(schema, table)}`);
    await c.query('commit');
  } catch (e) {
    await c.query('rollback').catch(() => undefined);
    throw e;
  }
}

export async function unpublishTable(c: pg.ClientBase, pub: string, schema: string, table: string): Promise<void> {
  if (await isMember(c, pub, schema, table)) await c.query(`alter publication ${ident(pub)} drop table ${qualified(schema, table)}`);
}

/** Publications of realtime replicas on this database (one per replica; a crashed replica's stays behind). */
export async function replicaPublications(c: pg.ClientBase): Promise<string[]> {
  const { rows } = await c.query<{ pubname: string }>(`select pubname from pg_publication where pubname like $1`, [`${PUBLICATION_PREFIX}%`]);
  return rows.map((r) => r.pubname);
}

/** A temporary slot: it lives as long as the replication connection that made it, so nothing outlives a stream. */
export async function createTemporarySlot(replication: pg.Client, slot: string): Promise<void> {
  await replication.query(`CREATE_REPLICATION_SLOT ${ident(slot)} TEMPORARY LOGICAL pgoutput NOEXPORT_SNAPSHOT`);
}

export const startReplicationSql = (slot: string, pub: string) =>
  `START_REPLICATION SLOT ${ident(slot)} LOGICAL 0/0 (proto_version '1', publication_names '${pub.replace(/'/g, "''")}')`;

export interface RowsOf {
  schema: string;
  table: string;
  /** rows as column → text value (json/jsonb values already parsed), tagged with the caller's index */
  rows: { o: number; v: Record<string, unknown> }[];
}

/** Each row through the table's row type and to_jsonb, in one round trip for all tables of a transaction. */
export async function rowsAsJson(c: pg.ClientBase, groups: RowsOf[]): Promise<Map<number, Record<string, unknown>>> {
  if (!groups.length) return new Map();
  const sql = groups.map((g, i) => `select x.o, to_jsonb(jsonb_populate_record(null::${qualified(g.schema, g.table)}, x.v)) as j
    from jsonb_to_recordset($${i + 1}::jsonb) as x(o int, v jsonb)`).join(' union all ');
  const { rows } = await c.query<{ o: number; j: Record<string, unknown> }>(sql, groups.map((g) => JSON.stringify(g.rows)));
  return new Map(rows.map((r) => [r.o, r.j]));
}
