// Inference events: the durable record of a queued add (its input, its status and, once applied, its results).
import type pg from 'pg';

export interface EventRow {
  id: string;
  status: 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  user_id: string | null;
  input_hash: string;
  payload: any;
  results: any;
  error: string | null;
  created_at: Date;
  updated_at: Date;
}

export async function createEvent(tx: pg.PoolClient, userId: string | null, inputHash: string, payload: unknown): Promise<EventRow> {
  const { rows } = await tx.query<EventRow>(
    'insert into memory.events (user_id, input_hash, payload) values ($1, $2, $3) returning *',
    [userId, inputHash, JSON.stringify(payload)],
  );
  return rows[0];
}

export async function getEvent(tx: pg.PoolClient, id: string, lock = false): Promise<EventRow | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  const { rows } = await tx.query<EventRow>(`select * from memory.events where id = $1${lock ? ' for update' : ''}`, [id]);
  return rows[0] ?? null;
}

/** a completed inference of exactly this input (scope + messages), if one exists */
export async function succeededWithInput(tx: pg.PoolClient, inputHash: string): Promise<EventRow | null> {
  const { rows } = await tx.query<EventRow>(`select * from memory.events where input_hash = $1 and status = 'SUCCEEDED' limit 1`, [inputHash]);
  return rows[0] ?? null;
}

export async function finishEvent(tx: pg.PoolClient, id: string, status: 'SUCCEEDED' | 'FAILED' | 'RUNNING', results: unknown, error: string | null): Promise<void> {
  await tx.query('update memory.events set status = $2, results = $3, error = $4, updated_at = now() where id = $1', [id, status, results === null ? null : JSON.stringify(results), error]);
}

export async function listEvents(tx: pg.PoolClient, limit: number, offset: number): Promise<EventRow[]> {
  const { rows } = await tx.query<EventRow>('select * from memory.events order by created_at desc limit $1 offset $2', [limit, offset]);
  return rows;
}
