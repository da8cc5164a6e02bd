// Non-streamed responses between the wire formats, and the finish/stop reason maps both directions use.
import type { Usage } from './usage.js';
import { toAnthropic, toOpenAI } from './usage.js';

type Json = Record<string, any>;

const TO_OPENAI_FINISH: Record<string, string> = {
  end_turn: 'stop', stop_sequence: 'stop', pause_turn: 'stop', max_tokens: 'length', model_context_window_exceeded: 'length',
  tool_use: 'tool_calls', refusal: 'content_filter',
};
const TO_ANTHROPIC_STOP: Record<string, string> = {
  stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use', function_call: 'tool_use', content_filter: 'refusal',
};

export const finishReason = (stop: string | null | undefined): string => TO_OPENAI_FINISH[stop ?? ''] ?? 'stop';
export const stopReason = (finish: string | null | undefined): string => TO_ANTHROPIC_STOP[finish ?? ''] ?? 'end_turn';

export const nowSeconds = () => Math.floor(Date.now() / 1000);

function parseArguments(text: string): unknown {
  try {
    const v = JSON.parse(text || '{}');
    return v && typeof v === 'object' ? v : { value: v };
  } catch {
    return { _raw: text };
  }
}

/** Anthropic message → OpenAI chat.completion */
export function messageToCompletion(msg: Json, model: string, usage: Usage): Json {
  const blocks: Json[] = Array.isArray(msg.content) ? msg.content : [];
  const text = blocks.filter((b) => b.type === 'text').map((b) => b.text).join('');
  const calls = blocks.filter((b) => b.type === 'tool_use')
    .map((b) => ({ id: b.id, type: 'function', function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) } }));
  return {
    id: `chatcmpl-${String(msg.id ?? '').replace(/^msg_/, '') || Date.now()}`,
    object: 'chat.completion',
    created: nowSeconds(),
    model,
    choices: [{
      index: 0,
      message: { role: 'assistant', content: text || (calls.length ? null : ''), refusal: null, ...(calls.length ? { tool_calls: calls } : {}) },
      finish_reason: finishReason(msg.stop_reason),
      logprobs: null,
    }],
    usage: toOpenAI(usage),
  };
}

/** OpenAI chat.completion → Anthropic message */
export function completionToMessage(completion: Json, model: string, usage: Usage): Json {
  const choice = completion.choices?.[0] ?? {};
  const message = choice.message ?? {};
  const content: Json[] = [];
  if (typeof message.content === 'string' && message.content) content.push({ type: 'text', text: message.content });
  for (const call of message.tool_calls ?? []) {
    content.push({ type: 'tool_use', id: call.id, name: call.function?.name, input: parseArguments(call.function?.arguments ?? '') });
  }
  return {
    id: `msg_${String(completion.id ?? Date.now()).replace(/^chatcmpl-/, '')}`,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason(choice.finish_reason),
    stop_sequence: null,
    usage: toAnthropic(usage),
  };
}
