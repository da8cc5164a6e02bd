// The Cloudflare Workers for Platforms API, as far as a functions target needs it, every call under the egress
// policy (the account's API and dispatch URLs are the tenant's settings). Wire shape, from Cloudflare's docs:
// - upload: PUT {api}/accounts/{account_id}/workers/dispatch/namespaces/{namespace}/scripts/{script_name},
//   Authorization: Bearer <token>, multipart/form-data with a `metadata` part (JSON: main_module, bindings,
//   compatibility_date, compatibility_flags) and one part per module named as the module, ES modules typed
//   application/javascript+module (developers.cloudflare.com/workers/configuration/multipart-upload-metadata/,
//   …/cloudflare-for-platforms/workers-for-platforms/reference/metadata/); bindings {type: 'plain_text'|'secret_text',
//   name, text}.
// - delete: DELETE …/scripts/{script_name}?force=true (cloudflare-typescript workers-for-platforms/dispatch/namespaces/scripts).
// - secrets: PUT …/scripts/{script_name}/secrets with JSON {name, text, type: 'secret_text'}; DELETE
//   …/scripts/{script_name}/secrets/{secret_name} (same SDK, scripts/secrets.ts).
// - every answer is the v4 envelope {success, errors: [{code, message}], messages, result}.
import type { IncomingMessage } from 'node:http';
import { randomBytes } from 'node:crypto';
import { egressRequest, type EgressPolicy } from '@basalt/egress';
import { CLOUDFLARE_API, type CloudflareTarget } from './target.js';

export interface Binding {
  type: 'plain_text' | 'secret_text';
  name: string;
  text: string;
}

export interface Module {
  name: string;
  content: string;
}

export interface ScriptUpload {
  mainModule: string;
  modules: Module[];
  bindings: Binding[];
  compatibilityDate: string;
  compatibilityFlags: string[];
}

/** Cloudflare refused or could not be reached; the message names what it said, never the token. */
export class UpstreamError extends Error {
  constructor(message: string, readonly status: number | null = null) {
    super(message);
    this.name = 'UpstreamError';
  }
}

interface Envelope {
  success?: boolean;
  errors?: { code?: number; message?: string }[];
  result?: unknown;
}

const API_TIMEOUT_MS = 30_000;

/** multipart/form-data by hand, so each part's name, filename and content type are exactly what the API reads */
function multipart(parts: { name: string; filename?: string; type: string; content: string }[]): { type: string; body: Buffer } {
  const boundary = `basalt-${randomBytes(16).toString('hex')}`;
  const chunks = parts.map((p) => Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}\r\n`
      + `Content-Type: ${p.type}\r\n\r\n${p.content}\r\n`,
  ));
  return { type: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat([...chunks, Buffer.from(`--${boundary}--\r\n`)]) };
}

export function cloudflareApi(policy: EgressPolicy) {
  const scriptUrl = (t: CloudflareTarget, script: string, suffix = '') =>
    `${(t.api_url ?? CLOUDFLARE_API).replace(/\/$/, '')}/accounts/${encodeURIComponent(t.account_id)}/workers/dispatch/namespaces/`
    + `${encodeURIComponent(t.namespace)}/scripts/${encodeURIComponent(script)}${suffix}`;

  /** One API call; the envelope's result, or null for a 404 the caller treats as done (`absentOk`). */
  async function call(t: CloudflareTarget, method: string, url: string, body?: { type: string; body: Buffer }, absentOk = false): Promise<unknown> {
    const what = `${method} ${new URL(url).pathname.replace(/^.*\/scripts\//, 'scripts/')}`;
    let r;
    try {
      r = await egressRequest(url, {
        policy, method, redirect: 'manual', timeoutMs: API_TIMEOUT_MS, body: body?.body,
        headers: { authorization: `Bearer ${t.api_token}`, accept: 'application/json', ...(body ? { 'content-type': body.type } : {}) },
      });
    } catch (e) {
      throw new UpstreamError(`${what}: ${(e as Error).message}`);
    }
    const text = await r.text().catch(() => '');
    if (absentOk && r.status === 404) return null;
    let env: Envelope | null = null;
    try {
      env = JSON.parse(text) as Envelope;
    } catch { /* not JSON: reported below */ }
    // a successful delete may come without a body
    if (r.status >= 200 && r.status < 300 && (env?.success === true || (text === '' && method === 'DELETE'))) return env?.result ?? null;
    const said = env?.errors?.map((e) => `${e.code ?? '?'}: ${e.message ?? ''}`).join('; ') || text.slice(0, 300) || 'no body';
    throw new UpstreamError(`${what} answered ${r.status}: ${said}`, r.status);
  }

  return {
    async upload(t: CloudflareTarget, script: string, s: ScriptUpload): Promise<void> {
      const metadata = {
        main_module: s.mainModule, bindings: s.bindings, compatibility_date: s.compatibilityDate, compatibility_flags: s.compatibilityFlags,
      };
      const form = multipart([
        { name: 'metadata', type: 'application/json', content: JSON.stringify(metadata) },
        ...s.modules.map((m) => ({ name: m.name, filename: m.name, type: 'application/javascript+module', content: m.content })),
      ]);
      await call(t, 'PUT', scriptUrl(t, script), form);
    },
    /** gone already counts as removed */
    async remove(t: CloudflareTarget, script: string): Promise<void> {
      await call(t, 'DELETE', `${scriptUrl(t, script)}?force=true`, undefined, true);
    },
    /** false when the script does not exist (it gets every secret at its next upload) */
    async putSecret(t: CloudflareTarget, script: string, name: string, text: string): Promise<boolean> {
      const json = Buffer.from(JSON.stringify({ name, text, type: 'secret_text' }));
      return (await call(t, 'PUT', scriptUrl(t, script, '/secrets'), { type: 'application/json', body: json }, true)) !== null;
    },
    async deleteSecret(t: CloudflareTarget, script: string, name: string): Promise<void> {
      await call(t, 'DELETE', scriptUrl(t, script, `/secrets/${encodeURIComponent(name)}`), undefined, true);
    },
    /**
     * An invocation, to the operator's dispatch Worker, which routes it by x-basalt-script to the user Worker
     * (env.DISPATCHER.get(name).fetch(request)). Redirects are the function's answer, passed on as they are.
     */
    async dispatch(t: CloudflareTarget, script: string, req: { path: string; method: string; headers: Record<string, string>; body: Buffer | null; timeoutMs: number }, signal: AbortSignal): Promise<IncomingMessage> {
      const url = `${t.dispatch_url.replace(/\/$/, '')}${req.path}`;
      try {
        const r = await egressRequest(url, {
          policy, method: req.method, headers: { ...req.headers, 'x-basalt-script': script }, body: req.body ?? undefined,
          redirect: 'manual', signal, timeoutMs: req.timeoutMs,
        });
        return r.res;
      } catch (e) {
        if (signal.aborted) throw signal.reason;
        throw new UpstreamError(`dispatch worker ${new URL(url).host} unreachable: ${(e as Error).message}`);
      }
    },
  };
}

export type CloudflareApi = ReturnType<typeof cloudflareApi>;
