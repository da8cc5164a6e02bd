// The Anthropic endpoints with the unmodified @anthropic-ai/sdk (1.x: Bearer auth, anthropic-version 2026-10-21)
// and raw x-api-key callers: messages (plain, streamed, tools, system), count_tokens, models, errors in
// Anthropic's shape; then both cross-format directions, streamed and with tool calls.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { aiProject, call, type AiProject } from './setup.js';

let p: AiProject;
before(async () => {
  p = await aiProject('ai-anthropic');
});
after(() => p?.close());

const weather: Anthropic.Tool = { name: 'weather', description: 'the weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } };

test('messages: system prompt and version reach the provider with its own key; usage comes back', async () => {
  const r = await p.anthropic().messages.create({ model: 'claude-sonnet-4-5', max_tokens: 100, system: 'be brief', messages: [{ role: 'user', content: 'hello' }] });
  assert.equal(r.content[0].type === 'text' && r.content[0].text, 'echo: hello');
  assert.equal(r.usage.input_tokens, 20);
  const seen = p.anthropicFake.requests.at(-1)!;
  assert.equal(seen.headers['x-api-key'], `sk-an-${p.project.ref}`);
  assert.equal(seen.headers['anthropic-version'], '2026-10-21', 'the caller\'s version is forwarded');
  assert.equal(seen.body.system, 'be brief');
  assert.equal(seen.headers.authorization, undefined);
});

test('a raw caller with x-api-key and the 2023-06-01 version', async () => {
  const r = await call('/v1/messages', { headers: { 'x-api-key': p.key, 'anthropic-version': '2023-06-01' }, body: { model: 'claude-3-haiku', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] } });
  assert.equal(r.status, 200);
  assert.equal(r.body.content[0].text, 'echo: hi');
  assert.ok(r.headers.get('request-id'));
  assert.equal(p.anthropicFake.requests.at(-1)!.body.model, 'claude-3-haiku', 'the glob route passes the name on');
});

test('streamed messages and tool use through the MessageStream helper', async () => {
  const text = await p.anthropic().messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'stream it' }] }).finalText();
  assert.equal(text, 'echo: stream it');
  const final = await p.anthropic().messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 100, tools: [weather], messages: [{ role: 'user', content: 'weather?' }] }).finalMessage();
  assert.equal(final.stop_reason, 'tool_use');
  const use = final.content.find((b) => b.type === 'tool_use');
  assert.deepEqual(use?.type === 'tool_use' && use.input, { city: 'Paris' });
  assert.equal(final.usage.output_tokens, 6);
});

test('count_tokens: asked of Anthropic providers, counted here for OpenAI-format models', async () => {
  const a = await p.anthropic().messages.countTokens({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'count me' }] });
  assert.equal(a.input_tokens, 42);
  const o = await p.anthropic().messages.countTokens({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'count me please, a few words' }] });
  assert.ok(o.input_tokens > 5 && o.input_tokens < 30, `${o.input_tokens}`);
});

test('models in Anthropic\'s shape (the SDK pages until has_more is false)', async () => {
  const ids: string[] = [];
  for await (const m of p.anthropic().models.list()) ids.push(m.id);
  assert.ok(ids.includes('claude-sonnet-4-5') && ids.includes('fast'));
  assert.equal((await p.anthropic().models.retrieve('fast')).type, 'model');
});

test('errors in Anthropic\'s shape: unknown model, bad key, missing max_tokens, malformed JSON', async () => {
  await assert.rejects(p.anthropic().messages.create({ model: 'nope', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
    (e: any) => e instanceof Anthropic.NotFoundError && e.type === 'not_found_error');
  await assert.rejects(p.anthropic('bsk_wrong').messages.create({ model: 'claude-sonnet-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
    (e: any) => e instanceof Anthropic.AuthenticationError && e.type === 'authentication_error');
  const noMax = await call('/v1/messages', { headers: { 'x-api-key': p.key, 'anthropic-version': '2023-06-01' }, body: { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'x' }] } });
  assert.equal(noMax.status, 400);
  assert.equal(noMax.body.type, 'error');
  assert.equal(noMax.body.error.type, 'invalid_request_error');
  const bad = await call('/v1/messages', { headers: { 'x-api-key': p.key, 'anthropic-version': '2023-06-01' }, body: '{"model":' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.type, 'invalid_request_error');
});

test('cross-format: a Claude model through /v1/chat/completions, plain, streamed and with tools', async () => {
  const oa = p.openai();
  const r = await oa.chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'system', content: 'sys' }, { role: 'user', content: 'hi claude' }] });
  assert.equal(r.choices[0].message.content, 'echo: hi claude');
  assert.equal(r.usage?.prompt_tokens, 23, 'input + cache reads');
  assert.equal(r.usage?.prompt_tokens_details?.cached_tokens, 3);
  const sent = p.anthropicFake.requests.at(-1)!.body;
  assert.deepEqual(sent.system, [{ type: 'text', text: 'sys' }]);
  assert.equal(sent.max_tokens, 4096);

  let text = '';
  for await (const c of await oa.chat.completions.create({ model: 'claude-sonnet-4-5', stream: true, messages: [{ role: 'user', content: 'streamy' }] })) text += c.choices[0]?.delta?.content ?? '';
  assert.equal(text, 'echo: streamy');

  const tools = [{ type: 'function' as const, function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
  const first = await oa.chat.completions.stream({ model: 'claude-sonnet-4-5', tools, messages: [{ role: 'user', content: 'weather?' }], stream_options: { include_usage: true } }).finalChatCompletion();
  const tc = first.choices[0].message.tool_calls![0];
  assert.equal(first.choices[0].finish_reason, 'tool_calls');
  assert.equal(tc.type === 'function' && tc.function.arguments, '{"city":"Paris"}');
  // the tool result goes back as a tool_result block, answered by the model
  const second = await oa.chat.completions.create({ model: 'claude-sonnet-4-5', tools, messages: [
    { role: 'user', content: 'weather?' }, first.choices[0].message as any, { role: 'tool', tool_call_id: tc.id, content: 'sunny' },
  ] });
  assert.equal(second.choices[0].message.content, 'result: sunny');
  const blocks = p.anthropicFake.requests.at(-1)!.body.messages;
  assert.equal(blocks[1].content.at(-1).type, 'tool_use');
  assert.deepEqual(blocks[2].content[0], { type: 'tool_result', tool_use_id: 'toolu_01', content: 'sunny' });
});

test('cross-format: an OpenAI-format model through /v1/messages, plain, streamed and with tools', async () => {
  const an = p.anthropic();
  const r = await an.messages.create({ model: 'gpt-4o-mini', max_tokens: 50, system: 'sys', messages: [{ role: 'user', content: 'hi gpt' }] });
  assert.equal(r.content[0].type === 'text' && r.content[0].text, 'echo: hi gpt');
  assert.equal(r.usage.input_tokens, 9, 'uncached prompt tokens');
  assert.equal(r.usage.cache_read_input_tokens, 2);
  const sent = p.openaiFake.requests.at(-1)!.body;
  assert.deepEqual(sent.messages[0], { role: 'system', content: 'sys' });
  assert.equal(sent.max_completion_tokens, 50);

  assert.equal(await an.messages.stream({ model: 'gpt-4o-mini', max_tokens: 50, messages: [{ role: 'user', content: 'flow' }] }).finalText(), 'echo: flow');

  const final = await an.messages.stream({ model: 'gpt-4o-mini', max_tokens: 50, tools: [weather], messages: [{ role: 'user', content: 'weather?' }] }).finalMessage();
  assert.equal(final.stop_reason, 'tool_use');
  const use = final.content.find((b) => b.type === 'tool_use')!;
  assert.deepEqual(use.type === 'tool_use' && use.input, { city: 'Paris' });
  assert.equal(final.usage.output_tokens, 7);
  const answer = await an.messages.create({ model: 'gpt-4o-mini', max_tokens: 50, tools: [weather], messages: [
    { role: 'user', content: 'weather?' }, { role: 'assistant', content: final.content },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.type === 'tool_use' ? use.id : '', content: 'rainy' }] },
  ] });
  assert.equal(answer.content[0].type === 'text' && answer.content[0].text, 'result: rainy');
  const msgs = p.openaiFake.requests.at(-1)!.body.messages;
  assert.equal(msgs[1].tool_calls[0].function.arguments, '{"city":"Paris"}');
  assert.deepEqual(msgs[2], { role: 'tool', tool_call_id: 'call_abc.1', content: 'rainy' });
});
