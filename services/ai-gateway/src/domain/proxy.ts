// One model call: resolve the model, check the caller's budgets, try the route's providers in order (retrying
// a 429 or 5xx with backoff, then falling back), and hand back JSON or a stream that passes frames on as they
// arrive. Nothing is retried once the client has been sent a byte. A provider that timed out is not asked again:
// it may still be generating the answer, and would bill it twice; the route's next provider is tried. Every
// outcome is recorded once.
import { setTimeout as sleep } from 'node:timers/promises';
import type { BasaltError } from '@basalt/errors';
import { ResponseTooLarge, UpstreamFailure, type SendUpstream, type UpstreamResponse } from '../clients/upstream.js';
import { aiErrors } from '../errors.js';
import type { AiConfig } from './ai-config.js';
import type { Budgets } from './budgets.js';
import type { Caller } from './callers.js';
import { canServe, planFor, type Endpoint, type Plan } from './plans.js';
import { resolveModel, type Candidate } from './routing.js';
import { sseFrames, type SseFrame } from './sse.js';
import { textOf } from './tokenizer.js';
import { UsageMeter, type CallContext } from './usage-meter.js';

type Json = Record<string, any>;

export type Outcome =
  | { kind: 'json'; body: Json | string }
  | { kind: 'stream'; frames: AsyncIterable<string> };

export interface ProxyDeps {
  config: AiConfig;
  budgets: Budgets;
  send: SendUpstream;
  meter: UsageMeter;
  retries: number;
  backoffMs: number;
  timeoutMs: number;
  defaultMaxTokens: number;
  /** one event-stream frame may hold this many characters */
  maxFrameBytes: number;
}

const RETRYABLE = (status: number) => status === 408 || status === 429 || status >= 500;

async function upstreamMessage(res: UpstreamResponse): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const j = JSON.parse(text);
    return String(j?.error?.message ?? j?.message ?? text).slice(0, 2000);
  } catch {
    return text.slice(0, 500) || `HTTP ${res.status}`;
  }
}

/** A non-streamed answer's text: past the size limit the provider's garbage (no retry), else unreachable. */
export function answerText(res: UpstreamResponse): Promise<string> {
  return res.text().catch((e: Error) => {
    throw e instanceof ResponseTooLarge ? aiErrors.upstreamGarbage(e.message) : aiErrors.upstreamUnreachable(e.message);
  });
}

/**
 * A non-streamed answer in the caller's format, its usage and (when it reports none) its output text. An answer
 * that is JSON but not an object (null, a list) or not of the shape the translation reads is the provider's
 * garbage, a 502 the SDK must not retry: it once threw here, a 500 the SDK retried, calling the provider again.
 */
function readAnswer(text: string, plan: Plan, endpoint: Endpoint) {
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch {
    throw aiErrors.upstreamGarbage('the response is not JSON');
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw aiErrors.upstreamGarbage('the response is not a JSON object');
  try {
    const { body: converted, usage } = plan.convert(json);
    const output = usage.reported || endpoint === 'embeddings' ? [] : textOf(json.choices ?? json.content ?? json.output ?? []);
    return { converted, usage, output };
  } catch (e) {
    throw aiErrors.upstreamGarbage(`the response does not have the API's shape (${(e as Error).message})`);
  }
}

export function proxy(d: ProxyDeps) {
  async function candidatesFor(caller: Caller, endpoint: Endpoint, model: string): Promise<Candidate[]> {
    d.budgets.modelAllowed(caller, model);
    const cfg = await d.config.project(caller.ref);
    const all = resolveModel(model, cfg.routes, cfg.providers);
    if (all.length === 0) throw aiErrors.modelNotFound(model);
    const usable = all.filter((c) => canServe(endpoint, c));
    if (usable.length === 0) throw aiErrors.unsupported(`The model \`${model}\` is served by an Anthropic provider, which has no ${endpoint} API`);
    return usable;
  }

  /** the first frame is read before committing, so a stream that dies at once can still fall back */
  async function openStream(res: UpstreamResponse, plan: Plan): Promise<{ first: IteratorResult<SseFrame>; rest: AsyncIterator<SseFrame> }> {
    const type = res.header('content-type') ?? '';
    if (!type.includes('text/event-stream')) {
      res.discard();
      throw aiErrors.upstreamGarbage(`expected an event stream, got ${type || 'no content type'}`);
    }
    const rest = sseFrames(res.body, d.maxFrameBytes)[Symbol.asyncIterator]();
    void plan;
    return { first: await rest.next(), rest };
  }

  async function* relay(call: CallContext, plan: Plan, first: IteratorResult<SseFrame>, rest: AsyncIterator<SseFrame>, m: ReturnType<UsageMeter['start']>) {
    const t = plan.translator();
    try {
      for (let r = first; !r.done; r = await rest.next()) {
        const out = t.push(r.value);
        if (out) {
          m.firstByte();
          yield out;
        }
      }
      const tail = t.end();
      if (tail) yield tail;
      m.finish(t.upstreamError || !t.complete ? 502 : 200, t.usage, t.output, t.upstreamError ?? (t.complete ? null : 'stream ended early'));
    } catch (e) {
      if (call.clientGone()) return void m.finish(499, t.usage, t.output, 'client closed the connection');
      m.finish(502, t.usage, t.output, `stream failed: ${(e as Error).message}`);
      yield t.fail('The model provider stream failed');
    } finally {
      await rest.return?.();
      if (!call.clientGone()) call.abortUpstream();
    }
  }

  async function attempt(call: CallContext, endpoint: Endpoint, body: Json, c: Candidate, m: ReturnType<UsageMeter['start']>): Promise<Outcome | BasaltError> {
    const plan = planFor(endpoint, c, body, d.defaultMaxTokens);
    m.attempt(c, plan);
    let res: UpstreamResponse;
    try {
      res = await d.send(c.provider, plan.call, plan.body, {
        signal: call.upstreamSignal, timeoutMs: d.timeoutMs, requestId: call.requestId, anthropicVersion: call.anthropicVersion, anthropicBeta: call.anthropicBeta,
      });
    } catch (e) {
      if (!(e instanceof UpstreamFailure)) throw e;
      return e.kind === 'timeout' ? aiErrors.upstreamTimeout() : aiErrors.upstreamUnreachable(e.message);
    }
    if (res.status !== 200) {
      const message = await upstreamMessage(res);
      const err = aiErrors.upstream(res.status, message, res.header('retry-after') ?? undefined);
      if (!RETRYABLE(res.status)) throw err;
      return err;
    }
    if (plan.stream) {
      try {
        const { first, rest } = await openStream(res, plan);
        return { kind: 'stream', frames: relay(call, plan, first, rest, m) };
      } catch (e) {
        if ((e as BasaltError).status === 502 && (e as BasaltError).code === 'upstream_invalid') throw e;
        if (e instanceof ResponseTooLarge) throw aiErrors.upstreamGarbage(`an event-stream frame: ${e.message}`);
        return aiErrors.upstreamUnreachable(`the stream failed before its first event: ${(e as Error).message}`);
      }
    }
    const text = await answerText(res);
    const { converted, usage, output } = readAnswer(text, plan, endpoint);
    m.finish(200, usage.reported ? usage : null, output, null);
    return { kind: 'json', body: converted ?? text };
  }

  return {
    async run(call: CallContext, endpoint: Endpoint, body: Json): Promise<Outcome> {
      const m = d.meter.start(call, endpoint, String(body.model), body);
      try {
        const candidates = await candidatesFor(call.caller, endpoint, String(body.model));
        m.hold(await d.budgets.reserve(call.caller, () => d.meter.estimate(candidates[0]!.model, body)));
        let last: BasaltError | null = null;
        for (const c of candidates) {
          for (let i = 0; i <= d.retries; i++) {
            if (i > 0) await sleep(d.backoffMs * 2 ** (i - 1), undefined, { signal: call.upstreamSignal });
            const r = await attempt(call, endpoint, body, c, m);
            if (!(r instanceof Error)) return r;
            last = r;
            if (r.code === 'upstream_timeout') break;
            if (r.code === 'upstream_unreachable' && /egress|not allowed|refused/i.test(r.message)) break;
          }
        }
        throw last ?? aiErrors.upstreamUnreachable('no provider answered');
      } catch (e) {
        m.fail(e as BasaltError);
        throw e;
      }
    },
  };
}

export type Proxy = ReturnType<typeof proxy>;
