// Limits and accounting: requests per minute, daily tokens, monthly cost and allowed models per key; the
// service_role key and signed-in users (when the project allows them, with a daily budget); one usage row per
// request and the usage report (grouped, CSV); and project A's key never reaching project B's providers or usage.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, testEnv } from '@basalt/testkit';
import { aiProject, call, type AiProject } from './setup.js';

let a: AiProject;
let b: AiProject;
before(async () => {
  [a, b] = await Promise.all([aiProject('ai-limits-a'), aiProject('ai-limits-b')]);
});
after(async () => {
  await a?.close();
  await b?.close();
});

const chat = (key: string, model = 'gpt-4o-mini', extra: Record<string, string> = {}) =>
  call('/v1/chat/completions', { headers: { authorization: `Bearer ${key}`, ...extra }, body: { model, messages: [{ role: 'user', content: 'hi' }] } });
const newKey = (p: AiProject, limits: unknown) => p.manage<{ id: string; key: string }>('/keys', { json: { name: 'limited', limits } });

test('requests per minute: a 429 in the API\'s own shape with Retry-After', async () => {
  const k = await newKey(a, { requests_per_minute: 2 });
  const statuses: number[] = [];
  let limited: Awaited<ReturnType<typeof chat>> | undefined;
  for (let i = 0; i < 5; i++) {
    const r = await chat(k.key);
    statuses.push(r.status);
    if (r.status === 429) limited = r;
  }
  assert.ok(limited, `statuses ${statuses}`);
  assert.equal(limited.body.error.code, 'rate_limit_exceeded');
  const retry = Number(limited.headers.get('retry-after'));
  assert.ok(retry >= 1 && retry <= 60);
  const anth = await call('/v1/messages', { headers: { 'x-api-key': k.key, 'anthropic-version': '2023-06-01' }, body: { model: 'claude-sonnet-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] } });
  assert.equal(anth.status, 429);
  assert.equal(anth.body.error.type, 'rate_limit_error');
});

test('daily tokens and monthly cost: once spent, 429 with Retry-After and x-should-retry: false', async () => {
  const tokens = await newKey(a, { tokens_per_day: 10 });
  assert.equal((await chat(tokens.key)).status, 200);
  const over = (await eventually(async () => {
    const r = await chat(tokens.key);
    return r.status === 429 ? r : null;
  }))!;
  assert.equal(over.body.error.code, 'budget_exceeded');
  assert.equal(over.headers.get('x-should-retry'), 'false');
  assert.ok(Number(over.headers.get('retry-after')) > 0);

  const cost = await newKey(a, { cost_per_month_usd: 0.000001 });
  assert.equal((await chat(cost.key)).status, 200);
  const broke = await eventually(async () => ((await chat(cost.key)).status === 429 ? true : null));
  assert.ok(broke);
});

test('requests sent at once cannot spend past a budget: each reserves its prompt and max_tokens before it goes', async () => {
  // each request reserves its prompt's tokens and its max_tokens (100); the budget holds 5 of those, and the fake
  // answers a second late, so all 50 are in flight before any usage is known
  const k = await newKey(a, { tokens_per_day: 500 });
  const one = () => call('/v1/chat/completions', { headers: { authorization: `Bearer ${k.key}` }, body: { model: 'slow-ok', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] } });
  const replies = await Promise.all(Array.from({ length: 50 }, one));
  const admitted = replies.filter((r) => r.status === 200).length;
  assert.ok(admitted >= 4 && admitted <= 6, `${admitted} of 50 admitted against a budget for 5`);
  assert.ok(replies.every((r) => r.status === 200 || (r.status === 429 && r.body.error.code === 'budget_exceeded')), JSON.stringify(replies.map((r) => r.status)));
  // the real usage (18 tokens each) replaces the reservations: the budget has room again
  const after = await eventually(async () => ((await chat(k.key)).status === 200 ? true : null), 5_000, 100);
  assert.ok(after);
});

test('a request that fails upstream gives its reservation back', async () => {
  const k = await newKey(a, { tokens_per_day: 150 });
  for (let i = 0; i < 5; i++) {
    const r = await call('/v1/chat/completions', { headers: { authorization: `Bearer ${k.key}` }, body: { model: 'always-500', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] } });
    assert.equal(r.status, 502, `attempt ${i}`);
  }
  assert.equal((await chat(k.key)).status, 200, 'five failed requests of 100+ tokens each left the 150-token budget unspent');
});

test('allowed models: other models are refused and not listed', async () => {
  const k = await newKey(a, { allowed_models: ['gpt-*'] });
  assert.equal((await chat(k.key)).status, 200);
  const refused = await chat(k.key, 'claude-sonnet-4-5');
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error.code, 'model_not_allowed');
  const models = await call('/v1/models', { method: 'GET', headers: { authorization: `Bearer ${k.key}` } });
  assert.deepEqual(models.body.data.map((m: { id: string }) => m.id), ['gpt-4o-mini']);
});

test('the service_role key may call models; the anon key may not; users only when the project allows it', async () => {
  assert.equal((await chat(a.project.serviceKey)).status, 200);
  assert.equal((await chat(a.project.anonKey)).status, 403);
  const user = a.project.token({ sub: '11111111-1111-1111-1111-111111111111' });
  const off = await chat(user);
  assert.equal(off.status, 403);
  assert.match(off.body.error.message, /user_access/);
  await a.manage('/settings', { method: 'PUT', json: { user_access: { enabled: true, tokens_per_day: 30 } } });
  assert.equal((await chat(user)).status, 200);
  assert.equal((await chat(user)).status, 200);
  const spent = (await eventually(async () => {
    const r = await chat(user);
    return r.status === 429 ? r : null;
  }))!;
  assert.match(spent.body.error.message, /user's daily token budget/);
  const other = a.project.token({ sub: '22222222-2222-2222-2222-222222222222' });
  assert.equal((await chat(other)).status, 200, 'the budget is per user');
});

test('usage: one row per request with tokens, cost, latency and status; grouped totals and CSV', async () => {
  const k = await newKey(a, {});
  assert.equal((await chat(k.key)).status, 200);
  assert.equal((await chat(k.key, 'claude-sonnet-4-5')).status, 200);
  assert.equal((await chat(k.key, 'no-such-model')).status, 404);
  const rows = (await eventually(async () => {
    const r = await a.manage<{ data: any[] }>('/usage?limit=1000');
    const mine = r.data.filter((x) => x.key_id === k.id);
    return mine.length === 3 ? mine : null;
  }))!;
  const gpt = rows.find((r) => r.model === 'gpt-4o-mini')!;
  assert.equal(gpt.provider, 'oa');
  assert.equal(gpt.input_tokens, 11);
  assert.equal(gpt.output_tokens, 7);
  assert.equal(gpt.cached_tokens, 2);
  assert.ok(gpt.cost_usd > 0);
  assert.ok(gpt.latency_ms >= 0);
  assert.equal(gpt.status, 200);
  const claude = rows.find((r) => r.model === 'claude-sonnet-4-5')!;
  assert.equal(claude.input_tokens, 23);
  assert.equal(rows.find((r) => r.model === 'no-such-model')!.status, 404);

  const byModel = await a.manage<{ totals: any; data: any[] }>('/usage?group_by=model');
  assert.ok(byModel.totals.requests >= 3);
  assert.equal(byModel.data.reduce((n, g) => n + g.requests, 0), byModel.totals.requests);
  const byKey = await a.manage<{ data: any[] }>('/usage?group_by=key');
  assert.equal(byKey.data.find((g) => g.group === k.id)?.requests, 3);
  const byDay = await a.manage<{ data: any[] }>(`/usage?group_by=day&from=${new Date().toISOString().slice(0, 10)}`);
  assert.equal(byDay.data.length, 1);
  const csv = await a.manageRaw('/usage?group_by=model&format=csv', { token: testEnv().platformToken });
  assert.equal(csv.status, 200);
  assert.match(csv.body, /^group,requests,errors,input_tokens,output_tokens,cached_tokens,cost_usd\n/);
  assert.match(csv.body, /\ngpt-4o-mini,/);
  assert.equal((await a.manageRaw('/usage?from=yesterday', { token: testEnv().platformToken })).status, 400);
});

test('project isolation: A\'s key never reaches B\'s providers or usage', async () => {
  const bOnly = await b.manage('/providers', { json: { name: 'b-only', type: 'openai', base_url: `${b.openaiFake.url}/v1`, api_key: `sk-oa-${b.project.ref}` } });
  assert.equal(bOnly.name, 'b-only');
  const before = b.openaiFake.requests.length;
  assert.equal((await chat(a.key, 'b-only/gpt-4o-mini')).status, 404, 'A cannot name B\'s provider');
  assert.equal((await chat(b.key, 'b-only/gpt-4o-mini')).status, 200, 'B can');
  const viaB = await chat(a.key, 'gpt-4o-mini', {});
  assert.equal(viaB.status, 200);
  // A's key presented on B's path: the key carries its project, and the two must agree
  const crossed = await call(`/project/${b.project.ref}/v1/chat/completions`, { headers: { authorization: `Bearer ${a.key}` }, body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] } });
  assert.equal(crossed.status, 401);
  assert.ok(b.openaiFake.requests.slice(before).every((r) => r.headers.authorization === `Bearer sk-oa-${b.project.ref}`));
  assert.ok(a.openaiFake.requests.every((r) => r.headers.authorization === `Bearer sk-oa-${a.project.ref}`));

  await eventually(async () => (await b.manage<{ data: any[] }>('/usage?limit=1000')).data.length > 0);
  const bUsage = await b.manage<{ data: any[] }>('/usage?limit=1000');
  const aKeys = new Set((await a.manage<{ id: string }[]>('/keys')).map((k) => k.id));
  assert.ok(bUsage.data.every((r) => !aKeys.has(r.key_id)));
  // and A's owner cannot read or change B's AI settings
  assert.equal((await b.manageRaw('/keys', { token: a.project.serviceKey })).status, 401);
  assert.equal((await b.manageRaw('/usage', { token: a.project.serviceKey })).status, 401);
});
