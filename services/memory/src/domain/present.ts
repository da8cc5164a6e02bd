// The wire form of memories, history and entities: snake_case as mem0's platform answers (the client converts).
import type { HistoryRow, MemoryRow, ScopeEntity } from '../db/memories.js';

const iso = (d: Date | string | null) => (d === null ? null : d instanceof Date ? d.toISOString() : d);

export function presentMemory(m: MemoryRow, extra: Record<string, unknown> = {}) {
  return {
    id: m.id, memory: m.memory, user_id: m.user_id, agent_id: m.agent_id, app_id: m.app_id, run_id: m.run_id,
    hash: m.hash, metadata: m.metadata, categories: m.categories, memory_type: m.memory_type,
    created_at: iso(m.created_at), updated_at: iso(m.updated_at), expiration_date: m.expiration_date, ...extra,
  };
}

export function presentHistory(h: HistoryRow) {
  const input = Array.isArray(h.input) ? h.input : h.input ? [h.input] : [];
  return {
    id: h.id, memory_id: h.memory_id, input, old_memory: h.old_memory, new_memory: h.new_memory,
    user_id: h.user_id, agent_id: h.agent_id, app_id: h.app_id, run_id: h.run_id, categories: h.categories,
    event: h.event, is_deleted: h.is_deleted, actor_id: h.actor, created_at: iso(h.created_at), updated_at: iso(h.updated_at),
  };
}

export function presentEntity(e: ScopeEntity) {
  return {
    id: `${e.type}:${e.name}`, name: e.name, type: e.type, total_memories: e.total_memories, owner: null, metadata: null,
    created_at: iso(e.created_at), updated_at: iso(e.updated_at),
  };
}

/** mem0's paginated envelope; next/previous are page URLs relative to the request */
export function page<T>(results: T[], count: number, pageNo: number, pageSize: number, url: string) {
  const link = (n: number) => {
    const u = new URL(url, 'http://x');
    u.searchParams.set('page', String(n));
    u.searchParams.set('page_size', String(pageSize));
    return `${u.pathname}${u.search}`;
  };
  return {
    count,
    next: pageNo * pageSize < count ? link(pageNo + 1) : null,
    previous: pageNo > 1 ? link(pageNo - 1) : null,
    results,
  };
}
