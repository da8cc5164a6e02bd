// All SQL of memory.memories and its audit history. Statements run inside the caller's transaction (asCaller),
// so RLS keeps a signed-in user to their own rows whatever the service asks for.
import type pg from 'pg';
import { oneTripMany, type CallerSettings, type SqlParams } from '@basalt/db';

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
  /** the rows' embeddings to add to the cache in the same statement, by hash (only for service-role transactions) */
  cache?: { model: string; hashes: string[] };
}

export const COLUMNS = `m.id, m.user_id, m.agent_id, m.app_id, m.run_id, m.memory, m.hash, m.metadata, m.categories, m.memory_type,
  m.created_at, m.updated_at, to_char(m.expiration_date, 'YYYY-MM-DD') as expiration_date`;

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** one request's memories to insert, with what they share */
export interface InsertRequest {
  rows: NewMemory[];
  c: WriteContext;
}

/**
 * The insert of memories and their ADD history (and, for service callers, their embeddings into the cache) as one
 * statement, for one request or several. A text already stored in exactly its scope is skipped, and so is a text
 * an earlier request of the same statement adds to the same scope (as if the requests had run one after another).
 */
function insertStatement(requests: InsertRequest[]): { text: string; values: unknown[] } {
  const rows = requests.flatMap((r, k) => r.rows.map((row) => ({ row, k, cache: r.c.cache?.hashes.includes(row.hash) ?? false })));
  const caching = requests.some((r) => r.c.cache);
  const text = `with req as (
       select * from unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[], $8::text[], $9::date[],
         $10::timestamptz[], $11::text[], $12::text[], $13::jsonb[], $14::uuid[], $15::text[], $16::text[])
         as q(k, user_id, agent_id, app_id, run_id, metadata, categories, memory_type, expiration_date, created_at, cfg, embedding_model,
           input, event_id, actor, cache_model)
     ), input as (
       select coalesce(t.id, gen_random_uuid()) as id, t.ord, t.k, t.memory, t.hash, t.embedding, t.code::bit varying as code, t.cache
       from unnest($17::uuid[], $18::int[], $19::text[], $20::text[], $21::bytea[], $22::text[], $23::bool[]) with ordinality
         as t(id, k, memory, hash, embedding, code, cache, ord)
     ), new as (
       select distinct on (i.hash, q.user_id, q.agent_id, q.app_id, q.run_id) i.id, i.ord, i.k, i.memory, i.hash, i.embedding, i.code
       from input i join req q on q.k = i.k
       where not exists (select 1 from memory.memories x where x.hash = i.hash and x.user_id is not distinct from q.user_id
         and x.agent_id is not distinct from q.agent_id and x.app_id is not distinct from q.app_id and x.run_id is not distinct from q.run_id)
       order by i.hash, q.user_id, q.agent_id, q.app_id, q.run_id, i.ord
     ),${caching ? ` cache as (
       insert into memory.embedding_cache (model, hash, embedding)
       select distinct on (q.cache_model, i.hash) q.cache_model, i.hash, i.embedding from input i join req q on q.k = i.k
       where i.cache and q.cache_model is not null and i.embedding is not null order by q.cache_model, i.hash
       on conflict do nothing
     ),` : ''} m as (
       insert into memory.memories as m (id, user_id, agent_id, app_id, run_id, memory, hash, metadata, categories, memory_type,
         expiration_date, created_at, updated_at, tsv, embedding_model, embedding, code)
       select n.id, q.user_id, q.agent_id, q.app_id, q.run_id, n.memory, n.hash, q.metadata,
         array(select jsonb_array_elements_text(q.categories)), q.memory_type, q.expiration_date,
         coalesce(q.created_at, now()), coalesce(q.created_at, now()), to_tsvector(q.cfg::regconfig, n.memory),
         case when n.embedding is null then null else q.embedding_model end, n.embedding, n.code
       from new n join req q on q.k = n.k
       order by n.ord
       returning m.id, m.user_id, m.agent_id, m.app_id, m.run_id, m.memory, m.categories
     ), h as (
       insert into memory.history (memory_id, user_id, agent_id, app_id, run_id, event, new_memory, input, categories, event_id, actor)
       select m.id, m.user_id, m.agent_id, m.app_id, m.run_id, 'ADD', m.memory, q.input, m.categories, q.event_id, q.actor
       from m join new n on n.id = m.id join req q on q.k = n.k
     )
     select n.k, m.id, m.memory from m join new n on n.id = m.id order by n.ord`;
  const per = <T>(f: (c: WriteContext) => T) => requests.map((r) => f(r.c));
  const values = [
    requests.map((_, k) => k), per((c) => c.scope.user_id ?? null), per((c) => c.scope.agent_id ?? null), per((c) => c.scope.app_id ?? null),
    per((c) => c.scope.run_id ?? null), per((c) => JSON.stringify(c.metadata)), per((c) => JSON.stringify(c.categories)), per((c) => c.memoryType),
    per((c) => c.expirationDate), per((c) => c.createdAt), per((c) => c.textSearchConfig), per((c) => c.embeddingModel),
    per((c) => (c.input === undefined ? null : JSON.stringify(c.input))), per((c) => c.eventId), per((c) => c.actor), per((c) => c.cache?.model ?? null),
    rows.map((r) => r.row.id ?? null), rows.map((r) => r.k), rows.map((r) => r.row.memory), rows.map((r) => r.row.hash),
    rows.map((r) => r.row.embedding), rows.map((r) => r.row.code), rows.map((r) => r.cache),
  ];
  return { text, values };
}

/**
 * Locks each text in its scope to the end of the transaction, in one order (no deadlock between two requests), so
 * that two transactions adding the same text to the same scope at once run their insert one after the other: the
 * second one's statement starts after the first committed and finds the text stored. Without it both find it
 * missing and both add it.
 */
function lockStatement(requests: InsertRequest[]): { text: string; values: unknown[] } {
  const keys = requests.flatMap((r) => {
    const sc = r.c.scope;
    return r.rows.map((row) => [sc.user_id, sc.agent_id, sc.app_id, sc.run_id, row.hash].map((x) => x ?? '').join('\u0001'));
  });
  return {
    text: `select count(pg_advisory_xact_lock(hashtextextended(k, 7315103))) from (select distinct unnest($1::text[]) as k order by 1) s`,
    values: [keys],
  };
}

/** what an insert answers: the stored memories (a text already in the scope is not among them), in input order */
export interface Inserted {
  id: string;
  memory: string;
}

/** Inserts memories and their ADD history in one statement of the open transaction. */
export async function insertMemories(tx: pg.PoolClient, rows: NewMemory[], c: WriteContext): Promise<Inserted[]> {
  if (rows.length === 0) return [];
  const lock = lockStatement([{ rows, c }]);
  await tx.query(lock.text, lock.values);
  const { text, values } = insertStatement([{ rows, c }]);
  const { rows: out } = await tx.query<Inserted & { k: number }>(text, values);
  return out.map(({ id, memory }) => ({ id, memory }));
}

/**
 * The inserts of several requests (of one caller) as one transaction in one round trip: what each request stored,
 * in request order. Either all are stored or none (the caller may then try them one by one).
 */
export async function insertMemoriesOneTrip(pool: pg.Pool, s: CallerSettings, requests: InsertRequest[], mapError?: (e: unknown) => unknown): Promise<Inserted[][]> {
  const out: Inserted[][] = requests.map(() => []);
  if (requests.every((r) => r.rows.length === 0)) return out;
  const [, inserted] = await oneTripMany(pool, s, [lockStatement(requests), insertStatement(requests)], mapError);
  for (const r of inserted as (Inserted & { k: number })[]) out[r.k].push({ id: r.id, memory: r.memory });
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

/**
 * Every memory of the project, whoever's: what the plan's memory_count bounds (run as the service). The sum of the
 * count's deltas (tenant migration 0017, which keeps them few), exactly count(*) in the same snapshot.
 */
export async function countAllMemories(tx: pg.PoolClient): Promise<number> {
  const { rows } = await tx.query<{ n: string }>({ name: 'memory_count_all', text: 'select coalesce(sum(delta), 0)::text as n from memory.count_deltas' });
  return Number(rows[0]!.n);
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
