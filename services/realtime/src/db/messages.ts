// All SQL on realtime.messages: the RLS probes that authorise private channels (Supabase's model: probe rows
// inserted as the owner, read back as the caller, rolled back), the caller's write probe, replay, pruning.
import type pg from 'pg';

export async function insertProbes(tx: pg.PoolClient, topic: string): Promise<string[]> {
  const { rows } = await tx.query<{ id: string }>(
    `insert into realtime.messages (topic, extension, event, private, payload)
     values ($1, 'broadcast', 'probe', true, '{}'), ($1, 'presence', 'probe', true, '{}') returning id`, [topic]);
  return rows.map((r) => r.id);
}

export async function setTopic(tx: pg.PoolClient, topic: string): Promise<void> {
  await tx.query(`select set_config('realtime.topic', $1, true)`, [topic]);
}

export async function visibleExtensions(tx: pg.PoolClient, ids: string[]): Promise<string[]> {
  const { rows } = await tx.query<{ extension: string }>('select extension from realtime.messages where id = any($1::uuid[])', [ids]);
  return rows.map((r) => r.extension);
}

export async function insertAsCaller(tx: pg.PoolClient, topic: string, extension: string): Promise<void> {
  await tx.query(`insert into realtime.messages (topic, extension, event, private, payload) values ($1, $2, 'probe', true, '{}')`, [topic, extension]);
}

export interface StoredBroadcast {
  id: string;
  event: string;
  payload: unknown;
}

export async function broadcastsSince(tx: pg.PoolClient, topic: string, since: Date, limit: number): Promise<StoredBroadcast[]> {
  const { rows } = await tx.query<StoredBroadcast>(
    `select id, event, payload from realtime.messages
     where topic = $1 and extension = 'broadcast' and private and event is distinct from 'probe'
       and inserted_at >= ($2::timestamptz at time zone 'utc')
     order by inserted_at limit $3`, [topic, since.toISOString(), limit]);
  return rows;
}

export async function messageById(tx: pg.PoolClient, id: string): Promise<{ topic: string; event: string; payload: unknown; private: boolean } | null> {
  const { rows } = await tx.query('select topic, event, payload, private from realtime.messages where id = $1', [id]);
  return rows[0] ?? null;
}

/** Stored broadcasts are kept three days (Supabase keeps its daily partitions as long). */
export async function pruneMessages(tx: pg.PoolClient): Promise<void> {
  await tx.query(`delete from realtime.messages where inserted_at < (now() at time zone 'utc') - interval '3 days'`);
  await tx.query(`delete from realtime.change_log where inserted_at < now() - interval '10 minutes'`);
}
