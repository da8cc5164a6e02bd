// Request bodies of the mem0 API (snake_case, as MemoryClient sends them) and the checks every write shares.
import { z } from 'zod';
import { memErrors } from '../errors.js';
import { SCOPES, type Scope } from '../db/memories.js';
import type { Ctx } from './context.js';

const Content = z.union([
  z.string(),
  z.object({ type: z.string(), text: z.string().optional(), image_url: z.unknown().optional() }).passthrough(),
  z.array(z.object({ type: z.string(), text: z.string().optional() }).passthrough()),
]);
export const Message = z.object({ role: z.string().max(64), content: Content.nullable(), name: z.string().optional() }).passthrough();
const Id = z.string().min(1).max(256).nullable().optional();
const DateString = z.string().regex(/^\d{4}-\d{2}-\d{2}/, 'a date YYYY-MM-DD');
// unix seconds a JavaScript date can hold (±8.64e15 ms): beyond them storing the memory threw, a 500 (and with
// infer=true only after the model calls, on every attempt of the job)
const MAX_UNIX_SECONDS = 8.64e12;
const Timestamp = z.number().int().min(-MAX_UNIX_SECONDS).max(MAX_UNIX_SECONDS).nullable().optional();

export const AddBody = z.object({
  messages: z.union([z.string(), z.array(Message)]),
  user_id: Id, agent_id: Id, app_id: Id, run_id: Id,
  metadata: z.record(z.unknown()).nullable().optional(),
  infer: z.boolean().default(true),
  async_mode: z.boolean().default(true),
  custom_categories: z.unknown().optional(),
  custom_instructions: z.string().max(10_000).nullable().optional(),
  categories: z.array(z.string().max(100)).max(50).optional(),
  memory_type: z.string().max(64).nullable().optional(),
  timestamp: Timestamp,
  expiration_date: DateString.nullable().optional(),
  output_format: z.string().nullable().optional(),
}).passthrough();
export type AddBody = z.infer<typeof AddBody>;

export const UpdateBody = z.object({
  text: z.string().optional(),
  memory: z.string().optional(),
  metadata: z.record(z.unknown()).nullable().optional(),
  timestamp: Timestamp,
  expiration_date: DateString.nullable().optional(),
}).passthrough();
export type UpdateBody = z.infer<typeof UpdateBody>;

export const ListBody = z.object({
  filters: z.unknown().optional(),
  start_date: z.string().optional(),
  end_date: z.string().optional(),
  categories: z.array(z.string()).optional(),
  show_expired: z.boolean().optional(),
  user_id: Id, agent_id: Id, app_id: Id, run_id: Id,
}).passthrough();
export type ListBody = z.infer<typeof ListBody>;

export const SearchBody = ListBody.extend({
  query: z.string().max(10_000),
  top_k: z.number().int().min(1).max(1000).optional(),
  limit: z.number().int().min(1).max(1000).optional(),
  threshold: z.number().min(0).max(1).nullable().optional(),
  rerank: z.boolean().optional(),
  keyword_search: z.boolean().optional(),
});
export type SearchBody = z.infer<typeof SearchBody>;

export const BatchUpdateBody = z.object({ memories: z.array(z.object({ memory_id: z.string(), text: z.string() })).min(1).max(1000) });
export const BatchDeleteBody = z.object({ memories: z.array(z.object({ memory_id: z.string() })).min(1).max(1000) });

export interface TextMessage {
  role: string;
  content: string;
}

/** the text of each message (image parts carry no text and are left out); empty input is a 400 */
export function textMessages(messages: AddBody['messages']): TextMessage[] {
  const list = typeof messages === 'string' ? [{ role: 'user', content: messages }] : messages;
  const out: TextMessage[] = [];
  for (const m of list) {
    const c = m.content;
    const text = typeof c === 'string' ? c : Array.isArray(c) ? c.map((p) => p.text ?? '').join('') : c && typeof c.text === 'string' ? c.text : '';
    if (text.trim()) out.push({ role: m.role, content: text.trim() });
  }
  if (out.length === 0) throw memErrors.emptyMessages();
  return out;
}

export function checkLength(text: string, max: number): void {
  if (text.length > max) throw memErrors.tooLong(max);
}

/** the scope of a write; a signed-in user writes only as themselves */
export function writeScope(ctx: Ctx, given: { user_id?: string | null; agent_id?: string | null; app_id?: string | null; run_id?: string | null }): Scope {
  const scope: Scope = {};
  for (const f of SCOPES) if (typeof given[f] === 'string' && given[f]) scope[f] = given[f]!;
  if (ctx.caller.kind === 'user') {
    if (scope.user_id !== undefined && scope.user_id !== ctx.caller.userId) throw memErrors.otherUser();
    scope.user_id = ctx.caller.userId!;
  }
  if (!SCOPES.some((f) => scope[f] !== undefined)) throw memErrors.noScope();
  return scope;
}
