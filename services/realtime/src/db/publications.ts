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

/**
 * A persistent slot: a stream whose connection breaks resumes from it without losing what committed meanwhile.
 * It retains WAL until dropped, so its stream drops it on ending and the sweep drops those of dead replicas.
 */
export async function createSlot(replication: pg.Client, slot: string): Promise<void> {
  await replication.query(`CREATE_REPLICATION_SLOT ${ident(slot)} LOGICAL pgoutput NOEXPORT_SNAPSHOT`);
}

/** Drops a slot once no session streams it (the walsender of a connection just ended takes a moment to go). */
export async function dropSlot(c: pg.ClientBase, slot: string, waitMs = 5_000): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const { rows } = await c.query<{ active: boolean }>(`select active, case when not active then pg_drop_replication_slot(slot_name) end
        from pg_replication_slots where slot_name = $1`, [slot]);
      if (!rows.length || !rows[0].active) return;
    } catch (e) {
      // taken by a session between the look and the drop (55006: object in use)
      if ((e as { code?: string }).code !== '55006') throw e;
    }
    if (Date.now() > deadline) throw new Error(`replication slot ${slot} is still in use`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The slots of realtime replicas on this database that no session streams now. */
export async function idleReplicaSlots(c: pg.ClientBase): Promise<string[]> {
  const { rows } = await c.query<{ slot_name: string }>(`select slot_name from pg_replication_slots
    where slot_name like $1 and database = current_database() and not active`, [`${PUBLICATION_PREFIX}%`]);
  return rows.map((r) => r.slot_name);
}

const lsnText = (lsn: bigint) => `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;

/** Streams the slot from `from` (or from the slot's own confirmed position, whichever is later). */
export const startReplicationSql = (slot: string, pub: string, from = 0n) =>
  `START_REPLICATION SLOT ${ident(slot)} LOGICAL ${lsnText(from)} (proto_version '1', publication_names '${pub.replace(/'/g, "''")}')`;

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
