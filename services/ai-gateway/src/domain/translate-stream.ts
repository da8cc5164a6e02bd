// Streams frame by frame, as they arrive: same-format streams pass through byte for byte (usage read on the
// way), cross-format ones go through a small state machine each (Anthropic events ⇄ OpenAI chunks). Every
// translator also keeps what a usage record needs when the provider reports no usage: the output text.
import type { SseFrame } from './sse.js';
import { sseData, sseEvent } from './sse.js';
import { finishReason, nowSeconds, stopReason } from './translate-response.js';
import { fromAnthropic, fromOpenAI, fromResponses, toAnthropic, toOpenAI, type Usage } from './usage.js';

type Json = Record<string, any>;

export interface StreamTranslator {
  /** what to send the client for one upstream frame ('' for nothing) */
  push(frame: SseFrame): string;
  /** the upstream stream ended: closing frames, or an error frame if it ended early */
  end(): string;
  /** an error frame in the caller's format */
  fail(message: string): string;
  usage: Usage | null;
  output: string[];
  /** the stream reached its terminal frame */
  complete: boolean;
  /** an error the upstream sent inside the stream */
  upstreamError: string | null;
}

const parse = (data: string): Json | null => {
  try {
    return JSON.parse(data);
  } catch {
    return null;
  }
};

const openaiFail = (message: string) => sseData({ error: { message, type: 'server_error', param: null, code: 'upstream_stream_failed' } });
const anthropicFail = (message: string) => sseEvent('error', { type: 'error', error: { type: 'api_error', message } });

/** OpenAI chunks to an OpenAI caller; the usage chunk we forced upstream is dropped unless the caller asked */
export function openaiPassthrough(includeUsage: boolean): StreamTranslator {
  let finished = false;
  const t: StreamTranslator = {
    usage: null, output: [], complete: false, upstreamError: null,
    push(f) {
      if (f.data === '[DONE]') return (t.complete = true), f.raw;
      const chunk = parse(f.data);
      if (!chunk) return '';
      if (chunk.error) t.upstreamError = chunk.error.message ?? 'upstream error';
      const choice = chunk.choices?.[0];
      if (choice?.delta?.content) t.output.push(choice.delta.content);
      for (const call of choice?.delta?.tool_calls ?? []) if (call.function?.arguments) t.output.push(call.function.arguments);
      if (choice?.finish_reason) finished = true;
      if (chunk.usage) {
        t.usage = fromOpenAI(chunk.usage);
        if (!includeUsage && (!chunk.choices || chunk.choices.length === 0)) return '';
      }
      return f.raw;
    },
    end: () => (t.complete ? '' : finished ? ((t.complete = true), 'data: [DONE]\n\n') : openaiFail('The model provider ended the stream early')),
    fail: openaiFail,
  };
  return t;
}

/** Anthropic events to an Anthropic caller */
export function anthropicPassthrough(): StreamTranslator {
  let usage: Json = {};
  const t: StreamTranslator = {
    usage: null, output: [], complete: false, upstreamError: null,
    push(f) {
      const ev = parse(f.data);
      if (!ev) return f.raw;
      if (ev.type === 'message_start') usage = { ...ev.message?.usage };
      else if (ev.type === 'message_delta') usage = { ...usage, ...ev.usage };
      else if (ev.type === 'content_block_delta') t.output.push(ev.delta?.text ?? ev.delta?.partial_json ?? '');
      else if (ev.type === 'message_stop') t.complete = true;
      else if (ev.type === 'error') t.upstreamError = ev.error?.message ?? 'upstream error';
      if (ev.type === 'message_start' || ev.type === 'message_delta') t.usage = fromAnthropic(usage);
      return f.raw;
    },
    end: () => (t.complete || t.upstreamError ? '' : anthropicFail('The model provider ended the stream early')),
    fail: anthropicFail,
  };
  return t;
}

/** Responses API events to a Responses caller */
export function responsesPassthrough(): StreamTranslator {
  let seq = 0;
  const fail = (message: string) => sseEvent('error', { type: 'error', code: 'upstream_stream_failed', message, param: null, sequence_number: seq + 1 });
  const t: StreamTranslator = {
    usage: null, output: [], complete: false, upstreamError: null,
    push(f) {
      const ev = parse(f.data);
      if (ev) {
        if (typeof ev.sequence_number === 'number') seq = ev.sequence_number;
        if (ev.type === 'response.output_text.delta' || ev.type === 'response.function_call_arguments.delta') t.output.push(ev.delta ?? '');
        if (ev.type === 'response.completed' || ev.type === 'response.incomplete' || ev.type === 'response.failed') {
          t.complete = true;
          if (ev.response?.usage) t.usage = fromResponses(ev.response.usage);
        }
        if (ev.type === 'error') t.upstreamError = ev.message ?? 'upstream error';
      }
      return f.raw;
    },
    end: () => (t.complete || t.upstreamError ? '' : fail('The model provider ended the stream early')),
    fail,
  };
  return t;
}

/** Anthropic events → OpenAI chat chunks */
export function anthropicToOpenai(model: string, includeUsage: boolean): StreamTranslator {
  const id = `chatcmpl-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const created = nowSeconds();
  const chunk = (delta: Json, finish: string | null = null) =>
    sseData({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }], ...(includeUsage ? { usage: null } : {}) });
  let usage: Json = {};
  let tool = -1;
  const blockTool = new Map<number, number>();
  let stop: string | null = null;
  const t: StreamTranslator = {
    usage: null, output: [], complete: false, upstreamError: null,
    push(f) {
      const ev = parse(f.data);
      if (!ev) return '';
      switch (ev.type) {
        case 'message_start':
          usage = { ...ev.message?.usage };
          t.usage = fromAnthropic(usage);
          return chunk({ role: 'assistant', content: '' });
        case 'content_block_start':
          if (ev.content_block?.type === 'tool_use') {
            blockTool.set(ev.index, ++tool);
            return chunk({ tool_calls: [{ index: tool, id: ev.content_block.id, type: 'function', function: { name: ev.content_block.name, arguments: '' } }] });
          }
          return ev.content_block?.type === 'text' && ev.content_block.text ? chunk({ content: ev.content_block.text }) : '';
        case 'content_block_delta':
          if (ev.delta?.type === 'text_delta') return t.output.push(ev.delta.text), chunk({ content: ev.delta.text });
          if (ev.delta?.type === 'input_json_delta' && blockTool.has(ev.index)) {
            t.output.push(ev.delta.partial_json);
            return chunk({ tool_calls: [{ index: blockTool.get(ev.index), function: { arguments: ev.delta.partial_json } }] });
          }
          return '';
        case 'message_delta':
          usage = { ...usage, ...ev.usage };
          t.usage = fromAnthropic(usage);
          stop = ev.delta?.stop_reason ?? stop;
          return chunk({}, finishReason(stop));
        case 'message_stop': {
          t.complete = true;
          const tail = includeUsage && t.usage ? sseData({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: toOpenAI(t.usage) }) : '';
          return `${tail}data: [DONE]\n\n`;
        }
        case 'error':
          t.upstreamError = ev.error?.message ?? 'upstream error';
          return openaiFail(t.upstreamError!);
        default:
          return '';
      }
    },
    end: () => (t.complete || t.upstreamError ? '' : openaiFail('The model provider ended the stream early')),
    fail: openaiFail,
  };
  return t;
}

/** OpenAI chat chunks → Anthropic events (the usage chunk comes after finish_reason, so message_delta waits for it) */
export function openaiToAnthropic(model: string, inputEstimate: number): StreamTranslator {
  const id = `msg_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
  let started = false;
  let index = -1;
  let open: 'text' | number | null = null; // the open block: text, or the OpenAI tool index
  let finish: string | null = null;
  const begin = () => {
    if (started) return '';
    started = true;
    return sseEvent('message_start', { type: 'message_start', message: {
      id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null,
      usage: { input_tokens: inputEstimate, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    } });
  };
  const close = () => {
    if (open === null) return '';
    open = null;
    return sseEvent('content_block_stop', { type: 'content_block_stop', index });
  };
  const finishMessage = () => {
    t.complete = true;
    const u = t.usage ? toAnthropic(t.usage) : { output_tokens: 0 };
    return begin() + close()
      + sseEvent('message_delta', { type: 'message_delta', delta: { stop_reason: stopReason(finish), stop_sequence: null }, usage: u })
      + sseEvent('message_stop', { type: 'message_stop' });
  };
  const t: StreamTranslator = {
    usage: null, output: [], complete: false, upstreamError: null,
    push(f) {
      if (t.complete) return '';
      if (f.data === '[DONE]') return finish ? finishMessage() : '';
      const c = parse(f.data);
      if (!c) return '';
      if (c.error) return (t.upstreamError = c.error.message ?? 'upstream error'), begin() + anthropicFail(t.upstreamError!);
      if (c.usage) t.usage = fromOpenAI(c.usage);
      let out = begin();
      const choice = c.choices?.[0];
      const delta = choice?.delta ?? {};
      if (typeof delta.content === 'string' && delta.content) {
        if (open !== 'text') {
          out += close();
          open = 'text';
          out += sseEvent('content_block_start', { type: 'content_block_start', index: ++index, content_block: { type: 'text', text: '' } });
        }
        t.output.push(delta.content);
        out += sseEvent('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: delta.content } });
      }
      for (const call of delta.tool_calls ?? []) {
        const k = call.index ?? 0;
        if (open !== k) {
          out += close();
          open = k;
          out += sseEvent('content_block_start', { type: 'content_block_start', index: ++index, content_block: { type: 'tool_use', id: call.id ?? `toolu_${index}`, name: call.function?.name ?? '', input: {} } });
        }
        const args = call.function?.arguments;
        if (args) {
          t.output.push(args);
          out += sseEvent('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: args } });
        }
      }
      if (choice?.finish_reason) finish = choice.finish_reason;
      // the usage-only chunk (choices: []) closes the message; without include_usage [DONE] does
      if (finish && c.usage && (!c.choices || c.choices.length === 0)) out += finishMessage();
      return out;
    },
    end: () => (t.complete || t.upstreamError ? '' : finish ? finishMessage() : begin() + anthropicFail('The model provider ended the stream early')),
    fail: (message) => begin() + anthropicFail(message),
  };
  return t;
}
