// What the request path needs of a project, from memory: its providers (keys opened), compiled route table,
// AI settings, and AI keys by hash. Entries live AI_CONFIG_CACHE_MS; every change made through the management
// API drops them at once in this replica and, over Redis, in every other one.
import { LRUCache } from 'lru-cache';
import type { SecretBox } from '@basalt/crypto';
import type { KeyRow } from '../db/keys.js';
import type { KeysDb } from '../db/keys.js';
import type { ProvidersDb } from '../db/providers.js';
import type { RoutesDb } from '../db/routes.js';
import type { SettingsDb } from '../db/settings.js';
import { compileRoutes, DEFAULT_BASE_URL, type Provider, type RouteTable } from './routing.js';

export interface ProjectAi {
  providers: Map<string, Provider>;
  routes: RouteTable;
  settings: AiSettings;
}

export interface AiSettings {
  user_access?: { enabled?: boolean; tokens_per_day?: number };
}

export interface AiConfigDeps {
  providers: ProvidersDb;
  routes: RoutesDb;
  keys: KeysDb;
  settings: SettingsDb;
  secrets: SecretBox;
  ttlMs: number;
  /** tells the other replicas (publish over Redis); this one has already dropped its entries */
  publish?: (ref: string) => void;
}

export function aiConfig(d: AiConfigDeps) {
  const ttl = Math.max(1, d.ttlMs);
  const projects = new LRUCache<string, Promise<ProjectAi>>({ max: 10_000, ttl });
  const keys = new LRUCache<string, { row: KeyRow | null }>({ max: 100_000, ttl });

  async function load(ref: string): Promise<ProjectAi> {
    const [sealed, routes, settings] = await Promise.all([d.providers.sealed(ref), d.routes.list(ref), d.settings.get(ref)]);
    const providers = new Map<string, Provider>();
    for (const p of sealed) {
      providers.set(p.name, {
        name: p.name,
        type: p.type,
        baseUrl: (p.base_url ?? DEFAULT_BASE_URL[p.type] ?? '').replace(/\/+$/, ''),
        apiKey: p.api_key_enc ? d.secrets.decrypt(p.api_key_enc) : null,
        timeoutMs: p.timeout_ms,
      });
    }
    return { providers, routes: compileRoutes(routes), settings: settings as AiSettings };
  }

  /** drops what is cached of a project (config and keys) */
  const drop = (ref: string) => {
    projects.delete(ref);
    for (const [hash, v] of keys.entries()) if (v.row?.ref === ref || v.row === null) keys.delete(hash);
  };

  return {
    project(ref: string): Promise<ProjectAi> {
      let hit = projects.get(ref);
      if (!hit) {
        hit = load(ref);
        projects.set(ref, hit);
        hit.catch(() => projects.delete(ref));
      }
      return hit;
    },

    async keyByHash(hash: string): Promise<KeyRow | null> {
      const hit = keys.get(hash);
      if (hit) return hit.row;
      const row = await d.keys.byHash(hash);
      // unknown hashes are remembered briefly, so a flood of bad keys is not a flood of queries
      keys.set(hash, { row }, row ? undefined : { ttl: Math.min(ttl, 5_000) });
      return row;
    },

    drop,

    /** after a change through the management API */
    changed(ref: string): void {
      drop(ref);
      d.publish?.(ref);
    },
  };
}

export type AiConfig = ReturnType<typeof aiConfig>;
