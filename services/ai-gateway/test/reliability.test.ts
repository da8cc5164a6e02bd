// When providers fail: fallback on 500 and 429 (and a retry on the same provider), on a timeout (and no retry),
// a stream cut mid-way in both formats, a provider that hangs, one that answers garbage, and the error each caller
// sees.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import pg from 'pg';
import { eventually, testEnv } from '@basalt/testkit';
import { aiProject, call, type AiProject } from './setup.js';

let p: AiProject;
before(async () => {
  p = await aiProject('ai-reliability');
});
after(() => p?.close());

const ask = (model: string) => p.openai().chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
const calls = (fake: AiProject['openaiFake'], model: string) => fake.requests.filter((r) => r.body.model === model).length;

test('a 500 falls back to the next provider (here another format); a 429 to another provider', async () => {
  const r = await ask('fallback-500');
  assert.equal(r.choices[0].message.content, 'echo: hi');
  assert.equal(calls(p.openaiFake, 'fail-500'), 2, 'one retry on the failing provider first');
  assert.equal(p.anthropicFake.requests.at(-1)!.body.model, 'claude-sonnet-4-5');

  const before429 = calls(p.openaiFake, 'gpt-4o-mini');
  const s = await p.openai().chat.completions.create({ model: 'fallback-429', stream: true, messages: [{ role: 'user', content: 'again' }] });
  let text = '';
  for await (const c of s) text += c.choices[0]?.delta?.content ?? '';
  assert.equal(text, 'echo: again');
  assert.equal(calls(p.openaiFake, 'gpt-4o-mini'), before429 + 1);
});

test('a provider that timed out is not asked again: the route falls back to its next provider', async () => {
  const sent = calls(p.openaiFake, 'hang');
  assert.equal((await ask('fallback-hang')).choices[0].message.content, 'echo: hi');
  assert.equal(calls(p.openaiFake, 'hang'), sent + 1);
});

test('a transient 500 is retried on the same provider; a provider that keeps failing is a 502', async () => {
  assert.equal((await ask('flaky')).choices[0].message.content, 'echo: hi');
  await assert.rejects(ask('always-500'), (e: any) => e instanceof OpenAI.InternalServerError && e.status === 502 && /exploded/.test(e.message));
});

test('a stream cut mid-way ends with an error event in the caller\'s format, never a retry', async () => {
  const s = await p.openai().chat.completions.create({ model: 'cut', stream: true, messages: [{ role: 'user', content: 'longer text here' }] });
  let text = '';
  await assert.rejects(async () => {
    for await (const c of s) text += c.choices[0]?.delta?.content ?? '';
  }, (e: any) => /stream failed|ended the stream early/.test(e.message));
  assert.ok(text.startsWith('echo'), 'what arrived before the cut was passed on');
  assert.equal(calls(p.openaiFake, 'cut'), 1);

  const a = p.anthropic().messages.stream({ model: 'claude-cut', max_tokens: 10, messages: [{ role: 'user', content: 'cut me' }] });
  await assert.rejects(a.finalMessage(), (e: any) => e instanceof Anthropic.APIError || /stream/.test(e.message));
});

test('a hanging provider times out as a 504 the SDK must not retry, and is not asked again; garbage is a 502', async () => {
  const started = Date.now();
  const sent = calls(p.openaiFake, 'hang');
  const hang = await call('/v1/chat/completions', { headers: { authorization: `Bearer ${p.key}` }, body: { model: 'hang', messages: [{ role: 'user', content: 'x' }] } });
  assert.equal(hang.status, 504);
  assert.equal(hang.headers.get('x-should-retry'), 'false');
  assert.equal(hang.body.error.code, 'upstream_timeout');
  assert.ok(Date.now() - started < 5_000);
  // it may still be generating the answer it would bill: a second call would be billed too
  assert.equal(calls(p.openaiFake, 'hang'), sent + 1, 'one call to the provider that timed out');
  const garbage = await call('/v1/chat/completions', { headers: { authorization: `Bearer ${p.key}` }, body: { model: 'garbage', messages: [{ role: 'user', content: 'x' }] } });
  assert.equal(garbage.status, 502);
  assert.equal(garbage.body.error.code, 'upstream_invalid');
  const anth = await call('/v1/messages', { headers: { 'x-api-key': p.key, 'anthropic-version': '2023-06-01' }, body: { model: 'hang', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] } });
  assert.equal(anth.status, 504);
  assert.deepEqual(Object.keys(anth.body).sort(), ['error', 'request_id', 'type']);
  assert.equal(anth.body.error.type, 'timeout_error');
});

test('a client that goes away before a non-streamed answer is billed its prompt (499), not nothing', async () => {
  const db = new pg.Pool({ connectionString: testEnv().databaseUrl, max: 1 });
  try {
    const sent = calls(p.openaiFake, 'hang');
    const controller = new AbortController();
    const pending = p.openai().chat.completions.create({ model: 'hang-long', messages: [{ role: 'user', content: 'a prompt the provider read '.repeat(40) }] }, { signal: controller.signal, maxRetries: 0 });
    await eventually(() => calls(p.openaiFake, 'hang') > sent);
    controller.abort();
    await assert.rejects(pending);
    const row = await eventually(async () => {
      const { rows } = await db.query(`select status, input_tokens from platform.ai_usage where ref = $1 and status = 499 and not stream`, [p.project.ref]);
      return rows[0];
    }, 10_000);
    assert.ok(row.input_tokens > 100, JSON.stringify(row));
  } finally {
    await db.end();
  }
});

test('a client that goes away aborts the upstream call', async () => {
  const before = p.openaiFake.aborted();
  const sent = calls(p.openaiFake, 'hang');
  const controller = new AbortController();
  const pending = p.openai().chat.completions.create({ model: 'hang-long', stream: true, messages: [{ role: 'user', content: 'x' }] }, { signal: controller.signal });
  await eventually(() => calls(p.openaiFake, 'hang') > sent);
  controller.abort();
  await assert.rejects(pending);
  await eventually(() => p.openaiFake.aborted() > before, 3_000);
});
