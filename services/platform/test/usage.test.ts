// Metering end to end: known work through the gateway with the real clients (supabase-js REST, storage, functions
// and realtime; the openai client against a local fake upstream; the mem0ai client), then the usage API's totals
// must match that work exactly. The fleet flushes counters every 300 ms and samples levels every second in tests;
// the test polls until the totals appear, never sleeps a fixed time.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import pg from 'pg';
import { createClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { createProject, eventually, platform, supabaseClient, testEnv, type TestProject } from '@basalt/testkit';

let p: TestProject;
let other: TestProject;
let fake: Server;
const UPLOAD = Buffer.alloc(12_345, 7);
const REST_CALLS = 5;

/** What the clients saw: REST requests made and response body bytes received. */
const seen = { restRequests: 0, restBytes: 0, aiInput: 0, aiOutput: 0 };

before(async () => {
  [p, other] = await Promise.all([createProject('usage'), createProject('usage-other')]);
  // a fake OpenAI upstream on the test fleet's egress allow-list, with fixed token counts
  fake = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({
        id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'gpt-4o-mini',
        choices: [{ index: 0, message: { role: 'assistant', content: 'metered' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
      }));
    });
  });
  await new Promise<void>((r) => fake.listen(0, '127.0.0.77', r));
});

after(async () => {
  await new Promise((r) => fake.close(r));
});

type Report = { totals: Record<string, number>; rows: { service: string; metric: string; value: number; period?: string; ref?: string }[] };
const usage = (ref: string, query = '') => platform<Report>(`/projects/${ref}/usage${query}`);
const valueOf = (r: Report, service: string, metric: string) =>
  r.rows.filter((x) => x.service === service && x.metric === metric).reduce((n, x) => n + x.value, 0);

async function doKnownWork(): Promise<void> {
  await p.sql(`create table items (id int primary key, title text);
    create policy read_all on items for select to anon using (true);
    insert into items select g, 'item ' || g from generate_series(1, 20) g`);
  // REST through supabase-js, with a fetch that counts what came back (identity encoding: bytes as sent)
  const counting: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    seen.restRequests++;
    seen.restBytes += (await res.clone().arrayBuffer()).byteLength;
    return res;
  };
  const rest = createClient(p.url, p.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false }, global: { fetch: counting, headers: { 'accept-encoding': 'identity' } },
    realtime: { transport: WebSocket as never }, // Node 20 has no global WebSocket; realtime-js wants one at construction
  });
  for (let i = 0; i < REST_CALLS; i++) {
    const { data, error } = await rest.from('items').select('*').lte('id', 5 + i);
    assert.equal(error, null);
    assert.equal(data?.length, 5 + i);
  }

  const admin = supabaseClient(p, { key: p.serviceKey });
  assert.equal((await admin.storage.createBucket('files')).error, null);
  assert.equal((await admin.storage.from('files').upload('a.bin', UPLOAD, { contentType: 'application/octet-stream' })).error, null);

  await platform(`/projects/${p.ref}/functions`, { method: 'POST', json: { slug: 'hello', source: `Deno.serve(() => new Response('hi'))` } });
  const fn = await supabaseClient(p).functions.invoke('hello');
  assert.equal(fn.error, null);
  assert.equal(fn.data, 'hi');

  const ai = (path: string, method: string, json: unknown) => platform(`/projects/${p.ref}/ai${path}`, { method, json });
  const { port } = fake.address() as AddressInfo;
  await ai('/providers', 'POST', { name: 'oa', type: 'openai', base_url: `http://127.0.0.77:${port}/v1`, api_key: 'sk-fake' });
  await ai('/routes', 'PUT', { routes: [{ model: 'gpt-4o-mini', provider: 'oa' }] });
  const { key } = await ai('/keys', 'POST', { name: 'usage' }) as { key: string };
  const openai = new OpenAI({ apiKey: key, baseURL: `${testEnv().gatewayUrl}/v1`, maxRetries: 0 });
  const chat = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] });
  seen.aiInput = chat.usage!.prompt_tokens;
  seen.aiOutput = chat.usage!.completion_tokens;

  process.env.MEM0_TELEMETRY = 'false'; // read when mem0ai loads: no usage events to PostHog
  const { MemoryClient } = await import('mem0ai');
  const mem = new MemoryClient({ apiKey: p.serviceKey, host: p.url });
  const added = await mem.add([{ role: 'user', content: 'I drink green tea every morning' }], { userId: 'u1', infer: false } as never) as unknown as { results: unknown[] };
  assert.equal(added.results.length, 1);
  const found = await mem.search('green tea', { filters: { user_id: 'u1' } }) as unknown as { results: unknown[] };
  assert.equal(found.results.length, 1);

  const rt = supabaseClient(p);
  const got = new Promise<void>((resolve) => {
    const ch = rt.channel('room', { config: { broadcast: { self: true } } });
    ch.on('broadcast', { event: 'ping' }, () => resolve());
    ch.subscribe((status) => {
      if (status === 'SUBSCRIBED') void ch.send({ type: 'broadcast', event: 'ping', payload: { n: 1 } });
    });
  });
  await got;
  await rt.removeAllChannels();
  rt.realtime.disconnect();
}

test('usage totals match the work done through the gateway, module by module', async () => {
  await doKnownWork();
  const aiUsage = (await eventually(async () => {
    const r = await platform<{ totals: { requests: number; cost_usd: number } }>(`/projects/${p.ref}/ai/usage`);
    return r.totals.requests === 1 ? r : null;
  }, 30_000, 200))!;
  const expected = {
    'rest/requests': REST_CALLS, 'rest/egress_bytes': seen.restBytes,
    'storage/storage_bytes': UPLOAD.length, 'functions/fn_invocations': 1,
    'ai-gateway/requests': 1, 'ai-gateway/ai_requests': 1, 'ai-gateway/ai_input_tokens': seen.aiInput, 'ai-gateway/ai_output_tokens': seen.aiOutput,
    'ai-gateway/ai_tokens': seen.aiInput + seen.aiOutput, 'ai-gateway/ai_cost_micro_usd': Math.round(aiUsage.totals.cost_usd * 1e6),
    'memory/memory_adds': 1, 'memory/memory_searches': 1, 'realtime/realtime_messages': 1,
  };
  assert.equal(seen.restRequests, REST_CALLS);
  let last: Record<string, number> = {};
  const report = (await eventually(async () => {
    const r = await usage(p.ref, '?group_by=service');
    last = Object.fromEntries(Object.keys(expected).map((k) => [k, valueOf(r, ...(k.split('/') as [string, string]))]));
    // counted by the gateway as each answer ends, so they may land a flush after the services' own counters
    const atLeast = { 'memory/requests': 2, 'storage/requests': 2, 'functions/egress_bytes': 2 };
    for (const k of Object.keys(atLeast)) last[k] = valueOf(r, ...(k.split('/') as [string, string]));
    return Object.entries(expected).every(([k, v]) => last[k] === v) && Object.entries(atLeast).every(([k, v]) => last[k] >= v)
      && r.totals.db_bytes > 0 && r.totals.realtime_peak_connections >= 1 ? r : null;
  }, 60_000, 250).catch(() => assert.fail(`usage never matched: expected ${JSON.stringify(expected)} (the mem0 calls and storage requests`
    + ` named by their service), last seen ${JSON.stringify(last)}`)))!;

  assert.ok(report.totals.fn_duration_ms >= 0);
  assert.ok(report.totals.realtime_connections >= 1);
  // the database's size is sampled from the cluster: the same order as what Postgres reports now
  const control = new pg.Client({ connectionString: testEnv().databaseUrl });
  await control.connect();
  const { rows: [{ size }] } = await control.query<{ size: string }>(
    'select pg_database_size(db_name)::text as size from platform.projects where ref = $1', [p.ref]).finally(() => control.end());
  assert.ok(report.totals.db_bytes > Number(size) / 2 && report.totals.db_bytes < Number(size) * 2, `${report.totals.db_bytes} vs ${size}`);
  assert.equal(report.totals.requests, report.rows.filter((x) => x.metric === 'requests').reduce((n, x) => n + x.value, 0));
});

test('rows per hour and per day add up to the same totals; CSV exports the same rows', async () => {
  const byService = await usage(p.ref, '?group_by=service');
  for (const groupBy of ['hour', 'day']) {
    const r = await usage(p.ref, `?group_by=${groupBy}`);
    assert.equal(valueOf(r, 'rest', 'requests'), REST_CALLS, groupBy);
    // counters that nothing adds to any more (a level may be sampled again, a closing socket's bytes may still land)
    for (const m of ['fn_invocations', 'ai_tokens', 'memory_adds', 'memory_searches', 'realtime_messages']) assert.equal(r.totals[m], byService.totals[m], `${groupBy} ${m}`);
    for (const row of r.rows) assert.match(row.period!, groupBy === 'hour' ? /^\d{4}-\d{2}-\d{2}T\d{2}:00:00Z$/ : /^\d{4}-\d{2}-\d{2}$/);
  }
  // A row may still land between two reads (a closing socket's first bytes, flushed a few seconds later): the CSV
  // is compared with the report read right after it, until the two agree.
  let seen = '';
  const lines = (await eventually(async () => {
    const res = await fetch(`${testEnv().gatewayUrl}/platform/v1/projects/${p.ref}/usage?group_by=service&format=csv`, {
      headers: { authorization: `Bearer ${testEnv().platformToken}` },
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
    const csv = (await res.text()).trim().split('\n');
    const after = await usage(p.ref, '?group_by=service');
    seen = `${csv.length - 1} CSV rows, ${after.rows.length} in the report`;
    return csv.length - 1 === after.rows.length ? csv : null;
  }, 15_000, 500).catch(() => assert.fail(`the CSV never matched the report: ${seen}`)))!;
  assert.equal(lines[0], 'ref,service,metric,value');
  assert.ok(lines.includes(`${p.ref},rest,requests,${REST_CALLS}`), lines.join('\n'));
});

test('operators read every project; a scoped token reads only its own; bad input is a 400', async () => {
  const all = await platform<Report>('/usage?group_by=service');
  assert.equal(all.rows.find((x) => x.ref === p.ref && x.service === 'rest' && x.metric === 'requests')?.value, REST_CALLS);
  const { token } = await platform<{ token: string }>('/tokens', { method: 'POST', json: { name: 'usage-scoped', projects: [other.ref] } });
  const as = (path: string) => fetch(`${testEnv().gatewayUrl}/platform/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal((await as(`/projects/${p.ref}/usage`)).status, 403);
  assert.equal((await as('/usage')).status, 403);
  const own = await as(`/projects/${other.ref}/usage?group_by=service`);
  assert.equal(own.status, 200);
  const body = await own.json() as Report;
  assert.equal(valueOf(body, 'rest', 'requests'), 0, 'project A\'s traffic is not project B\'s');

  for (const [query, message] of [
    ['?from=yesterday', /ISO 8601/], ['?from=2026-13-45T00:00:00Z', /not a valid time/], ['?group_by=week', /group_by/],
    ['?from=2026-02-01&to=2026-01-01', /earlier/], ['?from=2020-01-01&to=2026-01-01', /at most/], ['?limit=0', /limit/],
  ] as const) {
    const r = await fetch(`${testEnv().gatewayUrl}/platform/v1/projects/${p.ref}/usage${query}`, { headers: { authorization: `Bearer ${testEnv().platformToken}` } });
    assert.equal(r.status, 400, query);
    const err = await r.json() as { code: string; message: string };
    assert.equal(err.code, 'validation_failed', query);
    assert.match(err.message, message, query);
  }
  const missing = await fetch(`${testEnv().gatewayUrl}/platform/v1/projects/zzzzzzzzzzzzzzzzzzzz/usage`, { headers: { authorization: `Bearer ${testEnv().platformToken}` } });
  assert.equal(missing.status, 404);
});
