// Storing and managing memories: add without inference (messages kept verbatim), get, list, update (re-embeds),
// delete one, by scope or in batches, history and the scope entities. Every write is one transaction.
import type { Config } from '../config.js';
import { SqlParams } from '@basalt/db';
import { compileFilters } from '../db/filters.js';
import { recountEntities } from '../db/entities.js';
import {
  deleteWhere, getMemory, historyOf, insertMemoriesOneTrip, listMemories, scopeEntities, SCOPES, updateMemory,
  UUID, type Inserted, type InsertRequest, type MemoryRow, type NewMemory, type Scope, type WriteContext,
} from '../db/memories.js';
import { memErrors } from '../errors.js';
import { coalescer, type CoalesceLimits } from './coalesce.js';
import { actorOf, asUser, mapPgError, userSettings, type Ctx } from './context.js';
import { md5, type Embedder } from './embedder.js';
import { checkLength, textMessages, writeScope, type AddBody, type ListBody, type UpdateBody } from './input.js';
import { presentEntity, presentHistory, presentMemory } from './present.js';
import { assertMemoryRoom } from './memory-quota.js';

export interface AddResult {
  id: string;
  memory: string;
  event: 'ADD' | 'UPDATE' | 'DELETE';
  previous_memory?: string;
}

/** conditions every read and scoped write carries: a user's own rows, unexpired unless asked */
export function baseConditions(ctx: Ctx, p: SqlParams, showExpired = false): string[] {
  const parts: string[] = [];
  if (ctx.caller.kind === 'user') parts.push(`m.user_id = ${p.add(ctx.caller.userId)}`);
  if (!showExpired) parts.push('(m.expiration_date is null or m.expiration_date >= current_date)');
  return parts;
}

/** filters from a body or query: the filter tree plus mem0's top-level ids, dates and categories */
export function listConditions(ctx: Ctx, p: SqlParams, b: ListBody): string {
  const parts = baseConditions(ctx, p, b.show_expired);
  parts.push(compileFilters(b.filters, p, ctx.settings.textSearchConfig));
  for (const f of SCOPES) if (typeof b[f] === 'string' && b[f]) parts.push(`m.${f} = ${p.add(b[f])}`);
  const date = (s: string, what: string) => {
    if (Number.isNaN(new Date(s).getTime())) throw memErrors.validation(`${what} is not a date`);
    return new Date(s).toISOString();
  };
  if (b.start_date) parts.push(`m.created_at >= ${p.add(date(b.start_date, 'start_date'))}::timestamptz`);
  if (b.end_date) parts.push(`m.created_at <= ${p.add(date(b.end_date, 'end_date'))}::timestamptz`);
  if (b.categories?.length) parts.push(`m.categories && ${p.add(b.categories)}::text[]`);
  return parts.join(' and ');
}

/** inserts in flight per caller, and what one insert statement may carry */
export const INSERT_BATCH: CoalesceLimits = { parallel: 2, maxItems: 256, maxWeight: 4_000_000 };

interface PendingInsert extends InsertRequest {
  ctx: Ctx;
  resolve: (rows: Inserted[]) => void;
  reject: (e: unknown) => void;
}

/** about the bytes a row adds to the statement: the text, the embedding as base64 and its code */
const rowWeight = (r: NewMemory) => r.memory.length + (r.embedding ? Math.ceil(r.embedding.length / 3) * 4 : 0) + (r.code?.length ?? 0);

export function memoriesDomain(config: Config, embedder: Embedder, limits: CoalesceLimits = INSERT_BATCH) {
  const max = config.MEMORY_MAX_CONTENT_CHARS;
  const when = (ts: number | null | undefined) => (typeof ts === 'number' ? new Date(ts * 1000).toISOString() : null);

  // Concurrent infer=false adds of one caller (same project, same role and claims, so the same RLS) are written
  // together: one statement, one transaction, one round trip for the batch (see coalesce.ts). Should the batch fail,
  // each request is tried alone, so a request meets only its own error.
  const writes = coalescer<PendingInsert>(limits, (p) => ({ items: p.rows.length, weight: p.rows.reduce((n, r) => n + rowWeight(r), 0) }), async (_key, batch) => {
    const { ctx } = batch[0];
    try {
      const out = await insertMemoriesOneTrip(ctx.pool, userSettings(ctx), batch, mapPgError);
      batch.forEach((p, i) => p.resolve(out[i]));
    } catch (e) {
      if (batch.length === 1) return batch[0].reject(e);
      await Promise.all(batch.map(async (p) => {
        try {
          p.resolve((await insertMemoriesOneTrip(p.ctx.pool, userSettings(p.ctx), [p], mapPgError))[0]);
        } catch (err) {
          p.reject(err);
        }
      }));
    }
  });
  const insert = (ctx: Ctx, rows: NewMemory[], c: WriteContext) => new Promise<Inserted[]>((resolve, reject) =>
    writes.push(`${ctx.caller.project.ref}\n${JSON.stringify(userSettings(ctx))}`, { ctx, rows, c, resolve, reject }));

  return {
    /** infer=false: each message (but system prompts) becomes a memory; exact duplicates in the scope are skipped */
    async addVerbatim(ctx: Ctx, body: AddBody): Promise<AddResult[]> {
      const scope = writeScope(ctx, body);
      const messages = textMessages(body.messages).filter((m) => m.role !== 'system');
      if (messages.length === 0) throw memErrors.emptyMessages();
      for (const m of messages) checkLength(m.content, max);
      const unique = [...new Map(messages.map((m) => [md5(m.content), m.content])).entries()];
      await assertMemoryRoom(ctx, unique.length);
      const e = await embedder.embedDeferred(ctx, unique.map(([, text]) => text));
      // a service caller's transaction may write the cache itself; a user's (RLS) leaves it to a service write
      const inline = ctx.caller.kind !== 'user';
      // one round trip: begin as the caller, the insert (memories, history and cache), commit; shared under load
      const rows = await insert(ctx, unique.map(([hash, memory], i) => ({
        memory, hash, embedding: e?.embedded[i].bytes ?? null, code: e?.embedded[i].code ?? null,
      })), {
        scope, metadata: body.metadata ?? {}, categories: body.categories ?? [], memoryType: body.memory_type ?? null,
        expirationDate: body.expiration_date ?? null, createdAt: when(body.timestamp), textSearchConfig: ctx.settings.textSearchConfig,
        embeddingModel: ctx.settings.embeddingModel, input: messages, eventId: null, actor: actorOf(ctx),
        cache: e && inline ? { model: e.model, hashes: e.fresh.map((f) => f.hash) } : undefined,
      });
      if (e && !inline) await embedder.store(ctx, e.model, e.fresh);
      return rows.map((r) => ({ id: r.id, memory: r.memory, event: 'ADD' as const }));
    },

    async get(ctx: Ctx, id: string) {
      const row = await asUser(ctx, (tx) => getMemory(tx, id));
      if (!row) throw memErrors.memoryNotFound(id);
      return presentMemory(row);
    },

    async list(ctx: Ctx, body: ListBody, pageNo: number, pageSize: number): Promise<{ rows: ReturnType<typeof presentMemory>[]; count: number }> {
      const p = new SqlParams();
      const where = listConditions(ctx, p, body);
      const { rows, count } = await asUser(ctx, (tx) => listMemories(tx, where, p, pageSize, (pageNo - 1) * pageSize));
      return { rows: rows.map((r) => presentMemory(r)), count };
    },

    async update(ctx: Ctx, id: string, body: UpdateBody) {
      const text = body.text ?? body.memory;
      if (text === undefined && body.metadata === undefined && body.timestamp === undefined && body.expiration_date === undefined) {
        throw memErrors.validation('Send at least one of text, metadata, timestamp or expiration_date');
      }
      if (text !== undefined) {
        if (!text.trim()) throw memErrors.validation('text must not be empty');
        checkLength(text, max);
      }
      if (!UUID.test(id)) throw memErrors.memoryNotFound(id);
      const e = text !== undefined ? (await embedder.embed(ctx, [text.trim()]))?.[0] : undefined;
      const row = await asUser(ctx, (tx) => updateMemory(tx, id, {
        memory: text?.trim(), hash: text !== undefined ? md5(text.trim()) : undefined, metadata: body.metadata ?? undefined,
        expirationDate: body.expiration_date, createdAt: when(body.timestamp),
        ...(text !== undefined ? { embedding: e?.bytes ?? null, code: e?.code ?? null, embeddingModel: e ? ctx.settings.embeddingModel : null } : {}),
      }, ctx.settings.textSearchConfig, { actor: actorOf(ctx) }));
      if (!row) throw memErrors.memoryNotFound(id);
      return presentMemory(row);
    },

    async remove(ctx: Ctx, id: string) {
      if (!UUID.test(id)) throw memErrors.memoryNotFound(id);
      const p = new SqlParams();
      const where = [...baseConditions(ctx, p, true), `m.id = ${p.add(id)}`].join(' and ');
      const gone = await asUser(ctx, async (tx) => {
        const ids = await deleteWhere(tx, where, p, { actor: actorOf(ctx) });
        if (ids.length) await recountEntities(tx);
        return ids;
      });
      if (!gone.length) throw memErrors.memoryNotFound(id);
      return { message: 'Memory deleted successfully!' };
    },

    /** mem0's deleteAll: every memory of the given scope (at least one id; a reset is a separate, confirmed call) */
    async removeScope(ctx: Ctx, scope: Scope) {
      const p = new SqlParams();
      const parts = baseConditions(ctx, p, true);
      let any = false;
      for (const f of SCOPES) {
        if (scope[f] === undefined) continue;
        any = true;
        parts.push(scope[f] === '*' ? `m.${f} is not null` : `m.${f} = ${p.add(scope[f])}`);
      }
      if (!any) throw memErrors.noScope();
      const ids = await asUser(ctx, async (tx) => {
        const gone = await deleteWhere(tx, parts.join(' and '), p, { actor: actorOf(ctx) });
        if (gone.length) await recountEntities(tx);
        return gone;
      });
      return { message: 'Memories deleted successfully!', deleted: ids.length };
    },

    async history(ctx: Ctx, id: string) {
      const rows = await asUser(ctx, (tx) => historyOf(tx, id));
      if (!rows.length) throw memErrors.memoryNotFound(id);
      return rows.map(presentHistory);
    },

    async entities(ctx: Ctx, pageNo: number, pageSize: number) {
      const { rows, count } = await asUser(ctx, (tx) => scopeEntities(tx, pageSize, (pageNo - 1) * pageSize));
      return { rows: rows.map(presentEntity), count };
    },

    async removeEntity(ctx: Ctx, type: string, name: string) {
      if (!['user', 'agent', 'app', 'run'].includes(type)) throw memErrors.validation(`Unknown entity type "${type}" (use user, agent, app or run)`);
      if (ctx.caller.kind === 'user' && (type !== 'user' || name !== ctx.caller.userId)) throw memErrors.otherUser();
      await this.removeScope(ctx, { [`${type}_id`]: name } as Scope);
      return { message: 'Entity deleted successfully!' };
    },

    /** all or nothing: an unknown id rolls the whole batch back */
    async batchUpdate(ctx: Ctx, items: { memory_id: string; text: string }[]) {
      for (const it of items) {
        if (!it.text.trim()) throw memErrors.validation(`text for ${it.memory_id} must not be empty`);
        checkLength(it.text, max);
        if (!UUID.test(it.memory_id)) throw memErrors.memoryNotFound(it.memory_id);
      }
      const embedded = await embedder.embed(ctx, items.map((it) => it.text.trim()));
      await asUser(ctx, async (tx) => {
        for (const [i, it] of items.entries()) {
          const e = embedded?.[i];
          const row: MemoryRow | null = await updateMemory(tx, it.memory_id, {
            memory: it.text.trim(), hash: md5(it.text.trim()), embedding: e?.bytes ?? null, code: e?.code ?? null, embeddingModel: e ? ctx.settings.embeddingModel : null,
          }, ctx.settings.textSearchConfig, { actor: actorOf(ctx) });
          if (!row) throw memErrors.memoryNotFound(it.memory_id);
        }
      });
      return { message: `Successfully updated ${items.length} memories` };
    },

    async batchDelete(ctx: Ctx, ids: string[]) {
      for (const id of ids) if (!UUID.test(id)) throw memErrors.memoryNotFound(id);
      const unique = [...new Set(ids)];
      const p = new SqlParams();
      const where = [...baseConditions(ctx, p, true), `m.id = any(${p.add(unique)}::uuid[])`].join(' and ');
      await asUser(ctx, async (tx) => {
        const gone = new Set(await deleteWhere(tx, where, p, { actor: actorOf(ctx) }));
        const missing = unique.find((id) => !gone.has(id));
        if (missing) throw memErrors.memoryNotFound(missing);
        await recountEntities(tx);
      });
      return { message: `Successfully deleted ${unique.length} memories` };
    },
  };
}

export type MemoriesDomain = ReturnType<typeof memoriesDomain>;
