// infer=true, run by the `memory-infer` worker: one extraction call, the similar memories per fact (ids mapped
// to small integers), one decision call, then every ADD/UPDATE/DELETE and the event's results in one
// transaction. The event row is locked and checked in that transaction, so a retried job applies nothing twice.
import type { Config } from '../config.js';
import type { ModelClient } from '../clients/models.js';
import { linkEntities, recountEntities } from '../db/entities.js';
import { finishEvent, getEvent } from '../db/events.js';
import { SqlParams } from '@basalt/db';
import { deleteWhere, existingHashes, insertMemories, updateMemory, type Scope } from '../db/memories.js';
import { memErrors } from '../errors.js';
import { asService, type Ctx } from './context.js';
import { md5, type Embedder } from './embedder.js';
import type { TextMessage } from './input.js';
import type { AddResult } from './memories.js';
import { decisionPrompt, extractionPrompt, parseModelJson } from './prompts.js';
import type { SearchDomain } from './search.js';

export interface InferPayload {
  scope: Scope;
  messages: TextMessage[];
  metadata: Record<string, unknown>;
  categories: string[];
  memory_type: string | null;
  expiration_date: string | null;
  timestamp: number | null;
  custom_instructions: string | null;
  actor: string;
}

interface Fact {
  text: string;
  entities: { name: string; type: string }[];
}

type Decision = { event: 'ADD'; text: string } | { event: 'UPDATE'; id: string; text: string } | { event: 'DELETE'; id: string };

const SIMILAR_PER_FACT = 5;
const MAX_FACTS = 50;

function readFacts(answer: unknown): Fact[] | null {
  const facts = (answer as { facts?: unknown })?.facts;
  if (!Array.isArray(facts)) return null;
  const out: Fact[] = [];
  for (const f of facts.slice(0, MAX_FACTS)) {
    const text = typeof f === 'string' ? f : typeof f?.text === 'string' ? f.text : null;
    if (!text?.trim()) continue;
    const entities = Array.isArray(f?.entities)
      ? f.entities.filter((e: any) => typeof e?.name === 'string' && e.name.trim()).map((e: any) => ({ name: e.name.trim(), type: typeof e.type === 'string' ? e.type : 'other' }))
      : [];
    out.push({ text: text.trim(), entities });
  }
  return out;
}

/** the model's decisions, keeping only events on ids it was shown; hallucinated ids and bad entries are dropped */
function readDecisions(answer: unknown, idOf: Map<string, string>, max: number): Decision[] | null {
  const list = (answer as { memory?: unknown })?.memory;
  if (!Array.isArray(list)) return null;
  const out: Decision[] = [];
  const touched = new Set<string>();
  for (const d of list) {
    const event = typeof d?.event === 'string' ? d.event.toUpperCase() : '';
    const text = typeof d?.text === 'string' ? d.text.trim() : '';
    const id = idOf.get(String(d?.id));
    if (event === 'ADD' && text && text.length <= max) out.push({ event, text });
    else if ((event === 'UPDATE' || event === 'DELETE') && id && !touched.has(id)) {
      touched.add(id);
      if (event === 'DELETE') out.push({ event, id });
      else if (text && text.length <= max) out.push({ event, id, text });
    }
  }
  return out;
}

export function inferDomain(config: Config, models: ModelClient, embedder: Embedder, search: SearchDomain) {
  async function similar(ctx: Ctx, scope: Scope, facts: Fact[]): Promise<{ id: string; text: string }[]> {
    const filters = { AND: Object.entries(scope).map(([k, v]) => ({ [k]: v })) };
    const found = new Map<string, string>();
    for (const f of facts) {
      for (const m of await search.search(ctx, { query: f.text, filters, top_k: SIMILAR_PER_FACT })) found.set(m.id, m.memory);
    }
    return [...found.entries()].map(([id, text]) => ({ id, text }));
  }

  async function apply(ctx: Ctx, eventId: string, p: InferPayload, decisions: Decision[], facts: Fact[]): Promise<AddResult[]> {
    const texts = decisions.flatMap((d) => (d.event === 'DELETE' ? [] : [d.text]));
    const embedded = await embedder.embed(ctx, texts);
    const vectorOf = new Map(texts.map((t, i) => [t, embedded?.[i]]));
    const entities = facts.flatMap((f) => f.entities);
    const mentioned = (text: string) => entities.filter((e) => text.toLowerCase().includes(e.name.toLowerCase()));
    const cfg = ctx.settings.textSearchConfig;
    return asService(ctx, async (tx) => {
      const event = await getEvent(tx, eventId, true);
      if (!event || event.status === 'SUCCEEDED' || event.status === 'FAILED') return (event?.results as AddResult[]) ?? [];
      const results: AddResult[] = [];
      const links: { memoryId: string; name: string; type: string }[] = [];
      const adds = decisions.filter((d): d is Decision & { event: 'ADD' } => d.event === 'ADD');
      const stored = await existingHashes(tx, p.scope, adds.map((d) => md5(d.text)));
      const fresh = [...new Map(adds.filter((d) => !stored.has(md5(d.text))).map((d) => [md5(d.text), d])).values()];
      const inserted = await insertMemories(tx, fresh.map((d) => ({ memory: d.text, hash: md5(d.text), embedding: vectorOf.get(d.text)?.bytes ?? null, code: vectorOf.get(d.text)?.code ?? null })), {
        scope: p.scope, metadata: p.metadata, categories: p.categories, memoryType: p.memory_type, expirationDate: p.expiration_date,
        createdAt: p.timestamp ? new Date(p.timestamp * 1000).toISOString() : null, textSearchConfig: cfg,
        embeddingModel: ctx.settings.embeddingModel, input: p.messages, eventId, actor: p.actor,
      });
      for (const r of inserted) {
        results.push({ id: r.id, memory: r.memory, event: 'ADD' });
        for (const e of mentioned(r.memory)) links.push({ memoryId: r.id, ...e });
      }
      for (const d of decisions) {
        if (d.event === 'UPDATE') {
          const v = vectorOf.get(d.text);
          const row = await updateMemory(tx, d.id, { memory: d.text, hash: md5(d.text), embedding: v?.bytes ?? null, code: v?.code ?? null, embeddingModel: v ? ctx.settings.embeddingModel : null },
            cfg, { input: p.messages, eventId, actor: p.actor });
          if (row) {
            results.push({ id: row.id, memory: row.memory, event: 'UPDATE' });
            for (const e of mentioned(row.memory)) links.push({ memoryId: row.id, ...e });
          }
        } else if (d.event === 'DELETE') {
          const q = new SqlParams();
          const gone = await deleteWhere(tx, `m.id = ${q.add(d.id)}`, q, { eventId, actor: p.actor });
          if (gone.length) results.push({ id: d.id, memory: '', event: 'DELETE' });
        }
      }
      await linkEntities(tx, p.scope.user_id ?? null, links, config.MEMORY_ENTITY_LINK_CAP);
      if (results.some((r) => r.event === 'DELETE')) await recountEntities(tx);
      await finishEvent(tx, eventId, 'SUCCEEDED', results, null);
      return results;
    });
  }

  async function fail(ctx: Ctx, eventId: string, message: string): Promise<void> {
    await asService(ctx, async (tx) => {
      const event = await getEvent(tx, eventId, true);
      if (event && event.status !== 'SUCCEEDED') await finishEvent(tx, eventId, 'FAILED', null, message);
    });
  }

  return {
    /**
     * Runs one inference event. A model answer that is not the JSON asked for fails the event with nothing
     * applied; a failed model call is rethrown for the queue to retry, and fails the event on the last attempt.
     */
    async process(ctx: Ctx, eventId: string, lastAttempt: boolean): Promise<void> {
      const event = await asService(ctx, (tx) => getEvent(tx, eventId));
      if (!event || event.status === 'SUCCEEDED' || event.status === 'FAILED') return;
      const p = event.payload as InferPayload;
      const llm = ctx.settings.llmModel;
      if (!llm) return fail(ctx, eventId, memErrors.noLlm().message);
      try {
        const today = new Date().toISOString().slice(0, 10);
        const extracted = readFacts(parseModelJson(await models.chat(ctx.caller.project, llm, extractionPrompt(p.messages, today, p.custom_instructions))));
        if (!extracted) return fail(ctx, eventId, memErrors.modelOutput('fact extraction is not {"facts": [...]} JSON').message);
        if (extracted.length === 0) return void (await apply(ctx, eventId, p, [], []));
        const existing = await similar(ctx, p.scope, extracted);
        const idOf = new Map(existing.map((m, i) => [String(i), m.id]));
        const shown = existing.map((m, i) => ({ id: String(i), text: m.text }));
        const answer = parseModelJson(await models.chat(ctx.caller.project, llm, decisionPrompt(shown, extracted.map((f) => f.text))));
        const decisions = readDecisions(answer, idOf, config.MEMORY_MAX_CONTENT_CHARS);
        if (!decisions) return fail(ctx, eventId, memErrors.modelOutput('the memory decisions are not {"memory": [...]} JSON').message);
        await apply(ctx, eventId, p, decisions, extracted);
      } catch (e) {
        if (lastAttempt) await fail(ctx, eventId, (e as Error).message);
        throw e;
      }
    },
  };
}

export type InferDomain = ReturnType<typeof inferDomain>;
