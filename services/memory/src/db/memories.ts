// All SQL of memory.memories and its audit history. Statements run inside the caller's transaction (asCaller),
// so RLS keeps a signed-in user to their own rows whatever the service asks for.
import type pg from 'pg';
import type { SqlParams } from '@basalt/db';

export const SCOPES = ['user_id', 'agent_id', 'app_id', 'run_id'] as const;
export type ScopeField = (typeof SCOPES)[number];
export type Scope = Partial<Record<ScopeField, string>>;

export interface MemoryRow {
  id: string;
  user_id: string | null;
  agent_id: string | null;
  app_id: string | null;
  run_id: string | null;
  memory: string;
  hash: string;
  metadata: Record<string, unknown>;
  categories: string[];
  memory_type: string | null;
  created_at: Date;
  updated_at: Date;
  expiration_date: string | null;
}

export interface NewMemory {
  id?: string;
  memory: string;
  hash: string;
  /** float32 bytes and sign code, or null when no embedding model is configured */
  embedding: Buffer | null;
  code: string | null;
  entities?: { name: string; type: string }[];
}

export interface WriteContext {
  scope: Scope;
  metadata: Record<string, unknown>;
  categories: string[];
  memoryType: string | null;
  expirationDate: string | null;
  createdAt: string | null;
  textSearchConfig: string;
  embeddingModel: string | null;
  input: unknown;
  eventId: string | null;
  actor: string | null;
  /** embeddings to add to the cache in the same statement (only for service-role transactions) */
  cache?: { model: string; entries: { hash: string; embedding: Buffer }[] };
}

export const COLUMNS = `m.id, m.user_id, m.agent_id, m.app_id, m.run_id, m.memory, m.hash, m.metadata, m.categories, m.memory_type,
  m.created_at, m.updated_at, to_char(m.expiration_date, 'YYYY-MM-DD') as expiration_date`;

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Inserts memories and their ADD history in one statement; a text already stored in exactly this scope is skipped. */
export async function insertMemories(tx: pg.PoolClient, rows: NewMemory[], c: WriteContext): Promise<MemoryRow[]> {
  if (rows.length === 0) return [];
  const { rows: out } = await tx.query<MemoryRow>(
    `with new as (
       select coalesce(t.id, gen_random_uuid()) as id, t.memory, t.hash, t.embedding, t.code::bit varying as code
       from unnest($1::uuid[], $2::text[], $3::text[], $4::bytea[], $5::text[]) as t(id, memory, hash, embedding, code)
       where not exists (select 1 from memory.memories x where x.hash = t.hash and x.user_id is not distinct from $6
         and x.agent_id is not distinct from $7 and x.app_id is not distinct from $8 and x.run_id is not distinct from $9)
     ),${c.cache ? ` cache as (
       insert into memory.embedding_cache (model, hash, embedding)
       select $20::text, c.hash, c.embedding from unnest($21::text[], $22::bytea[]) as c(hash, embedding) on conflict do nothing
     ),` : ''} m as (
       insert into memory.memories as m (id, user_id, agent_id, app_id, run_id, memory, hash, metadata, categories, memory_type,
         expiration_date, created_at, updated_at, tsv, embedding_model, embedding, code)
       select new.id, $6, $7, $8, $9, new.memory, new.hash, $10::jsonb, $11::text[], $12, $13::date,
         coalesce($14::timestamptz, now()), coalesce($14::timestamptz, now()), to_tsvector($15::regconfig, new.memory),
         case when new.embedding is null then null else $16 end, new.embedding, new.code
       from new
       returning ${COLUMNS}
     ), h as (
       insert into memory.history (memory_id, user_id, agent_id, app_id, run_id, event, new_memory, input, categories, event_id, actor)
       select m.id, m.user_id, m.agent_id, m.app_id, m.run_id, 'ADD', m.memory, $17::jsonb, m.categories, $18, $19 from m
     )
     select * from m`,
    [
      rows.map((r) => r.id ?? null), rows.map((r) => r.memory), rows.map((r) => r.hash), rows.map((r) => r.embedding), rows.map((r) => r.code),
      c.scope.user_id ?? null, c.scope.agent_id ?? null, c.scope.app_id ?? null, c.scope.run_id ?? null,
      JSON.stringify(c.metadata), c.categories, c.memoryType, c.expirationDate, c.createdAt, c.textSearchConfig, c.embeddingModel,
      c.input === undefined ? null : JSON.stringify(c.input), c.eventId, c.actor,
      ...(c.cache ? [c.cache.model, c.cache.entries.map((e) => e.hash), c.cache.entries.map((e) => e.embedding)] : []),
    ],
  );
  return out;
}

export async function getMemory(tx: pg.PoolClient, id: string, forUpdate = false): Promise<MemoryRow | null> {
  if (!UUID.test(id)) return null;
  const { rows } = await tx.query<MemoryRow>(`select ${COLUMNS} from memory.memories m where m.id = $1${forUpdate ? ' for update' : ''}`, [id]);
  return rows[0] ?? null;
}

export async function memoriesByIds(tx: pg.PoolClient, ids: string[]): Promise<MemoryRow[]> {
  const { rows } = await tx.query<MemoryRow>(`select ${COLUMNS} from memory.memories m where m.id = any($1::uuid[])`, [ids]);
  return rows;
}

export async function listMemories(tx: pg.PoolClient, where: string, p: SqlParams, limit: number, offset: number): Promise<{ rows: MemoryRow[]; count: number }> {
  const { rows } = await tx.query<MemoryRow & { total: string }>(
    `select ${COLUMNS}, count(*) over () as total from memory.memories m where ${where}
     order by m.created_at desc, m.id limit ${p.add(limit)} offset ${p.add(offset)}`,
    p.values,
  );
  const count = rows.length ? Number(rows[0].total) : 0;
  return { rows: rows.map(({ total: _t, ...r }) => r as MemoryRow), count };
}

/** Every memory of the project, whoever's: what the plan's memory_count bounds (run as the service). */
export async function countAllMemories(tx: pg.PoolClient): Promise<number> {
  const { rows } = await tx.query<{ n: string }>('select count(*) as n from memory.memories');
  return Number(rows[0].n);
}

export async function countMemories(tx: pg.PoolClient, where: string, p: SqlParams): Promise<number> {
  const { rows } = await tx.query<{ n: string }>(`select count(*) as n from memory.memories m where ${where}`, p.values);
  return Number(rows[0].n);
}

export interface MemoryChange {
  memory?: string;
  hash?: string;
  metadata?: Record<string, unknown>;
  expirationDate?: string | null;
  createdAt?: string | null;
  embedding?: Buffer | null;
  code?: string | null;
  embeddingModel?: string | null;
}

/** Updates one memory and writes its UPDATE history (old and new text) in one statement. */
export async function updateMemory(tx: pg.PoolClient, id: string, ch: MemoryChange, cfg: string, audit: { input?: unknown; eventId?: string | null; actor?: string | null }): Promise<MemoryRow | null> {
  const text = ch.memory !== undefined;
  const { rows } = await tx.query<MemoryRow>(
    `with old as (select id, memory from memory.memories where id = $1 for update),
     m as (
       update memory.memories m set
         memory = coalesce($2, m.memory), hash = coalesce($3, m.hash),
         metadata = coalesce($4::jsonb, m.metadata),
         expiration_date = case when $5 then $6::date else m.expiration_date end,
         created_at = coalesce($7::timestamptz, m.created_at),
         tsv = case when $2::text is null then m.tsv else to_tsvector($8::regconfig, $2) end,
         embedding = case when $9 then $10::bytea else m.embedding end,
         code = case when $9 then $11::bit varying else m.code end,
         embedding_model = case when $9 then $12 else m.embedding_model end,
         xid = case when $9 then pg_current_xact_id() else m.xid end,
         updated_at = now()
       from old where m.id = old.id
       returning ${COLUMNS}, old.memory as old_memory
     ), h as (
       insert into memory.history (memory_id, user_id, agent_id, app_id, run_id, event, old_memory, new_memory, input, categories, event_id, actor)
       select m.id, m.user_id, m.agent_id, m.app_id, m.run_id, 'UPDATE', m.old_memory, m.memory, $13::jsonb, m.categories, $14, $15 from m
     )
     select * from m`,
    [
      id, ch.memory ?? null, ch.hash ?? null, ch.metadata === undefined ? null : JSON.stringify(ch.metadata),
      ch.expirationDate !== undefined, ch.expirationDate ?? null, ch.createdAt ?? null, cfg,
      text, ch.embedding ?? null, ch.code ?? null, ch.embeddingModel ?? null,
      audit.input === undefined ? null : JSON.stringify(audit.input), audit.eventId ?? null, audit.actor ?? null,
    ],
  );
  if (!rows[0]) return null;
  const { old_memory: _o, ...row } = rows[0] as MemoryRow & { old_memory: string };
  return row as MemoryRow;
}

/** Deletes the memories matching `where` and writes a DELETE history row for each; returns how many. */
export async function deleteWhere(tx: pg.PoolClient, where: string, p: SqlParams, audit: { eventId?: string | null; actor?: string | null } = {}): Promise<string[]> {
  const { rows } = await tx.query<{ id: string }>(
    `with m as (delete from memory.memories m where ${where} returning m.*),
     h as (
       insert into memory.history (memory_id, user_id, agent_id, app_id, run_id, event, old_memory, categories, is_deleted, event_id, actor)
       select m.id, m.user_id, m.agent_id, m.app_id, m.run_id, 'DELETE', m.memory, m.categories, true, ${p.add(audit.eventId ?? null)}::uuid, ${p.add(audit.actor ?? null)} from m
     ), done as (update memory.history set is_deleted = true where memory_id in (select id from m))
     select id from m`,
    p.values,
  );
  return rows.map((r) => r.id);
}

export interface HistoryRow {
  id: string;
  memory_id: string;
  user_id: string | null;
  agent_id: string | null;
  app_id: string | null;
  run_id: string | null;
  event: string;
  old_memory: string | null;
  new_memory: string | null;
  input: unknown;
  categories: string[];
  is_deleted: boolean;
  actor: string | null;
  created_at: Date;
  updated_at: Date;
}

export async function historyOf(tx: pg.PoolClient, memoryId: string): Promise<HistoryRow[]> {
  if (!UUID.test(memoryId)) return [];
  const { rows } = await tx.query<HistoryRow>(
    `select id, memory_id, user_id, agent_id, app_id, run_id, event, old_memory, new_memory, input, categories, is_deleted, actor, created_at, updated_at
     from memory.history where memory_id = $1 order by created_at, id`,
    [memoryId],
  );
  return rows;
}

/** hashes already stored in exactly this scope */
export async function existingHashes(tx: pg.PoolClient, scope: Scope, hashes: string[]): Promise<Set<string>> {
  if (hashes.length === 0) return new Set();
  const { rows } = await tx.query<{ hash: string }>(
    `select hash from memory.memories where hash = any($1::text[]) and user_id is not distinct from $2 and agent_id is not distinct from $3
       and app_id is not distinct from $4 and run_id is not distinct from $5`,
    [hashes, scope.user_id ?? null, scope.agent_id ?? null, scope.app_id ?? null, scope.run_id ?? null],
  );
  return new Set(rows.map((r) => r.hash));
}

export interface ScopeEntity {
  type: 'user' | 'agent' | 'app' | 'run';
  name: string;
  total_memories: number;
  created_at: Date;
  updated_at: Date;
}

/** the users, agents, apps and runs that hold memories (mem0's /v1/entities/) */
export async function scopeEntities(tx: pg.PoolClient, limit: number, offset: number): Promise<{ rows: ScopeEntity[]; count: number }> {
  const { rows } = await tx.query<ScopeEntity & { total: string }>(
    `with e as (
       select 'user' as type, user_id as name, count(*)::int as total_memories, min(created_at) as created_at, max(updated_at) as updated_at from memory.memories where user_id is not null group by user_id
       union all select 'agent', agent_id, count(*)::int, min(created_at), max(updated_at) from memory.memories where agent_id is not null group by agent_id
       union all select 'app', app_id, count(*)::int, min(created_at), max(updated_at) from memory.memories where app_id is not null group by app_id
       union all select 'run', run_id, count(*)::int, min(created_at), max(updated_at) from memory.memories where run_id is not null group by run_id
     )
     select *, count(*) over () as total from e order by type, name limit $1 offset $2`,
    [limit, offset],
  );
  return { rows: rows.map(({ total: _t, ...r }) => r as ScopeEntity), count: rows.length ? Number(rows[0].total) : 0 };
}
