// POST /v1/messages/count_tokens: asked of the provider when it is Anthropic (its count is exact), counted
// here with the tokenizer for an OpenAI-format model. Counting spends nothing, so no usage row is written.
import type { SendUpstream, UpstreamResponse } from '../clients/upstream.js';
import { aiErrors } from '../errors.js';
import type { AiConfig } from './ai-config.js';
import type { Budgets } from './budgets.js';
import { answerText } from './proxy.js';
import type { CallContext } from './usage-meter.js';
import { resolveModel } from './routing.js';
import { promptTokens } from './tokenizer.js';

type Json = Record<string, any>;

export function tokenCounter(d: { config: AiConfig; budgets: Budgets; send: SendUpstream; timeoutMs: number }) {
  return async function count(call: CallContext, body: Json): Promise<{ input_tokens: number }> {
    const model = String(body.model);
    d.budgets.modelAllowed(call.caller, model);
    const cfg = await d.config.project(call.caller.ref);
    const [first] = resolveModel(model, cfg.routes, cfg.providers);
    if (!first) throw aiErrors.modelNotFound(model);
    if (first.provider.type !== 'anthropic') return { input_tokens: promptTokens(body) };
    const { max_tokens: _ignored, stream: _s, ...rest } = body;
    let res: UpstreamResponse;
    try {
      res = await d.send(first.provider, 'count_tokens', { ...rest, model: first.model }, {
        signal: call.upstreamSignal, timeoutMs: d.timeoutMs, requestId: call.requestId, anthropicVersion: call.anthropicVersion, anthropicBeta: call.anthropicBeta,
      });
    } catch (e) {
      throw aiErrors.upstreamUnreachable((e as Error).message);
    }
    const text = await answerText(res);
    let json: Json;
    try {
      json = JSON.parse(text);
    } catch {
      throw aiErrors.upstreamGarbage('the response is not JSON');
    }
    if (res.status !== 200) throw aiErrors.upstream(res.status, String(json?.error?.message ?? `HTTP ${res.status}`));
    if (typeof json?.input_tokens !== 'number') throw aiErrors.upstreamGarbage('no input_tokens in the answer');
    return { input_tokens: json.input_tokens };
  };
}

export type TokenCounter = ReturnType<typeof tokenCounter>;
