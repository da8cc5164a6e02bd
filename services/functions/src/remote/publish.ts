// Keeps a Cloudflare-target project's dispatch namespace in step with its functions: the active version of each
// function is a script there, with the env a local isolate would get (plain_text) and the project's secrets and
// opted-in service key (secret_text). The upstream call comes before the control-database write, so a refusal
// is a 502 that changes nothing; invocations are proxied to the operator's dispatch Worker.
import type { Readable } from 'node:stream';
import type { SecretBox } from '@basalt/crypto';
import { projectBaseUrl } from '@basalt/http';
import type { Project } from '@basalt/tenancy';
import { fromIncoming, type Cancel, type UpstreamResponse } from '@basalt/upstream';
import type { FunctionsDb } from '../db/functions.js';
import { functionEnv, openSecrets } from '../domain/env.js';
import { fnErrors } from '../errors.js';
import { COMPAT, type Dispatch } from '../runtime/runtimes.js';
import { UpstreamError, type Binding, type CloudflareApi, type ScriptUpload } from './cloudflare.js';
import { remoteTarget, scriptName, type CloudflareTarget } from './target.js';

/** the longest a function may run (FUNCTIONS_TIMEOUT_MS's maximum); the invoker's own deadline cuts it shorter */
const DISPATCH_IDLE_MS = 400_000;

/**
 * The bundle reads Deno.env from globalThis.__BASALT_ENV__ when it loads (runtime/prelude.ts); locally that is
 * prepended to the code. On Cloudflare the env is bindings, readable at load through `import { env } from
 * 'cloudflare:workers'` (changelog 2025-03-17, "importable env"): a first module copies the text bindings there,
 * and ES module order guarantees it runs before the bundle.
 */
const ENV_SHIM = `import { env } from 'cloudflare:workers';
globalThis.__BASALT_ENV__ = Object.fromEntries(Object.entries(env).filter(([, v]) => typeof v === 'string'));
`;
const MAIN = `import './basalt-env.js';\nexport { default } from './function.js';\n`;

export function scriptUpload(code: string, env: { plain: Record<string, string>; secret: Record<string, string> }): ScriptUpload {
  const bindings: Binding[] = [
    ...Object.entries(env.plain).map(([name, text]) => ({ type: 'plain_text' as const, name, text })),
    ...Object.entries(env.secret).map(([name, text]) => ({ type: 'secret_text' as const, name, text })),
  ];
  return {
    mainModule: 'index.js',
    modules: [{ name: 'index.js', content: MAIN }, { name: 'basalt-env.js', content: ENV_SHIM }, { name: 'function.js', content: code }],
    bindings, ...COMPAT,
  };
}

async function readAll(body: Readable, signal: Cancel): Promise<Buffer> {
  const parts: Buffer[] = [];
  try {
    for await (const chunk of body) parts.push(chunk as Buffer);
  } catch (e) {
    if (signal.aborted) throw signal.reason; // past the request size limit: the invoker's 413
    throw e;
  }
  signal.throwIfAborted();
  return Buffer.concat(parts);
}

const upstream = <T>(p: Promise<T>): Promise<T> =>
  p.catch((e: unknown) => { throw e instanceof UpstreamError ? fnErrors.remoteTarget(e.message) : e; });

export interface PublisherDeps {
  api: CloudflareApi;
  db: FunctionsDb;
  secrets: SecretBox;
  publicUrl: string;
  project: (ref: string) => Promise<Project | null>;
}

export function remotePublisher(d: PublisherDeps) {
  const targetOf = async (ref: string): Promise<{ project: Project; t: CloudflareTarget } | null> => {
    const project = await d.project(ref);
    const t = project && remoteTarget(project);
    return project && t ? { project, t } : null;
  };
  const upload = async (project: Project, t: CloudflareTarget, fn: { slug: string; allow_service_role: boolean }, code: string) => {
    const env = functionEnv(project, fn, projectBaseUrl({}, d.publicUrl, project.ref), await openSecrets(d.db, d.secrets, project.ref));
    await upstream(d.api.upload(t, scriptName(project.ref, fn.slug), scriptUpload(code, env)));
  };
  /** Moves every script's secrets from → to; on a failure the scripts already touched are moved back. */
  const moveSecrets = async (t: CloudflareTarget, scripts: string[], from: Record<string, string>, to: Record<string, string>) => {
    for (const script of scripts) {
      for (const [name, text] of Object.entries(to)) if (from[name] !== text) await d.api.putSecret(t, script, name, text);
      for (const name of Object.keys(from)) if (!(name in to)) await d.api.deleteSecret(t, script, name);
    }
  };

  return {
    /**
     * Uploads `code` (read only then) as the function's script when the project targets Cloudflare. Returns how to undo it (the
     * previously active version put back, or the script removed) should the database write that follows fail.
     */
    async publish(ref: string, fn: { slug: string; allow_service_role: boolean }, code: () => Promise<string>): Promise<() => Promise<void>> {
      const target = await targetOf(ref);
      if (!target) return async () => undefined;
      const before = await d.db.active(ref, fn.slug);
      const beforeCode = before && (await d.db.code(ref, fn.slug, before.active_version));
      await upload(target.project, target.t, fn, await code());
      return async () => {
        await (before && beforeCode !== null
          ? upload(target.project, target.t, before, beforeCode)
          : upstream(d.api.remove(target.t, scriptName(ref, fn.slug)))).catch(() => undefined);
      };
    },
    /** `exists` runs first (it throws the function's 404), and only for a Cloudflare-target project. */
    async unpublish(ref: string, slug: string, exists: () => Promise<unknown>): Promise<void> {
      const target = await targetOf(ref);
      if (!target) return;
      await exists();
      await upstream(d.api.remove(target.t, scriptName(ref, slug)));
    },
    /** The project's secrets are about to become next(current): every function's script gets the change first. */
    async changeSecrets(ref: string, next: (current: Record<string, string>) => Record<string, string>): Promise<void> {
      const target = await targetOf(ref);
      if (!target) return;
      const from = await openSecrets(d.db, d.secrets, ref);
      const to = next(from);
      const scripts = (await d.db.list(ref)).map((f) => scriptName(ref, f.slug));
      try {
        await moveSecrets(target.t, scripts, from, to);
      } catch (e) {
        await moveSecrets(target.t, scripts, to, from).catch(() => undefined);
        throw e instanceof UpstreamError ? fnErrors.remoteTarget(e.message) : e;
      }
    },
    /** How the invoker sends a Cloudflare-target project's invocation: to its dispatch Worker, or null (local). */
    dispatcher(project: Project, slug: string): ((req: Dispatch, deadline: Cancel) => Promise<UpstreamResponse>) | null {
      const t = remoteTarget(project);
      if (!t) return null;
      return async (req, deadline) => {
        const u = new URL(req.url);
        const body = req.body ? await readAll(req.body, deadline) : null;
        return fromIncoming(await d.api.dispatch(t, scriptName(project.ref, slug), {
          path: `${u.pathname}${u.search}`, method: req.method, headers: req.headers, body, timeoutMs: DISPATCH_IDLE_MS,
        }, deadline.signal));
      };
    },
  };
}

export type RemotePublisher = ReturnType<typeof remotePublisher>;
