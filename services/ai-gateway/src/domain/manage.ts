// The management API's rules: providers (credentials sealed, never returned), the route table (every provider
// it names must exist), AI keys (shown once, stored hashed) and the project's AI settings. Every change drops
// the request path's cached view of the project.
import { z } from 'zod';
import { AI_UPSTREAM_TIMEOUT_MAX_MS } from '@basalt/config';
import { randomToken, hashToken, type SecretBox } from '@basalt/crypto';
import type { KeyLimits, KeysDb } from '../db/keys.js';
import type { ProvidersDb, ProviderType } from '../db/providers.js';
import type { RouteRow, RoutesDb } from '../db/routes.js';
import type { SettingsDb } from '../db/settings.js';
import { aiErrors } from '../errors.js';
import type { AiConfig } from './ai-config.js';
import { AI_KEY_PREFIX } from './callers.js';

const ProviderName = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (at most 64)');
const BaseUrl = z.string().url().max(2048).refine((u) => /^https?:\/\//.test(u), 'must be http or https');
const ApiKey = z.string().min(1).max(8192);
const Timeout = z.number().int().min(100).max(AI_UPSTREAM_TIMEOUT_MAX_MS);

export const CreateProvider = z.object({
  name: ProviderName,
  type: z.enum(['openai', 'anthropic', 'openai_compatible']),
  base_url: BaseUrl.optional(),
  api_key: ApiKey.optional(),
  timeout_ms: Timeout.optional(),
}).strict();

export const UpdateProvider = z.object({
  base_url: BaseUrl.nullable().optional(),
  api_key: ApiKey.optional(),
  timeout_ms: Timeout.nullable().optional(),
}).strict();

const Route = z.object({
  model: z.string().min(1).max(256),
  provider: ProviderName,
  upstream_model: z.string().min(1).max(256).optional(),
  /** provider names, or provider/model to call another model there */
  fallbacks: z.array(z.string().min(1).max(320)).max(10).optional(),
}).strict();
export const PutRoutes = z.object({ routes: z.array(Route).max(1000) }).strict();

export const Limits = z.object({
  requests_per_minute: z.number().int().min(1).optional(),
  tokens_per_day: z.number().int().min(1).optional(),
  cost_per_month_usd: z.number().positive().optional(),
  allowed_models: z.array(z.string().min(1).max(256)).max(1000).optional(),
}).strict();
export const CreateKey = z.object({ name: z.string().min(1).max(128), limits: Limits.optional() }).strict();

export const PutSettings = z.object({
  user_access: z.object({ enabled: z.boolean(), tokens_per_day: z.number().int().min(1).optional() }).strict().optional(),
}).strict();

export interface ManageDeps {
  providers: ProvidersDb;
  routes: RoutesDb;
  keys: KeysDb;
  settings: SettingsDb;
  secrets: SecretBox;
  config: AiConfig;
}

const publicKey = ({ ref: _ref, ...k }: Awaited<ReturnType<KeysDb['insert']>>) => k;

export function manageDomain(d: ManageDeps) {
  const seal = (key: string | undefined) => (key === undefined ? undefined : d.secrets.encrypt(key));

  return {
    listProviders: (ref: string) => d.providers.list(ref),

    async getProvider(ref: string, name: string) {
      return (await d.providers.get(ref, name)) ?? Promise.reject(aiErrors.providerNotFound(name));
    },

    async createProvider(ref: string, p: z.infer<typeof CreateProvider>) {
      if (p.type === 'openai_compatible' && !p.base_url) throw aiErrors.providerNeedsUrl();
      if (p.type !== 'openai_compatible' && !p.api_key) throw aiErrors.providerNeedsKey(p.type);
      const row = await d.providers.insert(ref, {
        name: p.name, type: p.type as ProviderType, base_url: p.base_url ?? null, api_key_enc: seal(p.api_key) ?? null, timeout_ms: p.timeout_ms ?? null,
      });
      if (!row) throw aiErrors.providerExists(p.name);
      d.config.changed(ref);
      return row;
    },

    async updateProvider(ref: string, name: string, p: z.infer<typeof UpdateProvider>) {
      const row = await d.providers.update(ref, name, { base_url: p.base_url, api_key_enc: seal(p.api_key), timeout_ms: p.timeout_ms });
      if (!row) throw aiErrors.providerNotFound(name);
      d.config.changed(ref);
      return row;
    },

    async removeProvider(ref: string, name: string) {
      const used = await d.providers.usedBy(ref, name);
      if (used.length) throw aiErrors.providerInUse(name, used);
      if (!(await d.providers.remove(ref, name))) throw aiErrors.providerNotFound(name);
      d.config.changed(ref);
    },

    listRoutes: async (ref: string) => ({ routes: await d.routes.list(ref) }),

    async putRoutes(ref: string, body: z.infer<typeof PutRoutes>) {
      const names = new Set((await d.providers.list(ref)).map((p) => p.name));
      const rows: RouteRow[] = body.routes.map((r) => ({ model: r.model, provider: r.provider, upstream_model: r.upstream_model ?? null, fallbacks: r.fallbacks ?? [] }));
      for (const r of rows) {
        for (const entry of [r.provider, ...r.fallbacks]) {
          const name = entry.split('/')[0];
          if (!names.has(name)) throw aiErrors.unknownRouteProvider(name);
        }
      }
      await d.routes.replace(ref, rows);
      d.config.changed(ref);
      return { routes: rows };
    },

    async createKey(ref: string, body: z.infer<typeof CreateKey>) {
      const key = randomToken(AI_KEY_PREFIX);
      const row = await d.keys.insert(ref, body.name, hashToken(key), key.slice(0, 10), (body.limits ?? {}) as KeyLimits);
      return { ...publicKey(row), key };
    },

    listKeys: async (ref: string) => (await d.keys.list(ref)).map(publicKey),

    async revokeKey(ref: string, id: string) {
      const row = await d.keys.revoke(ref, id);
      if (!row) throw aiErrors.keyNotFound(id);
      d.config.changed(ref);
      return publicKey(row);
    },

    getSettings: (ref: string) => d.settings.get(ref),

    async putSettings(ref: string, body: z.infer<typeof PutSettings>) {
      const saved = await d.settings.put(ref, body);
      d.config.changed(ref);
      return saved;
    },
  };
}

export type ManageDomain = ReturnType<typeof manageDomain>;
