// Progress and log notifications of long MCP tools (assets_upload, functions_deploy) with the SDK's own client:
// a call with a progressToken (the SDK sends one for `onprogress`) is answered on an SSE stream that carries
// notifications/progress (growing, with the total) and notifications/message before the result; a call without
// one stays a plain JSON answer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CallToolResultSchema, LoggingMessageNotificationSchema, type Progress } from '@modelcontextprotocol/sdk/types.js';
import { platform, testEnv } from '@basalt/testkit';
import { connectMcp, type Mcp } from './mcp-client.js';

const env = testEnv();
let mcp: Mcp;
let p: { ref: string };
const logs: string[] = [];

before(async () => {
  mcp = await connectMcp();
  mcp.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    logs.push(String(n.params.data));
  });
  p = await mcp.call('create_project', { name: 'mcp-progress' });
});
after(async () => {
  if (p) await platform(`/projects/${p.ref}?confirm=${p.ref}`, { method: 'DELETE' }).catch(() => undefined);
  await mcp?.close();
});

const callWithProgress = async (name: string, args: Record<string, unknown>) => {
  const seen: Progress[] = [];
  const result = await mcp.client.callTool({ name, arguments: args }, CallToolResultSchema, { onprogress: (n) => seen.push(n), timeout: 120_000 });
  return { result, seen, text: (result.content as { text: string }[]).map((c) => c.text).join('') };
};

test('assets_upload reports progress per batch, with the total, and logs each step', async (t) => {
  if (!env.services.storage) return t.skip('storage is not running');
  const files = Array.from({ length: 60 }, (_, i) => ({ path: `pages/p${i}.html`, content: `<p>${i}</p>` }));
  const { result, seen, text } = await callWithProgress('assets_upload', { ref: p.ref, files });
  assert.ok(!result.isError, text);
  assert.equal(JSON.parse(text).files.length, 60);
  assert.deepEqual(seen.map((n) => n.progress), [0, 25, 50, 60], 'one step per batch of 25');
  assert.ok(seen.every((n) => n.total === 60));
  assert.match(seen[seen.length - 1].message ?? '', /published pages\/p59\.html/);
  assert.ok(logs.includes('published 60/60 file(s)'), `log lines: ${logs.join(' | ')}`);
});

test('functions_deploy reports its start and its end', async (t) => {
  if (!env.services.functions) return t.skip('functions is not running');
  const { result, seen, text } = await callWithProgress('functions_deploy', { ref: p.ref, slug: 'hello', source: 'Deno.serve(() => new Response("hi"))' });
  assert.ok(!result.isError, text);
  assert.equal(JSON.parse(text).version, 1);
  assert.equal(seen[0].progress, 0);
  assert.deepEqual([seen[seen.length - 1].progress, seen[seen.length - 1].total], [2, 2]);
  assert.match(seen[seen.length - 1].message ?? '', /deployed hello version 1/);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i].progress > seen[i - 1].progress, 'progress only grows');
});

test('a failing call with a progressToken is still a tool error with the message', async (t) => {
  if (!env.services.storage) return t.skip('storage is not running');
  const { result, text } = await callWithProgress('assets_upload', { ref: p.ref, files: [{ path: '../etc/passwd', content: 'x' }] });
  assert.equal(result.isError, true);
  assert.match(text, /path/i);
});

test('only a call with a progressToken is answered as an SSE stream', async () => {
  const post = (meta?: Record<string, unknown>) => fetch(`${env.gatewayUrl}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${env.platformToken}`, 'content-type': 'application/json',
      accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'list_projects', arguments: {}, ...(meta ? { _meta: meta } : {}) } }),
  });
  const plain = await post();
  assert.match(plain.headers.get('content-type') ?? '', /application\/json/);
  assert.equal(((await plain.json()) as { id: number }).id, 1);
  const streamed = await post({ progressToken: 'tok-1' });
  assert.match(streamed.headers.get('content-type') ?? '', /text\/event-stream/);
  const body = await streamed.text();
  assert.match(body, /"id":1/);
});
