// The OpenAI-format endpoints with the unmodified `openai` client: chat completions (plain, streamed, tools,
// JSON mode, include_usage), embeddings (base64 by default), models, the Responses API, bad input, and an upstream
// no request can choose.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { fakeOpenAI } from './fakes.js';
import { aiProject, call, type AiProject } from './setup.js';

let p: AiProject;
before(async () => {
  p = await aiProject('ai-openai');
});
after(() => p?.close());

test('chat completion: the provider sees its own key and the routed model; the caller gets its answer and usage', async () => {
  const r = await p.openai().chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'hello there' }] });
  assert.equal(r.choices[0].message.content, 'echo: hello there');
  assert.equal(r.usage?.prompt_tokens, 11);
  assert.ok(r._request_id);
  const seen = p.openaiFake.requests.at(-1)!;
  assert.equal(seen.body.model, 'gpt-4o-mini');
  assert.equal(seen.headers.authorization, `Bearer sk-oa-${p.project.ref}`);
  assert.ok(!JSON.stringify(seen.headers).includes(p.key), 'the AI key never reaches the provider');
});

test('streamed chat: chunks arrive in order, no usage chunk unless asked, one with include_usage', async () => {
  const stream = await p.openai().chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'stream me' }] });
  let text = '';
  let usageChunks = 0;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    if (chunk.usage) usageChunks++;
  }
  assert.equal(text, 'echo: stream me');
  assert.equal(usageChunks, 0);
  assert.equal(p.openaiFake.requests.at(-1)!.body.stream_options.include_usage, true, 'usage is always asked of the provider');

  const withUsage = await p.openai().chat.completions.create({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'x' }] });
  let usage: OpenAI.CompletionUsage | undefined | null;
  for await (const chunk of withUsage) usage = chunk.usage ?? usage;
  assert.equal(usage?.completion_tokens, 7);
});

test('tool calls, plain and streamed (the stream helper assembles them)', async () => {
  const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
  const r = await p.openai().chat.completions.create({ model: 'gpt-4o-mini', tools, messages: [{ role: 'user', content: 'weather?' }] });
  assert.equal(r.choices[0].finish_reason, 'tool_calls');
  const tc = r.choices[0].message.tool_calls?.[0];
  assert.equal(tc?.type === 'function' && tc.function.name, 'weather');
  const final = await p.openai().chat.completions.stream({ model: 'gpt-4o-mini', tools, messages: [{ role: 'user', content: 'weather?' }] }).finalChatCompletion();
  const fc = final.choices[0].message.tool_calls![0];
  assert.deepEqual(fc.type === 'function' && JSON.parse(fc.function.arguments), { city: 'Paris' });
});

test('embeddings: the client asks for base64 and gets its floats back; float arrays when asked', async () => {
  const r = await p.openai().embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
  assert.deepEqual(r.data[1].embedding, [0.5, -1.25, 1.125]);
  const floats = await call('/v1/embeddings', { headers: { authorization: `Bearer ${p.key}` }, body: { model: 'text-embedding-3-small', input: 'a', encoding_format: 'float' } });
  assert.deepEqual(floats.body.data[0].embedding, [0.5, -1.25, 0.125]);
});

test('models: the routes that are not globs, aliases included; retrieve and 404', async () => {
  const list = await p.openai().models.list();
  const ids = list.data.map((m) => m.id);
  assert.ok(ids.includes('fast') && ids.includes('gpt-4o-mini') && !ids.includes('claude-*'));
  assert.equal((await p.openai().models.retrieve('claude-3-haiku')).id, 'claude-3-haiku');
  await assert.rejects(p.openai().models.retrieve('nope'), (e: any) => e.status === 404 && e.code === 'model_not_found');
});

test('Responses API: passthrough, plain and streamed through the SDK helper', async () => {
  const r = await p.openai().responses.create({ model: 'gpt-4o-mini', input: 'hi' });
  assert.equal(r.output_text, 'echo: hi');
  const s = p.openai().responses.stream({ model: 'gpt-4o-mini', input: 'hey' });
  const final = await s.finalResponse();
  assert.equal(final.output_text, 'echo: hey');
  assert.equal(final.usage?.output_tokens, 4);
});

test('bad input: unknown model, missing, invalid and revoked keys, malformed JSON, oversize body, a missing field', async () => {
  await assert.rejects(p.openai().chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
    (e: any) => e instanceof OpenAI.NotFoundError && e.code === 'model_not_found');
  const missing = await call('/v1/chat/completions', { body: { model: 'fast', messages: [{ role: 'user', content: 'x' }] } });
  assert.equal(missing.status, 401);
  assert.equal(missing.body.error.code, 'missing_api_key');
  await assert.rejects(p.openai('bsk_notarealkey').chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'x' }] }),
    (e: any) => e instanceof OpenAI.AuthenticationError);
  const bad = await call('/v1/chat/completions', { headers: { authorization: `Bearer ${p.key}` }, body: '{"model": "fast", "messages": [' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'invalid_json');
  const big = await call('/v1/chat/completions', { headers: { authorization: `Bearer ${p.key}` }, body: JSON.stringify({ model: 'fast', messages: [{ role: 'user', content: 'x'.repeat(11 * 1024 * 1024) }] }) });
  assert.equal(big.status, 413);
  assert.ok(big.body.error.message);
  const noMessages = await call('/v1/chat/completions', { headers: { authorization: `Bearer ${p.key}` }, body: { model: 'fast' } });
  assert.equal(noMessages.status, 400);
  assert.match(noMessages.body.error.message, /messages/);

  const k = await p.manage<{ id: string; key: string }>('/keys', { json: { name: 'short-lived' } });
  assert.equal((await p.openai(k.key).chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'x' }] })).choices[0].message.content, 'echo: x');
  await p.manage(`/keys/${k.id}`, { method: 'DELETE' });
  await assert.rejects(p.openai(k.key).chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'x' }] }),
    (e: any) => e.status === 401 && /revoked/.test(e.message));
});

test('the upstream is the project\'s provider only: base URLs in the body or headers go nowhere, a URL as the model is unknown, and the provider key never comes back', async () => {
  const elsewhere = await fakeOpenAI('sk-elsewhere');
  try {
    const base = `${elsewhere.url}/v1`;
    const sent = p.openaiFake.requests.length;
    const r = await call('/v1/chat/completions', {
      headers: { authorization: `Bearer ${p.key}`, 'x-api-base': base, 'x-base-url': base, 'openai-base-url': base },
      body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], api_base: base, base_url: base, endpoint: `${base}/chat/completions`, api_key: 'sk-elsewhere' },
    });
    assert.equal(r.status, 200);
    assert.equal(p.openaiFake.requests.length, sent + 1, 'the configured provider answered');
    assert.equal(p.openaiFake.requests.at(-1)!.headers.authorization, `Bearer sk-oa-${p.project.ref}`);
    const asModel = await call('/v1/chat/completions', { headers: { authorization: `Bearer ${p.key}` }, body: { model: `${base}/chat/completions`, messages: [{ role: 'user', content: 'hi' }] } });
    assert.equal(asModel.status, 404);
    assert.equal(asModel.body.error.code, 'model_not_found');
    assert.equal(elsewhere.requests.length, 0, 'nothing went to the other server');
    for (const reply of [r, asModel]) {
      assert.ok(!reply.text.includes(`sk-oa-${p.project.ref}`) && ![...reply.headers.values()].some((v) => v.includes('sk-oa-')), 'the provider key is not in the reply');
    }
  } finally {
    await elsewhere.close();
  }
});
