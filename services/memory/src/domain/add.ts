// POST add: infer=false stores the messages at once; infer=true records an event and queues it on
// `memory-infer` (async by default: PENDING with the event id; async_mode=false waits for the worker).
// An input already inferred in the same scope is answered from that event, with no model call.
import type { Config } from '../config.js';
import { createEvent, getEvent, listEvents, succeededWithInput, type EventRow } from '../db/events.js';
import { memErrors } from '../errors.js';
import { actorOf, asService, asUser, type Ctx } from './context.js';
import { md5 } from './embedder.js';
import type { InferPayload } from './infer.js';
import { checkLength, textMessages, writeScope, type AddBody } from './input.js';
import { assertMemoryRoom } from './memory-quota.js';
import type { MemoriesDomain } from './memories.js';

export interface InferQueue {
  enqueue: (ref: string, eventId: string) => Promise<void>;
}

const presentEvent = (e: EventRow) => ({
  id: e.id, event_type: 'ADD', status: e.status, results: e.results ?? [], error: e.error,
  created_at: e.created_at.toISOString(), updated_at: e.updated_at.toISOString(),
});

export function addDomain(config: Config, memories: MemoriesDomain, queue: InferQueue) {
  async function waitFor(ctx: Ctx, id: string): Promise<EventRow | null> {
    const deadline = Date.now() + config.MEMORY_SYNC_WAIT_MS;
    for (let step = 20; Date.now() < deadline; step = Math.min(step * 2, 250)) {
      const e = await asService(ctx, (tx) => getEvent(tx, id));
      if (!e || e.status === 'SUCCEEDED' || e.status === 'FAILED') return e;
      await new Promise((r) => setTimeout(r, step));
    }
    return null;
  }

  return {
    async add(ctx: Ctx, body: AddBody): Promise<unknown[]> {
      if (!body.infer) return memories.addVerbatim(ctx, body);
      const scope = writeScope(ctx, body);
      const messages = textMessages(body.messages);
      for (const m of messages) checkLength(m.content, config.MEMORY_MAX_CONTENT_CHARS * 5);
      // checked before anything is written or queued: no upstream call is wasted on a project without a model
      if (!ctx.settings.llmModel) throw memErrors.noLlm();
      await assertMemoryRoom(ctx, 1); // inference adds at least one memory; none is left to add
      const payload: InferPayload = {
        scope, messages, metadata: body.metadata ?? {}, categories: body.categories ?? [], memory_type: body.memory_type ?? null,
        expiration_date: body.expiration_date ?? null, timestamp: body.timestamp ?? null,
        custom_instructions: body.custom_instructions ?? null, actor: actorOf(ctx),
      };
      const inputHash = md5(JSON.stringify([scope.user_id, scope.agent_id, scope.app_id, scope.run_id, messages, body.custom_instructions ?? null]));
      const event = await asUser(ctx, async (tx) => (await succeededWithInput(tx, inputHash)) ? null : createEvent(tx, scope.user_id ?? null, inputHash, payload));
      if (!event) return []; // the same conversation was already inferred in this scope
      await queue.enqueue(ctx.caller.project.ref, event.id);
      const pending = [{ message: 'Memory processing has been queued for background execution', status: 'PENDING', event_id: event.id }];
      if (body.async_mode) return pending;
      const done = await waitFor(ctx, event.id);
      if (!done) return pending;
      if (done.status === 'FAILED') throw memErrors.modelOutput(done.error ?? 'inference failed');
      return done.results ?? [];
    },

    async event(ctx: Ctx, id: string) {
      const e = await asUser(ctx, (tx) => getEvent(tx, id));
      if (!e) throw memErrors.eventNotFound(id);
      return presentEvent(e);
    },

    async events(ctx: Ctx, pageNo: number, pageSize: number) {
      const rows = await asUser(ctx, (tx) => listEvents(tx, pageSize, (pageNo - 1) * pageSize));
      return { results: rows.map(presentEvent) };
    },
  };
}

export type AddDomain = ReturnType<typeof addDomain>;
