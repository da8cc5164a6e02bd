// One usage record per model call, whatever way it ends: tokens from the provider's usage fields, or counted
// with the tokenizer when it reported none; cost from the price table of the model actually called; latency
// and time to first token. Records go to the batched writer; the caller's budget counters are added to here.
import type { BasaltError } from '@basalt/errors';
import type { Meter } from '@basalt/metering';
import type { UsageRecord } from '../db/usage.js';
import type { Budgets, Estimate, Reservation } from './budgets.js';
import type { Caller } from './callers.js';
import type { Plan, Endpoint } from './plans.js';
import type { PriceBook } from './pricing.js';
import type { Candidate } from './routing.js';
import { countTokens, promptTokens, textOf } from './tokenizer.js';
import type { Usage } from './usage.js';

export interface CallContext {
  caller: Caller;
  requestId: string;
  /** whether the client went away before its answer was sent */
  clientGone: () => boolean;
  /** aborted when the client goes away or the call is over */
  upstreamSignal: AbortSignal;
  abortUpstream: () => void;
  anthropicVersion?: string;
  anthropicBeta?: string;
  /** performance.now() when the request arrived */
  startedAt: number;
}

export interface UsageSink {
  push: (r: UsageRecord) => void;
}

/** The project's metered usage (@basalt/metering) from one usage record: a call, its tokens, its cost. */
export function meterAiUsage(meter: Meter, r: UsageRecord): void {
  meter.count(r.ref, 'ai-gateway', 'ai_requests');
  meter.count(r.ref, 'ai-gateway', 'ai_input_tokens', r.input_tokens);
  meter.count(r.ref, 'ai-gateway', 'ai_output_tokens', r.output_tokens);
  meter.count(r.ref, 'ai-gateway', 'ai_tokens', r.input_tokens + r.output_tokens);
  meter.count(r.ref, 'ai-gateway', 'ai_cost_micro_usd', Math.round(r.cost_usd * 1e6));
}

// Our own 429s are answered before anything is spent; recording them would let a flood fill the table.
const UNRECORDED = new Set(['budget_exceeded', 'rate_limit_exceeded']);

/** the most output a request asks for (max_tokens, or its newer names); 0 when it sets none */
function maxOutput(body: Record<string, unknown>): number {
  for (const k of ['max_tokens', 'max_completion_tokens', 'max_output_tokens']) {
    const v = body[k];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
  }
  return 0;
}

export class UsageMeter {
  constructor(private readonly sink: UsageSink, private readonly prices: PriceBook, private readonly budgets: Budgets) {}

  /**
   * What a request to `model` is expected to use, for its budget reservation: its prompt at four characters a token
   * and its max output. Not the tokenizer: cl100k takes ~20 ms of the event loop for a 100 KB prompt, on every
   * request of a key with a budget, for a figure the real usage replaces anyway.
   */
  estimate(model: string, body: Record<string, unknown>): Estimate {
    let chars = 0;
    for (const s of textOf(body)) chars += s.length;
    const usage: Usage = { input: Math.ceil(chars / 4), output: maxOutput(body), cached: 0, cacheWrite: 0, reported: false };
    return { tokens: usage.input + usage.output, costUsd: this.prices.costOf(model, usage) };
  }

  start(call: CallContext, endpoint: Endpoint, model: string, body: Record<string, unknown>) {
    let done = false;
    let held: Reservation | null = null;
    const budgets = this.budgets;
    let ttft: number | null = null;
    let candidate: Candidate | null = null;
    let plan: Plan | null = null;
    const elapsed = () => Math.round(performance.now() - call.startedAt);

    const write = (status: number, usage: Usage, error: string | null) => {
      if (done) return;
      done = true;
      const upstreamModel = candidate?.model ?? null;
      const cost = upstreamModel ? this.prices.costOf(upstreamModel, usage) : 0;
      const c = call.caller;
      this.sink.push({
        ref: c.ref, request_id: call.requestId, key_id: c.keyId, principal: c.kind, user_id: c.userId, endpoint, model,
        provider: candidate?.provider.name ?? null, upstream_model: upstreamModel,
        input_tokens: usage.input, output_tokens: usage.output, cached_tokens: usage.cached, cache_write_tokens: usage.cacheWrite,
        cost_usd: cost, latency_ms: elapsed(), ttft_ms: ttft, status, error: error?.slice(0, 1000) ?? null, stream: body.stream === true,
        created_at: new Date(),
      });
      budgets.spend(c, usage.input + usage.output, cost, held);
    };

    return {
      /** what the request reserved of its caller's budgets, settled when its usage is written */
      hold(r: Reservation | null) {
        held = r;
      },
      attempt(c: Candidate, p: Plan) {
        candidate = c;
        plan = p;
      },
      firstByte() {
        ttft ??= elapsed();
      },
      /** usage null (or unreported): counted from the prompt and the output text seen */
      finish(status: number, usage: Usage | null, output: string[], error: string | null) {
        let u = usage;
        if (!u || !u.reported) {
          const input = u?.input || (plan ? plan.estimateInput() : promptTokens(body));
          u = { input, output: u?.output || countTokens(output.join('')), cached: 0, cacheWrite: 0, reported: false };
        }
        write(status, u, error);
      },
      fail(e: BasaltError) {
        if (done) return;
        if (UNRECORDED.has(e.code)) {
          done = true;
          budgets.spend(call.caller, 0, 0, held); // nothing was spent: the reservation, if any, goes back
          return;
        }
        // The client left while a provider held the prompt: it was most likely processed, and is counted (as a cut
        // stream's is), else leaving just before the answer would be a way around the key's budget.
        if (plan && call.clientGone()) return write(499, { input: plan.estimateInput(), output: 0, cached: 0, cacheWrite: 0, reported: false }, 'client closed the connection');
        write(e.status ?? 500, { input: 0, output: 0, cached: 0, cacheWrite: 0, reported: false }, e.message ?? String(e));
      },
    };
  }
}
