// Calls to model providers, always through the egress policy (an operator allows a local model host with
// BASALT_EGRESS_ALLOW). OpenAI-format base URLs include /v1 (as the openai SDK's do), Anthropic's do not.
import { EgressError, type EgressPolicy } from '@basalt/egress';
import type { Provider } from '../domain/routing.js';
import { http1Client } from './http1.js';
import { ResponseTooLarge } from './http1-body.js';

export { ResponseTooLarge };

export type UpstreamCall = 'chat' | 'embeddings' | 'responses' | 'messages' | 'count_tokens';

const PATHS: Record<UpstreamCall, string> = {
  chat: '/chat/completions',
  embeddings: '/embeddings',
  responses: '/responses',
  messages: '/v1/messages',
  count_tokens: '/v1/messages/count_tokens',
};

export const DEFAULT_ANTHROPIC_VERSION = '2023-06-01';

export interface UpstreamOptions {
  signal: AbortSignal;
  timeoutMs: number;
  requestId: string;
  /** forwarded as the caller sent it: the version changes what the API accepts */
  anthropicVersion?: string;
  anthropicBeta?: string;
}

/** A provider's answer; its body is read as it arrives (no web streams on the hot path). */
export interface UpstreamResponse {
  status: number;
  header(name: string): string | null;
  /** the whole body, up to the client's maxResponseBytes (ResponseTooLarge past it) */
  text(): Promise<string>;
  body: AsyncIterable<Uint8Array>;
  /** drops a body nobody will read, so its connection goes back to the pool */
  discard(): void;
}

/** why an attempt failed before any response: decides whether a fallback may be tried */
export class UpstreamFailure extends Error {
  constructor(readonly kind: 'timeout' | 'unreachable' | 'refused', message: string) {
    super(message);
  }
}

export function upstreamClient(policy: EgressPolicy, maxResponseBytes = Infinity) {
  const request = http1Client(policy);
  return async function send(p: Provider, call: UpstreamCall, body: unknown, o: UpstreamOptions): Promise<UpstreamResponse> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: call === 'count_tokens' ? 'application/json' : 'application/json, text/event-stream', 'x-request-id': o.requestId };
    if (p.type === 'anthropic') {
      if (p.apiKey) headers['x-api-key'] = p.apiKey;
      headers['anthropic-version'] = o.anthropicVersion ?? DEFAULT_ANTHROPIC_VERSION;
      if (o.anthropicBeta) headers['anthropic-beta'] = o.anthropicBeta;
    } else if (p.apiKey) headers.authorization = `Bearer ${p.apiKey}`;
    try {
      const r = await request({
        url: new URL(`${p.baseUrl}${PATHS[call]}`), headers, body: Buffer.from(JSON.stringify(body)), signal: o.signal, timeoutMs: p.timeoutMs ?? o.timeoutMs,
      });
      return { status: r.status, header: r.header, text: () => r.body.text(maxResponseBytes), body: r.body, discard: () => r.body.discard() };
    } catch (e) {
      if (e instanceof EgressError) throw new UpstreamFailure('refused', e.message);
      const message = (e as Error).message ?? String(e);
      if (o.signal.aborted) throw new UpstreamFailure('unreachable', 'the caller went away');
      throw new UpstreamFailure(/timed out/i.test(message) ? 'timeout' : 'unreachable', message);
    }
  };
}

export type SendUpstream = ReturnType<typeof upstreamClient>;
