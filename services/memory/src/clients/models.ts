// Chat and embedding calls through the AI gateway over HTTP, as the project's service role (a short-lived
// JWT signed with the project's secret), so they are routed by the project's AI routes and metered with its usage.
import { LRUCache } from 'lru-cache';
import { signJwt } from '@basalt/jwt';
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

  async function post(project: Project, path: string, body: unknown): Promise<any> {
    let r: Response;
    try {
      r = await fetch(`${o.baseUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokenFor(project)}`, 'content-type': 'application/json', 'x-basalt-ref': project.ref },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(o.timeoutMs),
      });
    } catch (e) {
      throw memErrors.model(0, (e as Error).name === 'TimeoutError' ? 'timed out' : 'the AI gateway is unreachable');
    }
    const text = await r.text();
    let parsed: any = null;
    try {
      parsed = JSON.parse(text);
    } catch { /* reported below */ }
    if (!r.ok) throw memErrors.model(r.status, parsed?.error?.message ?? `status ${r.status}`);
    if (parsed === null) throw memErrors.model(502, 'the answer is not JSON');
    return parsed;
  }

  return {
    async embed(project: Project, model: string, inputs: string[], dimensions: number | null): Promise<number[][]> {
      if (inputs.length === 0) return [];
      const res = await post(project, '/v1/embeddings', { model, input: inputs, ...(dimensions ? { dimensions } : {}) });
      const data = Array.isArray(res?.data) ? res.data : [];
      const out: number[][] = new Array(inputs.length);
      for (const d of data) if (typeof d?.index === 'number' && Array.isArray(d.embedding)) out[d.index] = d.embedding;
      for (let i = 0; i < inputs.length; i++) {
        const v = out[i];
        if (!v || v.length === 0 || v.some((x) => typeof x !== 'number')) throw memErrors.model(502, 'the embedding answer is incomplete');
        if (dimensions && v.length !== dimensions) throw memErrors.model(502, `the embedding has ${v.length} dimensions, settings.memory.dimensions says ${dimensions}`);
      }
      return out;
    },

    /** a JSON-mode chat completion; returns the message text */
    async chat(project: Project, model: string, messages: ChatMessage[]): Promise<string> {
      const res = await post(project, '/v1/chat/completions', { model, messages, temperature: 0, response_format: { type: 'json_object' } });
      const content = res?.choices?.[0]?.message?.content;
      if (typeof content !== 'string') throw memErrors.modelOutput('no message content');
      return content;
    },
  };
}

export type ModelClient = ReturnType<typeof modelClient>;
