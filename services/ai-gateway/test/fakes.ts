// Fake model providers for the tests, on 127.0.0.77 (the test fleet's egress allow-list): an OpenAI-format one
// (chat completions, embeddings, responses; SSE as OpenAI writes it) and an Anthropic one (messages, count_tokens;
// named SSE events). What they do is chosen by the model name: `fail-500`, `fail-429`, `hang`, `slow-ok`, `garbage`,
// `cut` (the stream dies after its first frames), `flaky-500` (500 once, then fine); anything else answers
// "echo: <last user text>", or calls the first tool when tools are given and no tool result came back yet.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
}

export interface Fake {
  url: string;
  requests: Recorded[];
  /** requests whose connection closed before the fake answered */
  aborted: () => number;
  close: () => Promise<void>;
}

type Handler = (req: Recorded, res: ServerResponse, count: number) => void;

async function serve(key: string, authOf: (h: IncomingMessage['headers']) => string | undefined, handle: Handler, unauthorized: () => unknown): Promise<Fake> {
  const requests: Recorded[] = [];
  const seen = new Map<string, number>();
  let aborted = 0;
  const server = createServer((req, res) => {
    res.on('close', () => {
      if (!res.writableEnded) aborted++;
    });
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body: any = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
      } catch { /* recorded as {} */ }
      const rec = { path: req.url ?? '', headers: req.headers, body };
      requests.push(rec);
      if (authOf(req.headers) !== key) return json(res, 401, unauthorized());
      const n = (seen.get(String(body.model)) ?? 0) + 1;
      seen.set(String(body.model), n);
      handle(rec, res, n);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.77', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.77:${port}`,
    requests,
    aborted: () => aborted,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function failModes(model: string, res: ServerResponse, count: number, error: (m: string) => unknown): boolean {
  if (model === 'fail-500' || (model === 'flaky-500' && count === 1)) return json(res, 500, error('upstream exploded')), true;
  if (model === 'fail-429') return json(res, 429, error('slow down'), { 'retry-after': '1' }), true;
  if (model === 'hang') return true; // never answers
  if (model === 'garbage') {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html>oops</html>');
    return true;
  }
  return false;
}

const lastUserText = (messages: any[]): string => {
  const m = [...messages].reverse().find((x) => x.role === 'user');
  if (!m) return '';
  if (typeof m.content === 'string') return m.content;
  return m.content.filter((p: any) => p.type === 'text').map((p: any) => p.text).join('');
};

const sse = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });

// ---- OpenAI ----

function openaiChat(req: Recorded, res: ServerResponse, late = false) {
  const b = req.body;
  // `slow-ok` answers as any model does, a second late: requests sent together are all in flight at once
  if (b.model === 'slow-ok' && !late) return void setTimeout(() => openaiChat(req, res, true), 1_000);
  const id = 'chatcmpl-fake1';
  const last = b.messages.at(-1);
  const callTool = Array.isArray(b.tools) && b.tools.length > 0 && last.role !== 'tool';
  const text = last.role === 'tool' ? `result: ${last.content}` : `echo: ${lastUserText(b.messages)}`;
  const usage = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18, prompt_tokens_details: { cached_tokens: 2 } };
  const call = { id: 'call_abc.1', type: 'function', function: { name: b.tools?.[0]?.function?.name, arguments: '{"city":"Paris"}' } };
  if (!b.stream) {
    const message = callTool ? { role: 'assistant', content: null, tool_calls: [call] } : { role: 'assistant', content: text, refusal: null };
    return json(res, 200, { id, object: 'chat.completion', created: 1, model: b.model, choices: [{ index: 0, message, finish_reason: callTool ? 'tool_calls' : 'stop', logprobs: null }], usage });
  }
  sse(res);
  const withUsage = b.stream_options?.include_usage === true;
  const chunk = (delta: any, finish: string | null = null) =>
    res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 1, model: b.model, choices: [{ index: 0, delta, finish_reason: finish }], ...(withUsage ? { usage: null } : {}) })}\n\n`);
  chunk({ role: 'assistant', content: '' });
  if (callTool) {
    chunk({ tool_calls: [{ index: 0, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }] });
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] });
    chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] });
  } else {
    for (const piece of text.match(/.{1,4}/gs) ?? []) chunk({ content: piece });
  }
  if (b.model === 'cut') return void setTimeout(() => res.destroy(), 50);
  chunk({}, callTool ? 'tool_calls' : 'stop');
  if (withUsage) res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 1, model: b.model, choices: [], usage })}\n\n`);
  res.end('data: [DONE]\n\n');
}

function openaiEmbeddings(req: Recorded, res: ServerResponse) {
  const inputs = Array.isArray(req.body.input) ? req.body.input : [req.body.input];
  const data = inputs.map((_: unknown, index: number) => {
    const vec = [0.5, -1.25, index + 0.125];
    return { object: 'embedding', index, embedding: req.body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vec).buffer).toString('base64') : vec };
  });
  json(res, 200, { object: 'list', data, model: req.body.model, usage: { prompt_tokens: 5, total_tokens: 5 } });
}

function openaiResponses(req: Recorded, res: ServerResponse) {
  const b = req.body;
  const text = `echo: ${typeof b.input === 'string' ? b.input : 'items'}`;
  const usage = { input_tokens: 9, input_tokens_details: { cached_tokens: 0 }, output_tokens: 4, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 13 };
  const item = { type: 'message', id: 'msg_r1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text, annotations: [] }] };
  const response = (status: string, output: unknown[], u: unknown) => ({ id: 'resp_1', object: 'response', created_at: 1, status, model: b.model, output, usage: u, error: null, incomplete_details: null, instructions: null, tools: [], tool_choice: 'auto', parallel_tool_calls: true, temperature: 1, top_p: 1, metadata: {}, text: { format: { type: 'text' } } });
  if (!b.stream) return json(res, 200, response('completed', [item], usage));
  sse(res);
  let seq = 0;
  const ev = (type: string, data: object) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`);
  ev('response.created', { response: response('in_progress', [], null) });
  ev('response.in_progress', { response: response('in_progress', [], null) });
  ev('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', content: [] } });
  ev('response.content_part.added', { item_id: 'msg_r1', output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
  ev('response.output_text.delta', { item_id: 'msg_r1', output_index: 0, content_index: 0, delta: text, logprobs: [] });
  ev('response.output_text.done', { item_id: 'msg_r1', output_index: 0, content_index: 0, text, logprobs: [] });
  ev('response.content_part.done', { item_id: 'msg_r1', output_index: 0, content_index: 0, part: { type: 'output_text', text, annotations: [] } });
  ev('response.output_item.done', { output_index: 0, item });
  ev('response.completed', { response: response('completed', [item], usage) });
  res.end();
}

export function fakeOpenAI(key: string): Promise<Fake> {
  const error = (message: string) => ({ error: { message, type: 'server_error', param: null, code: null } });
  return serve(key, (h) => h.authorization?.replace(/^Bearer /, ''), (req, res, n) => {
    if (failModes(String(req.body.model), res, n, error)) return;
    if (req.path === '/v1/chat/completions') return openaiChat(req, res);
    if (req.path === '/v1/embeddings') return openaiEmbeddings(req, res);
    if (req.path === '/v1/responses') return openaiResponses(req, res);
    json(res, 404, error(`no route ${req.path}`));
  }, () => ({ error: { message: 'Incorrect API key provided', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }));
}

// ---- Anthropic ----

function anthropicMessages(req: Recorded, res: ServerResponse) {
  const b = req.body;
  const last = b.messages.at(-1);
  const results = Array.isArray(last.content) ? last.content.filter((x: any) => x.type === 'tool_result') : [];
  const callTool = Array.isArray(b.tools) && b.tools.length > 0 && results.length === 0;
  const text = results.length ? `result: ${typeof results[0].content === 'string' ? results[0].content : JSON.stringify(results[0].content)}` : `echo: ${lastUserText(b.messages)}`;
  const usage = { input_tokens: 20, output_tokens: 6, cache_read_input_tokens: 3, cache_creation_input_tokens: 0 };
  const tool = { type: 'tool_use', id: 'toolu_01', name: b.tools?.[0]?.name, input: { city: 'Paris' } };
  if (!b.stream) {
    const content = callTool ? [{ type: 'text', text: 'Let me check.' }, tool] : [{ type: 'text', text }];
    return json(res, 200, { id: 'msg_fake1', type: 'message', role: 'assistant', model: b.model, content, stop_reason: callTool ? 'tool_use' : 'end_turn', stop_sequence: null, usage });
  }
  sse(res);
  const ev = (type: string, data: object) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  ev('message_start', { message: { id: 'msg_fake1', type: 'message', role: 'assistant', model: b.model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } });
  ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
  ev('ping', {});
  for (const piece of (callTool ? 'Let me check.' : text).match(/.{1,4}/gs) ?? []) ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: piece } });
  if (b.model === 'cut') return void setTimeout(() => res.destroy(), 50);
  ev('content_block_stop', { index: 0 });
  if (callTool) {
    ev('content_block_start', { index: 1, content_block: { ...tool, input: {} } });
    ev('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{"city":' } });
    ev('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '"Paris"}' } });
    ev('content_block_stop', { index: 1 });
  }
  ev('message_delta', { delta: { stop_reason: callTool ? 'tool_use' : 'end_turn', stop_sequence: null }, usage: { output_tokens: 6 } });
  ev('message_stop', {});
  res.end();
}

export function fakeAnthropic(key: string): Promise<Fake> {
  const error = (message: string) => ({ type: 'error', error: { type: 'api_error', message } });
  return serve(key, (h) => h['x-api-key'] as string | undefined, (req, res, n) => {
    if (!req.headers['anthropic-version']) return json(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'anthropic-version header is required' } });
    if (failModes(String(req.body.model), res, n, error)) return;
    if (req.path === '/v1/messages') {
      if (typeof req.body.max_tokens !== 'number') return json(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } });
      return anthropicMessages(req, res);
    }
    if (req.path === '/v1/messages/count_tokens') return json(res, 200, { input_tokens: 42 });
    json(res, 404, error(`no route ${req.path}`));
  }, () => ({ type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } }));
}
