// A project's API keys in the shape of Supabase's Management API (/v1/projects/{ref}/api-keys): the legacy anon
// and service_role JWTs, and opaque publishable (anon) and secret (service_role) keys that can be created and
// deleted on their own, so a leaked key is replaced without rotating the JWT secret. Secret keys are shown
// masked unless ?reveal=true. Every change invalidates the project, so the gateway knows the new set at once.
import { hashToken, randomString, type SecretBox } from '@basalt/crypto';
import type { ProjectRegistry } from '@basalt/tenancy';
import type { ApiKeyRecord, ApiKeysDb } from '../db/api-keys.js';
import { platformErrors } from '../errors.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const PUBLISHABLE_PREFIX = 'sb_publishable_';
export const SECRET_PREFIX = 'sb_secret_';

export interface ApiKeyView {
  id: string;
  type: 'legacy' | 'publishable' | 'secret';
  name: string;
  api_key: string;
  prefix: string | null;
  description: string | null;
  inserted_at: string | null;
  updated_at: string | null;
}

export function apiKeysDomain(d: { keys: ApiKeysDb; secrets: SecretBox; registry: ProjectRegistry; legacyKeys: (ref: string) => Promise<{ name: string; api_key: string }[]>; requireProject: (ref: string) => Promise<unknown> }) {
  const view = (k: ApiKeyRecord, reveal: boolean): ApiKeyView => ({
    id: k.id, type: k.type, name: k.name, prefix: k.prefix, description: k.description,
    api_key: k.type === 'publishable' || reveal ? d.secrets.decrypt(k.key_enc) : `${k.prefix}${'•'.repeat(8)}`,
    inserted_at: k.created_at.toISOString(), updated_at: k.updated_at.toISOString(),
  });
  return {
    async list(ref: string, reveal: boolean): Promise<ApiKeyView[]> {
      const legacy = (await d.legacyKeys(ref)).map(({ name, api_key }): ApiKeyView => ({
        id: name, type: 'legacy', name, api_key, prefix: null, description: null, inserted_at: null, updated_at: null,
      }));
      return [...legacy, ...(await d.keys.list(ref)).map((k) => view(k, reveal))];
    },

    async get(ref: string, id: string, reveal: boolean): Promise<ApiKeyView> {
      await d.requireProject(ref);
      const k = /^[0-9a-f-]{36}$/i.test(id) ? await d.keys.get(ref, id) : null;
      if (!k) throw platformErrors.apiKeyNotFound(id);
      return view(k, reveal);
    },

    /** The new key is answered in full once (a secret one too). */
    async create(ref: string, body: { type: 'publishable' | 'secret'; name: string; description?: string | null }): Promise<ApiKeyView> {
      await d.requireProject(ref);
      const key = `${body.type === 'publishable' ? PUBLISHABLE_PREFIX : SECRET_PREFIX}${randomString(32, ALPHABET)}`;
      const k = await d.keys.insert({
        ref, type: body.type, name: body.name, description: body.description ?? null, key_hash: hashToken(key), key_enc: d.secrets.encrypt(key),
        prefix: key.slice(0, key.indexOf('_', 3) + 5),
      });
      if (!k) throw platformErrors.validation(`The project already has an API key named ${body.name}`);
      await d.registry.invalidate(ref);
      return view(k, true);
    },

    async remove(ref: string, id: string): Promise<ApiKeyView> {
      await d.requireProject(ref);
      const k = /^[0-9a-f-]{36}$/i.test(id) ? await d.keys.remove(ref, id) : null;
      if (!k) throw platformErrors.apiKeyNotFound(id);
      await d.registry.invalidate(ref);
      return view(k, false);
    },
  };
}

export type ApiKeysDomain = ReturnType<typeof apiKeysDomain>;
