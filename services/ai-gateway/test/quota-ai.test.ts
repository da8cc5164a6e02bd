// The plan's ai_tokens_per_day through the gateway with the real openai and @anthropic-ai/sdk clients: remaining
// tokens in OpenAI's x-ratelimit headers, then 429 naming the quota once the day's tokens (from the usage table)
// are spent, for every key of the project; a plan change lifts it without a restart.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { eventually, platform, testEnv } from '@basalt/testkit';
import { aiProject, type AiProject } from './setup.js';

const env = testEnv();
const plan = `t-ai-${randomBytes(4).toString('hex')}`;
let a: AiProject;

before(async () => {
  a = await aiProject('ai-quota');
  await platform(`/plans/${plan}`, { method: 'PUT', json: { quotas: { ai_tokens_per_day: 10 } } });
  await platform(`/projects/${a.project.ref}`, { method: 'PATCH', json: { plan } });
});

after(async () => {
  await platform(`/projects/${a.project.ref}`, { method: 'PATCH', json: { plan: 'unlimited' } }).catch(() => undefined);
  await fetch(`${env.gatewayUrl}/platform/v1/plans/${plan}`, { method: 'DELETE', headers: { authorization: `Bearer ${env.platformToken}` } });
  await a?.close();
});

const ask = (client: OpenAI) => client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });

test('ai_tokens_per_day: remaining tokens in headers, then 429 in OpenAI and Anthropic shapes naming the quota', async () => {
  const first = await ask(a.openai()).withResponse();
  assert.equal(first.response.headers.get('x-ratelimit-limit-tokens'), '10');
  assert.equal(first.response.headers.get('x-ratelimit-remaining-tokens'), '10');
  assert.ok(first.data.usage!.total_tokens > 10, 'one call spends more than the quota');

  const refused = await eventually(async () => {
    try {
      await ask(a.openai());
      return null;
    } catch (e) {
      return e instanceof OpenAI.APIError && e.status === 429 ? e : null;
    }
  }, 20_000, 100);
  assert.ok(refused instanceof OpenAI.RateLimitError);
  assert.equal(refused.code, 'ai_tokens_per_day');
  assert.equal(refused.type, 'rate_limit_error');
  assert.match(refused.message, /ai_tokens_per_day/);
  assert.equal(refused.headers?.get('x-should-retry'), 'false');
  assert.ok(Number(refused.headers?.get('retry-after')) > 0);

  // the quota is the project's: another key of the same project is refused too
  const other = await a.manage<{ key: string }>('/keys', { json: { name: 'second' } });
  await assert.rejects(ask(a.openai(other.key)), (e: unknown) => e instanceof OpenAI.APIError && e.code === 'ai_tokens_per_day');
  await assert.rejects(
    a.anthropic().messages.create({ model: 'claude-sonnet-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
    (e: unknown) => e instanceof Anthropic.RateLimitError && /ai_tokens_per_day/.test(e.message),
  );
  // listing models spends no tokens and still works
  assert.ok((await a.openai().models.list()).data.length > 0);
});

test('a plan change lifts the token quota at once', async () => {
  await platform(`/projects/${a.project.ref}`, { method: 'PATCH', json: { plan: 'unlimited' } });
  await eventually(async () => (await ask(a.openai())).choices.length > 0, 20_000, 100);
});
