// Memory, in mem0's vocabulary (the service speaks mem0's REST API): add facts from messages, search them by
// meaning, list, read, update, delete, and each memory's history. Scope with user_id / agent_id / app_id / run_id;
// a signed-in user's token reaches only that user's memories.
import { call, type Http } from './http.js';

export interface Message {
  role: 'user' | 'assistant' | 'system';
  content: string;
}

export interface Scope {
  user_id?: string;
  agent_id?: string;
  app_id?: string;
  run_id?: string;
}

export interface Memory {
  id: string;
  memory: string;
  user_id?: string | null;
  agent_id?: string | null;
  metadata?: Record<string, unknown> | null;
  categories?: string[] | null;
  created_at?: string;
  updated_at?: string;
  score?: number;
}

export interface AddOptions extends Scope {
  metadata?: Record<string, unknown>;
  /** false stores the messages as they are; true (the default) extracts facts with the project's model */
  infer?: boolean;
  /** false waits for inference to finish; true answers at once with a pending event */
  async_mode?: boolean;
}

export interface SearchOptions {
  /** mem0's filter tree: {user_id: 'u1'} or {AND: [{user_id: 'u1'}, {created_at: {gte: '2026-01-01'}}]} */
  filters?: Record<string, unknown>;
  top_k?: number;
  threshold?: number;
}

const q = (s: Scope) => new URLSearchParams(Object.entries(s).filter(([, v]) => typeof v === 'string') as [string, string][]).toString();

export function memoryClient(h: Http) {
  return {
    /** answers the memories added, updated or deleted (or a pending event when async) */
    add: (messages: Message[] | string, o: AddOptions = {}) =>
      call<{ results: { id?: string; memory?: string; event?: string; status?: string; event_id?: string }[] }>(h, 'POST', '/v1/memories/', {
        messages: typeof messages === 'string' ? [{ role: 'user', content: messages }] : messages, ...o,
      }),
    search: (query: string, o: SearchOptions = {}) => call<{ results: Memory[] } | Memory[]>(h, 'POST', '/v2/memories/search/', { query, ...o })
      .then((r) => (Array.isArray(r) ? r : r.results)),
    getAll: (o: { filters?: Record<string, unknown>; page?: number; page_size?: number } = {}) =>
      call<{ results: Memory[] } | Memory[]>(h, 'POST', `/v2/memories/?${new URLSearchParams({ page: String(o.page ?? 1), page_size: String(o.page_size ?? 100) })}`, { filters: o.filters ?? {} })
        .then((r) => (Array.isArray(r) ? r : r.results)),
    get: (id: string) => call<Memory>(h, 'GET', `/v1/memories/${encodeURIComponent(id)}/`),
    update: (id: string, change: { text?: string; metadata?: Record<string, unknown> }) => call<Memory>(h, 'PUT', `/v1/memories/${encodeURIComponent(id)}/`, change),
    delete: (id: string) => call<{ message: string }>(h, 'DELETE', `/v1/memories/${encodeURIComponent(id)}/`),
    deleteAll: (scope: Scope) => call<{ message: string }>(h, 'DELETE', `/v1/memories/?${q(scope)}`),
    history: (id: string) => call<{ event: string; old_memory: string | null; new_memory: string | null }[]>(h, 'GET', `/v1/memories/${encodeURIComponent(id)}/history/`),
  };
}

export type MemoryClient = ReturnType<typeof memoryClient>;
