// MCP tools that call the other services through the gateway: settings, AI keys and usage, assets, functions,
// cron and memory — success and failure (each failure a tool error carrying the service's own message), and one
// project's tools never reaching another's data.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { platform, testEnv } from '@basalt/testkit';
import { connectMcp, type Mcp } from './mcp-client.js';

const env = testEnv();
let mcp: Mcp;
let a: { ref: string };
let b: { ref: string };

before(async () => {
  mcp = await connectMcp();
  a = await mcp.call('create_project', { name: 'mcp-services-a' });
  b = await mcp.call('create_project', { name: 'mcp-services-b' });
});
after(async () => {
  for (const p of [a, b]) if (p) await platform(`/projects/${p.ref}?confirm=${p.ref}`, { method: 'DELETE' }).catch(() => undefined);
  await mcp?.close();
});

test('update_project_settings merges a section and refuses unknown keys without writing', async () => {
  await mcp.call('update_project_settings', { ref: a.ref, settings: { auth: { otp_length: 8 } } });
  const p = await mcp.call('update_project_settings', { ref: a.ref, settings: { auth: { otp_exp: 600 } } });
  assert.equal(p.settings.auth.otp_length, 8, 'the earlier key of the section is kept');
  assert.equal(p.settings.auth.otp_exp, 600);
  assert.match(await mcp.fail('update_project_settings', { ref: a.ref, settings: { auth: { otp_lenght: 8 } } }), /otp_lenght/);
  assert.match(await mcp.fail('update_project_settings', { ref: a.ref, settings: { nope: true } }), /nope/);
  assert.deepEqual((await mcp.call('get_project', { ref: a.ref })).settings.auth, { otp_length: 8, otp_exp: 600 });
});

test('AI keys and usage', async (t) => {
  if (!env.services['ai-gateway']) return t.skip('ai-gateway is not running');
  const key = await mcp.call('ai_create_key', { ref: a.ref, name: 'agent' });
  assert.match(key.key, /^bsk_/);
  const keys = await mcp.call<any[]>('ai_list_keys', { ref: a.ref });
  assert.deepEqual(keys.map((k) => k.id), [key.id]);
  assert.ok(!JSON.stringify(keys).includes(key.key), 'the secret is shown once');
  assert.deepEqual(await mcp.call('ai_list_keys', { ref: b.ref }), [], 'project B sees none of A');
  const usage = await mcp.call('ai_usage', { ref: a.ref, group_by: 'model' });
  assert.equal(usage.group_by, 'model');
  assert.deepEqual(usage.data, []);
  assert.match(await mcp.fail('ai_usage', { ref: a.ref, from: 'yesterday-ish' }), /from/);
});

test('assets: upload many files (utf8 and base64), list them, bad input is a tool error', async () => {
  const r = await mcp.call('assets_upload', {
    ref: a.ref,
    files: [
      { path: 'index.html', content: '<h1>hi</h1>' },
      { path: 'img/dot.bin', content: Buffer.from([0, 1, 2, 255]).toString('base64'), encoding: 'base64' },
    ],
  });
  assert.deepEqual(r.files.map((f: any) => f.path).sort(), ['img/dot.bin', 'index.html']);
  const bin = r.files.find((f: any) => f.path === 'img/dot.bin');
  assert.deepEqual([...new Uint8Array(await (await fetch(bin.url)).arrayBuffer())], [0, 1, 2, 255]);
  assert.equal((await mcp.call('assets_list', { ref: a.ref })).files.length, 2);
  assert.equal((await mcp.call('assets_list', { ref: b.ref })).files.length, 0);
  assert.match(await mcp.fail('assets_upload', { ref: a.ref, files: [{ path: 'x.bin', content: '%%%', encoding: 'base64' }] }), /base64/);
  assert.match(await mcp.fail('assets_upload', { ref: a.ref, files: [{ path: '../etc/passwd', content: 'x' }] }), /path/i);
});

test('functions and cron: failures come back with the service message', async (t) => {
  if (!env.services.functions) return t.skip('functions is not running');
  assert.match(await mcp.fail('functions_deploy', { ref: a.ref, slug: 'x' }), /source or files/);
  assert.match(await mcp.fail('functions_logs', { ref: a.ref, slug: 'missing' }), /not found/i);
  assert.match(await mcp.fail('functions_secrets_set', { ref: a.ref, secrets: [{ name: 'SUPABASE_X', value: '1' }] }), /reserved/);
  await mcp.call('functions_deploy', { ref: a.ref, slug: 'echo', verify_jwt: false, source: 'Deno.serve((req) => new Response(req.method))' });
  assert.deepEqual((await mcp.call<any[]>('functions_list', { ref: a.ref })).map((f) => f.slug), ['echo']);
  assert.deepEqual(await mcp.call('functions_list', { ref: b.ref }), []);
  assert.deepEqual(await mcp.call('functions_invoke', { ref: a.ref, slug: 'echo', method: 'PUT' }), { status: 200, body: 'PUT' });
  assert.match(await mcp.fail('functions_invoke', { ref: b.ref, slug: 'echo' }), /404/);
  assert.match(await mcp.fail('functions_delete', { ref: b.ref, slug: 'echo' }), /not found/i, "B cannot delete A's function");
  assert.deepEqual(await mcp.call('functions_delete', { ref: a.ref, slug: 'echo' }), { slug: 'echo', deleted: true });
  assert.deepEqual(await mcp.call('functions_list', { ref: a.ref }), []);
  if (!env.services.scheduler) return;
  const job = await mcp.call('cron_create', { ref: a.ref, name: 'nightly', schedule: '0 3 * * *', target: { type: 'db_function', name: 'public.nothing' } });
  assert.match(await mcp.fail('cron_delete', { ref: b.ref, job_id: job.id }), /not found/i, "B cannot delete A's job");
  assert.deepEqual(await mcp.call('cron_delete', { ref: a.ref, job_id: job.id }), { id: job.id, deleted: true });
  assert.deepEqual(await mcp.call('cron_list', { ref: a.ref }), []);
  assert.match(await mcp.fail('cron_runs', { ref: a.ref, job_id: '00000000-0000-0000-0000-000000000000' }), /not found/i);
  assert.deepEqual(await mcp.call('cron_list', { ref: b.ref }), []);
});

test('get_logs: the auth outbox shows the email auth sent; cron log of another project is empty', async () => {
  const user = await mcp.call('auth_create_user', { ref: a.ref, email: 'outbox@mcp.test', password: 'outbox-pass-1' });
  const keys = await mcp.call('get_project_keys', { ref: a.ref });
  const r = await fetch(`${keys.url}/auth/v1/recover`, {
    method: 'POST', headers: { apikey: keys.anon_key, 'content-type': 'application/json' }, body: JSON.stringify({ email: user.email }),
  });
  assert.equal(r.status, 200, await r.text());
  const auth = await mcp.call('get_logs', { ref: a.ref, service: 'auth' });
  assert.equal(auth.service, 'auth');
  assert.ok(JSON.stringify(auth.entries).includes('outbox@mcp.test'), JSON.stringify(auth.entries).slice(0, 500));
  assert.deepEqual((await mcp.call('get_logs', { ref: b.ref, service: 'auth' })).entries, []);
  if (env.services.scheduler) assert.deepEqual((await mcp.call('get_logs', { ref: b.ref, service: 'cron' })).entries, []);
});

test('memory tools report the memory service answer as a tool error when it is down', async (t) => {
  if (env.services.memory) return t.skip('memory is running: covered by the next test');
  assert.match(await mcp.fail('memory_add', { ref: a.ref, user_id: 'u1', messages: [{ role: 'user', content: 'I like tea' }] }), /503|unavailable/i);
  assert.match(await mcp.fail('memory_search', { ref: a.ref, user_id: 'u1', query: 'tea' }), /503|unavailable/i);
});

/** An OpenAI-compatible embeddings upstream: a word-hash bag of words, so texts sharing words are near. */
async function fakeEmbeddings(): Promise<{ url: string; close: () => Promise<void> }> {
  const embed = (text: string) => {
    const v = new Array(32).fill(0);
    for (const w of text.toLowerCase().match(/[a-z]+/g) ?? []) v[[...w].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) % 32, 7)] += 1;
    const n = Math.hypot(...v) || 1;
    return v.map((x) => x / n);
  };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const input = JSON.parse(body || '{}').input;
      const texts: string[] = Array.isArray(input) ? input : [input];
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
        object: 'list', model: 'fake-embed', usage: { prompt_tokens: texts.length, total_tokens: texts.length },
        data: texts.map((x, index) => ({ object: 'embedding', index, embedding: embed(x) })),
      }));
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.77', ok));
  return { url: `http://127.0.0.77:${(server.address() as AddressInfo).port}`, close: () => new Promise((ok) => server.close(() => ok())) };
}

test('memory_add and memory_search through the mem0 API, per user and per project', async (t) => {
  if (!env.services.memory || !env.services['ai-gateway']) return t.skip('memory and ai-gateway are not running');
  const fake = await fakeEmbeddings();
  try {
    await platform(`/projects/${a.ref}/ai/providers`, { method: 'POST', json: { name: 'fake', type: 'openai', base_url: `${fake.url}/v1`, api_key: 'sk-fake' } });
    await platform(`/projects/${a.ref}/ai/routes`, { method: 'PUT', json: { routes: [{ model: 'mem-embed', provider: 'fake' }] } });
    await mcp.call('update_project_settings', { ref: a.ref, settings: { memory: { embedding_model: 'mem-embed' } } });
    const added = await mcp.call('memory_add', { ref: a.ref, user_id: 'alice', messages: [{ role: 'user', content: 'I drink green tea every morning' }] });
    assert.ok(JSON.stringify(added).includes('green tea'), JSON.stringify(added));
    await mcp.call('memory_add', { ref: a.ref, user_id: 'alice', messages: [{ role: 'user', content: 'My bicycle is red' }] });
    await mcp.call('memory_add', { ref: a.ref, user_id: 'bob', messages: [{ role: 'user', content: 'I drink black tea' }] });
    const found = await mcp.call('memory_search', { ref: a.ref, user_id: 'alice', query: 'what tea do I drink', top_k: 5 });
    const list = (Array.isArray(found) ? found : found.results) as { memory: string }[];
    assert.match(list[0].memory, /green tea/);
    assert.ok(!list.some((m) => /black tea/.test(m.memory)), "bob's memories stay his");
    const other = await mcp.call('memory_search', { ref: b.ref, user_id: 'alice', query: 'tea' }).catch((e: Error) => e.message);
    assert.ok(typeof other === 'string' || !JSON.stringify(other).includes('green tea'), 'project B sees none of A');
  } finally {
    await fake.close();
  }
});
