// Deploying and managing functions and their secrets (Supabase Management API shapes where they exist).
import { z } from 'zod';
import { FUNCTION_TIMEOUT_MAX_MS } from '@basalt/config';
import type { SecretBox } from '@basalt/crypto';
import type { FunctionRecord, FunctionsDb } from '../db/functions.js';
import { fnErrors } from '../errors.js';
import type { RemotePublisher } from '../remote/publish.js';
import { bundle } from './bundle.js';

const Slug = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'letters, digits, - and _ (up to 128)');
const Path = z.string().min(1).max(256).regex(/^[\w./-]+$/, 'a relative file path').refine((p) => !p.split('/').includes('..'), 'no .. segments');

export const Deploy = z.object({
  slug: Slug,
  source: z.string().min(1).max(5_000_000).optional(),
  files: z.record(Path, z.string().max(5_000_000)).optional(),
  entrypoint: Path.optional(),
  verify_jwt: z.boolean().default(true),
  allow_service_role: z.boolean().default(false),
  import_map: z.record(z.string().min(1).max(256), Path).optional(),
  timeout_ms: z.number().int().min(100).max(FUNCTION_TIMEOUT_MAX_MS).optional(),
}).strict().refine((d) => (d.source === undefined) !== (d.files === undefined), 'give either source or files');

export const SecretName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,255}$/, 'an environment variable name')
  .refine((n) => !/^(SUPABASE_|BASALT_)/i.test(n), 'names starting with SUPABASE_ or BASALT_ are reserved');
export const SetSecrets = z.array(z.object({ name: SecretName, value: z.string().max(64 * 1024) }).strict()).min(1).max(100);
export const UnsetSecrets = z.array(SecretName).min(1).max(100);

export const Rollback = z.object({ version: z.number().int().min(1) }).strict();

const view = (f: FunctionRecord, versions?: { version: number; created_at: Date | string }[]) => ({
  slug: f.slug, version: f.active_version, verify_jwt: f.verify_jwt, allow_service_role: f.allow_service_role, timeout_ms: f.timeout_ms,
  created_at: new Date(f.created_at).toISOString(), updated_at: new Date(f.updated_at).toISOString(),
  ...(versions ? { versions: versions.map((v) => ({ version: v.version, created_at: new Date(v.created_at).toISOString() })) } : {}),
});

/**
 * `remote` mirrors each change to a project whose functions run on Cloudflare (remote/publish.ts); it acts only
 * for such projects and always before the database write, so a refusal leaves everything as it was.
 */
export function manageDomain(
  db: FunctionsDb, secrets: SecretBox, defaults: { timeoutMs: number; maxBundleBytes: number }, changed: (ref: string) => Promise<void>, remote?: RemotePublisher,
) {
  const one = async (ref: string, slug: string) => {
    const f = (await db.list(ref)).find((x) => x.slug === slug);
    if (!f) throw fnErrors.notFound(slug);
    return f;
  };
  return {
    async deploy(ref: string, d: z.infer<typeof Deploy>) {
      const files = d.files ?? { 'index.ts': d.source! };
      const entrypoint = d.entrypoint ?? (d.files ? 'index.ts' : 'index.ts');
      const code = await bundle({ files, entrypoint, importMap: d.import_map }, defaults.maxBundleBytes);
      const undo = await remote?.publish(ref, { slug: d.slug, allow_service_role: d.allow_service_role }, async () => code);
      const f = await db.deploy({
        ref, slug: d.slug, verifyJwt: d.verify_jwt, allowServiceRole: d.allow_service_role,
        timeoutMs: d.timeout_ms ?? defaults.timeoutMs, code, source: { files, import_map: d.import_map ?? null }, entrypoint,
      }).catch(async (e: unknown) => {
        await undo?.();
        throw e;
      });
      await changed(ref);
      return view(f);
    },
    list: async (ref: string) => (await db.list(ref)).map((f) => view(f, f.versions)),
    get: async (ref: string, slug: string) => {
      const f = await one(ref, slug);
      return view(f, f.versions);
    },
    async rollback(ref: string, slug: string, version: number) {
      const current = await one(ref, slug);
      await remote?.publish(ref, current, async () => {
        const code = await db.code(ref, slug, version);
        if (code === null) throw fnErrors.versionNotFound(version);
        return code;
      });
      const f = await db.activate(ref, slug, version);
      if (!f) throw fnErrors.versionNotFound(version);
      await changed(ref);
      return view(f);
    },
    async remove(ref: string, slug: string) {
      await remote?.unpublish(ref, slug, () => one(ref, slug));
      if (!(await db.remove(ref, slug))) throw fnErrors.notFound(slug);
      await changed(ref);
    },
    async logs(ref: string, slug: string, limit: number) {
      await one(ref, slug);
      return db.invocations(ref, slug, Math.min(Math.max(limit, 1), 500));
    },
    async setSecrets(ref: string, list: z.infer<typeof SetSecrets>) {
      await remote?.changeSecrets(ref, (current) => ({ ...current, ...Object.fromEntries(list.map((s) => [s.name, s.value])) }));
      await db.setSecrets(ref, list.map((s) => ({ name: s.name, valueEnc: secrets.encrypt(s.value) })));
      await changed(ref);
    },
    /** Names only: a secret's value is never returned. */
    listSecrets: async (ref: string) => (await db.secrets(ref)).map((s) => ({ name: s.name, updated_at: s.updated_at.toISOString() })),
    async unsetSecrets(ref: string, names: string[]) {
      await remote?.changeSecrets(ref, (current) => Object.fromEntries(Object.entries(current).filter(([name]) => !names.includes(name))));
      await db.deleteSecrets(ref, names);
      await changed(ref);
    },
  };
}

export type ManageDomain = ReturnType<typeof manageDomain>;
