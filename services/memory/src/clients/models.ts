// Chat and embedding calls through the AI gateway over HTTP, as the project's service role (a short-lived
// JWT signed with the project's secret), so they are routed by the project's AI routes and metered with its usage.
import { endianness } from 'node:os';
import { LRUCache } from 'lru-cache';
import { signJwt } from '@basalt/jwt';
import { fromBytes } from '@basalt/vector-index';
import type { Project } from '@basalt/tenancy';
import { memErrors } from '../errors.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ModelClientOptions {
  baseUrl: string;
  timeoutMs: number;
}

export function modelClient(o: ModelClientOptions) {
  const tokens = new LRUCache<string, { token: string; exp: number }>({ max: 10_000 });

  function tokenFor(project: Project): string {
    const now = Math.floor(Date.now() / 1000);
    const hit = tokens.get(project.ref);
    if (hit && hit.exp - now > 60) return hit.token;
    const exp = now + 300;
    const token = signJwt({ iss: 'basalt', ref: project.ref, role: 'service_role', iat: now, exp }, project.jwtKey);
    tokens.set(project.ref, { token, exp });
    return token;
  }

  /**
   * `transient`: the gateway or the upstream failed as a whole (unreachable, timed out, 5xx, 429, 402), whatever the input.
   * `quota`: the call was refused for spend: a 429 (the gateway's per-minute limit, budget_exceeded and
   * ai_tokens_per_day are all 429s, as is an upstream's own once the gateway's retries are spent) or an upstream's 402.
   * `unanswered`: no answer came at all (timed out, unreachable; status 0).
   */
  const failure = (status: number, message: string, transient: boolean) =>
    Object.assign(memErrors.model(status, message), { transient, quota: status === 429 || status === 402, unanswered: status === 0 });

  async function post(project: Project, path: string, body: unknown, signal?: AbortSignal): Promise<any> {
    let r: Response;
    try {
      r = await fetch(`${o.baseUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokenFor(project)}`, 'content-type': 'application/json', 'x-basalt-ref': project.ref },
        body: JSON.stringify(body),
        signal: signal ? AbortSignal.any([AbortSignal.timeout(o.timeoutMs), signal]) : AbortSignal.timeout(o.timeoutMs),
      });
    } catch (e) {
      const why = (e as Error).name === 'TimeoutError' ? 'timed out' : signal?.aborted ? 'the request was cancelled' : 'the AI gateway is unreachable';
      throw failure(0, why, true);
    }
    const text = await r.text();
    let parsed: any = null;
    try {
      parsed = JSON.parse(text);
    } catch { /* reported below */ }
    if (!r.ok) throw failure(r.status, parsed?.error?.message ?? `status ${r.status}`, r.status >= 500 || r.status === 429 || r.status === 402);
    if (parsed === null) throw failure(502, 'the answer is not JSON', true);
    return parsed;
  }

  return {
    /**
     * One embedding per input, in order. Asked for as base64 float32 (what OpenAI's own clients ask for: a third of
     * the bytes of the JSON numbers, and no number parsing); an upstream that answers numbers anyway is read too.
     */
    async embed(project: Project, model: string, inputs: string[], dimensions: number | null): Promise<Float32Array[]> {
      if (inputs.length === 0) return [];
      const res = await post(project, '/v1/embeddings', { model, input: inputs, encoding_format: 'base64', ...(dimensions ? { dimensions } : {}) });
      const data = Array.isArray(res?.data) ? res.data : [];
      const out: (Float32Array | undefined)[] = new Array(inputs.length);
      for (const d of data) if (typeof d?.index === 'number' && d.index >= 0 && d.index < inputs.length) out[d.index] = vectorOf(d.embedding);
      for (let i = 0; i < inputs.length; i++) {
        const v = out[i];
        if (!v || v.length === 0) throw failure(502, 'the embedding answer is incomplete', false);
        if (dimensions && v.length !== dimensions) throw failure(502, `the embedding has ${v.length} dimensions, settings.memory.dimensions says ${dimensions}`, false);
      }
      return out as Float32Array[];
    },

    /** a JSON-mode chat completion; returns the message text. `signal` ends the call early (the caller went away). */
    async chat(project: Project, model: string, messages: ChatMessage[], signal?: AbortSignal): Promise<string> {
      const res = await post(project, '/v1/chat/completions', { model, messages, temperature: 0, response_format: { type: 'json_object' } }, signal);
      const content = res?.choices?.[0]?.message?.content;
      if (typeof content !== 'string') throw memErrors.modelOutput('no message content');
      return content;
    },
  };
}

export type ModelClient = ReturnType<typeof modelClient>;

const LITTLE_ENDIAN = endianness() === 'LE';

/** an embedding as base64 float32 (little-endian, as OpenAI sends it) or as a list of numbers; undefined if neither */
function vectorOf(e: unknown): Float32Array | undefined {
  if (typeof e === 'string') {
    const bytes = Buffer.from(e, 'base64');
    if (bytes.length === 0 || bytes.length % 4 !== 0) return undefined;
    // the stored form (vector-index's fromBytes, which copies: decoded bytes may sit unaligned in a shared pool);
    // a big-endian host reads each float itself
    let v: Float32Array;
    if (LITTLE_ENDIAN) v = fromBytes(bytes);
    else {
      v = new Float32Array(bytes.length / 4);
      for (let i = 0; i < v.length; i++) v[i] = bytes.readFloatLE(i * 4);
    }
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return undefined;
    return v;
  }
  if (Array.isArray(e) && e.every((x) => typeof x === 'number')) return Float32Array.from(e);
  return undefined;
}

/** whether a model call was refused for what it carried (a 4xx, an unusable answer), not for an outage: its inputs
 *  sent one by one may fare differently */
export const refusedInput = (e: unknown): boolean => (e as { transient?: unknown })?.transient === false;

/** whether a model call was refused for spend (rate limit, budget, daily token quota, payment): the next call would be too */
export const refusedForQuota = (e: unknown): boolean => (e as { quota?: unknown })?.quota === true;

/** whether a model call got no answer at all (it timed out, the AI gateway was unreachable): the next would wait as long */
export const unanswered = (e: unknown): boolean => (e as { unanswered?: unknown })?.unanswered === true;
