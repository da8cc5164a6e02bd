// Request bodies between the two wire formats (OpenAI Chat Completions ⇄ Anthropic Messages), for a model of
// one format called through the other's endpoint. Fields with no counterpart are dropped; what cannot be
// expressed at all (n > 1, unparsable tool arguments) is a 400.
import { aiErrors } from '../errors.js';

type Json = Record<string, any>;

/** Anthropic ids must match ^[a-zA-Z0-9_-]+$; the same mapping is applied to a call and its result. */
const toolId = (id: unknown) => String(id ?? 'call').replace(/[^a-zA-Z0-9_-]/g, '_');

const textOfParts = (content: unknown): string =>
  typeof content === 'string' ? content : Array.isArray(content) ? content.map((p) => (p?.type === 'text' ? p.text ?? '' : '')).join('') : '';

function imageBlock(url: string): Json {
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  return m ? { type: 'image', source: { type: 'base64', media_type: m[1], data: m[2] } } : { type: 'image', source: { type: 'url', url } };
}

function anthropicBlocks(content: unknown): Json[] | string {
  if (typeof content === 'string' || content == null) return content ?? '';
  return (content as Json[]).flatMap((p): Json[] => {
    if (p.type === 'text') return [{ type: 'text', text: p.text ?? '' }];
    if (p.type === 'image_url') return [imageBlock(typeof p.image_url === 'string' ? p.image_url : p.image_url?.url ?? '')];
    return [];
  });
}

function toolChoiceToAnthropic(choice: unknown, parallel: unknown): Json | undefined {
  let out: Json | undefined;
  if (choice === 'auto') out = { type: 'auto' };
  else if (choice === 'required') out = { type: 'any' };
  else if (choice === 'none') out = { type: 'none' };
  else if (choice && typeof choice === 'object' && (choice as Json).function?.name) out = { type: 'tool', name: (choice as Json).function.name };
  if (parallel === false) out = { ...(out ?? { type: 'auto' }), disable_parallel_tool_use: true };
  return out;
}

function assistantToAnthropic(m: Json): Json {
  const blocks: Json[] = [];
  const text = textOfParts(m.content);
  if (text) blocks.push({ type: 'text', text });
  for (const call of m.tool_calls ?? []) {
    let input: unknown;
    try {
      input = call.function?.arguments ? JSON.parse(call.function.arguments) : {};
    } catch {
      throw aiErrors.invalidRequest(`messages: the arguments of tool call ${call.id} are not valid JSON`);
    }
    blocks.push({ type: 'tool_use', id: toolId(call.id), name: call.function?.name, input });
  }
  return { role: 'assistant', content: blocks.length ? blocks : '' };
}

/** OpenAI chat request → Anthropic Messages request */
export function chatToMessages(body: Json, model: string, defaultMaxTokens: number): Json {
  if (typeof body.n === 'number' && body.n > 1) throw aiErrors.unsupported('n > 1 is not supported by this model');
  const system: Json[] = [];
  const messages: Json[] = [];
  const pushUser = (content: Json[] | string) => {
    const last = messages.at(-1);
    if (last?.role === 'user' && Array.isArray(last.content)) {
      last.content.push(...(typeof content === 'string' ? [{ type: 'text', text: content }] : content));
    } else messages.push({ role: 'user', content });
  };
  for (const m of body.messages as Json[]) {
    if (m.role === 'system' || m.role === 'developer') system.push({ type: 'text', text: textOfParts(m.content) });
    else if (m.role === 'user') pushUser(anthropicBlocks(m.content));
    else if (m.role === 'assistant') messages.push(assistantToAnthropic(m));
    else if (m.role === 'tool') {
      // consecutive tool results become one user turn of tool_result blocks, first in that turn
      const block = { type: 'tool_result', tool_use_id: toolId(m.tool_call_id), content: typeof m.content === 'string' ? m.content : anthropicBlocks(m.content) };
      const last = messages.at(-1);
      if (last?.role === 'user' && Array.isArray(last.content) && last.content.every((b: Json) => b.type === 'tool_result')) last.content.push(block);
      else messages.push({ role: 'user', content: [block] });
    }
  }
  const out: Json = { model, messages, max_tokens: body.max_completion_tokens ?? body.max_tokens ?? defaultMaxTokens };
  const format = body.response_format;
  if (format?.type === 'json_object') system.push({ type: 'text', text: 'Respond with a single JSON object and nothing else.' });
  if (format?.type === 'json_schema' && format.json_schema?.schema) out.output_config = { format: { type: 'json_schema', schema: format.json_schema.schema } };
  if (system.length) out.system = system;
  if (typeof body.temperature === 'number') out.temperature = Math.min(1, body.temperature);
  if (typeof body.top_p === 'number') out.top_p = body.top_p;
  if (body.stop != null) out.stop_sequences = Array.isArray(body.stop) ? body.stop : [body.stop];
  if (Array.isArray(body.tools) && body.tools.length) {
    out.tools = body.tools.filter((t: Json) => t.type === 'function').map((t: Json) => ({
      name: t.function.name,
      ...(t.function.description ? { description: t.function.description } : {}),
      input_schema: t.function.parameters ?? { type: 'object', properties: {} },
    }));
  }
  const choice = toolChoiceToAnthropic(body.tool_choice, body.parallel_tool_calls);
  if (choice && out.tools) out.tool_choice = choice;
  if (typeof body.user === 'string') out.metadata = { user_id: body.user };
  if (body.stream) out.stream = true;
  return out;
}

const blockText = (content: unknown): string =>
  typeof content === 'string' ? content : Array.isArray(content) ? content.map((b) => (b?.type === 'text' ? b.text ?? '' : '')).join('') : '';

function userParts(blocks: Json[]): Json[] {
  return blocks.flatMap((b): Json[] => {
    if (b.type === 'text') return [{ type: 'text', text: b.text ?? '' }];
    if (b.type === 'image' && b.source?.type === 'base64') return [{ type: 'image_url', image_url: { url: `data:${b.source.media_type};base64,${b.source.data}` } }];
    if (b.type === 'image' && b.source?.type === 'url') return [{ type: 'image_url', image_url: { url: b.source.url } }];
    return [];
  });
}

function toolChoiceToOpenai(choice: Json | undefined): { tool_choice?: unknown; parallel_tool_calls?: boolean } {
  if (!choice) return {};
  const map: Record<string, unknown> = { auto: 'auto', any: 'required', none: 'none' };
  const tool_choice = choice.type === 'tool' ? { type: 'function', function: { name: choice.name } } : map[choice.type];
  return { tool_choice, ...(choice.disable_parallel_tool_use ? { parallel_tool_calls: false } : {}) };
}

/** Anthropic Messages request → OpenAI chat request */
export function messagesToChat(body: Json, model: string, official: boolean): Json {
  const messages: Json[] = [];
  if (body.system) messages.push({ role: 'system', content: blockText(body.system) });
  for (const m of body.messages as Json[]) {
    if (typeof m.content === 'string') {
      messages.push({ role: m.role, content: m.content });
      continue;
    }
    const blocks = m.content as Json[];
    if (m.role === 'assistant') {
      const text = blocks.filter((b) => b.type === 'text').map((b) => b.text).join('');
      const calls = blocks.filter((b) => b.type === 'tool_use')
        .map((b) => ({ id: b.id, type: 'function', function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) } }));
      messages.push({ role: 'assistant', content: text || null, ...(calls.length ? { tool_calls: calls } : {}) });
      continue;
    }
    // tool results become role:tool messages; the rest of that user turn follows as a user message
    for (const b of blocks.filter((x) => x.type === 'tool_result')) {
      messages.push({ role: 'tool', tool_call_id: b.tool_use_id, content: typeof b.content === 'string' ? b.content : blockText(b.content) });
    }
    const parts = userParts(blocks.filter((x) => x.type !== 'tool_result'));
    if (parts.length) messages.push({ role: m.role === 'system' ? 'system' : 'user', content: parts.every((p) => p.type === 'text') ? parts.map((p) => p.text).join('') : parts });
  }
  const out: Json = { model, messages };
  out[official ? 'max_completion_tokens' : 'max_tokens'] = body.max_tokens;
  if (typeof body.temperature === 'number') out.temperature = body.temperature;
  if (typeof body.top_p === 'number') out.top_p = body.top_p;
  if (Array.isArray(body.stop_sequences) && body.stop_sequences.length) out.stop = body.stop_sequences;
  if (Array.isArray(body.tools) && body.tools.length) {
    out.tools = body.tools.filter((t: Json) => t.input_schema || !t.type || t.type === 'custom').map((t: Json) => ({
      type: 'function',
      function: { name: t.name, ...(t.description ? { description: t.description } : {}), parameters: t.input_schema ?? { type: 'object', properties: {} } },
    }));
    Object.assign(out, toolChoiceToOpenai(body.tool_choice));
  }
  const format = body.output_config?.format;
  if (format?.type === 'json_schema') out.response_format = { type: 'json_schema', json_schema: { name: 'output', schema: format.schema } };
  if (typeof body.metadata?.user_id === 'string') out.user = body.metadata.user_id;
  if (body.stream) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  return out;
}
