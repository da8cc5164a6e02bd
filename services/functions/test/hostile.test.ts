// Hostile input from a tenant that controls both its code and its requests: headers the runtime itself uses,
// console output past what its log header holds, clients that walk away mid-invocation, outbound request bodies
// that never end. Each answers as Supabase Edge Functions would, and frees what the invocation held.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProject, eventually, platform, testEnv, type TestProject } from '@basalt/testkit';

let p: TestProject;
let site: http.Server;
let siteUrl = '';
/** bodies the stand-in public site received whole */
let siteBodies = 0;
/** the site answers /started once each function has begun its call */
const started = new Set<string>();

before(async () => {
  p = await createProject('fn-hostile');
  site = http.createServer((req, res) => {
    const name = new URL(req.url!, 'http://x').searchParams.get('started');
    if (name) started.add(name);
    req.on('end', () => {
      siteBodies++;
      res.end('ok');
    });
    req.resume();
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.77', r));
  siteUrl = `http://127.0.0.77:${(site.address() as AddressInfo).port}/`;
});
after(() => {
  site.closeAllConnections();
  return new Promise((r) => site.close(r));
});

const deploy = (slug: string, source: string, timeoutMs = 20_000) =>
  platform(`/projects/${p.ref}/functions`, { method: 'POST', json: { slug, source, verify_jwt: false, timeout_ms: timeoutMs } });
const url = (slug: string) => `${p.url}/functions/v1/${slug}`;

/** invocations in flight in this project's probation process (where every version runs until it has answered once) */
async function probationInflight(): Promise<number> {
  const text = await (await fetch(`${testEnv().services.functions}/metrics`)).text();
  const m = new RegExp(`^functions_workerd_inflight\\{[^}]*process="probation:${p.ref}"[^}]*\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

test('console output past what the log header holds: the response still goes out, the log is cut', async () => {
  await deploy('chatty', `Deno.serve(() => { console.log('é'.repeat(30000)); console.log('done'); return new Response('answered'); })`);
  const r = await fetch(url('chatty'));
  assert.equal(r.status, 200);
  assert.equal(await r.text(), 'answered');
  const [row] = await eventually(() => platform(`/projects/${p.ref}/functions/chatty/logs`).then((rows) => rows.length && rows), 5000);
  assert.equal(row.status, 200);
  assert.match(row.logs, /^\[log\] é+/);
});

test("a function cannot pass its own headers off as the runtime's relay error", async () => {
  await deploy('forger', `let n = 0; Deno.serve(() => new Response('count ' + ++n, { headers: { 'x-basalt-runtime-error': 'function_boot_failed', 'x-basalt-logs': '%E0%A4%A' } }))`);
  // taken for a boot failure, each call would be a 503 and have a fresh isolate loaded for the next
  for (let i = 0; i < 3; i++) {
    const r = await fetch(url('forger'));
    const body = await r.text();
    assert.equal(r.status, 200, body);
    assert.match(body, /^count \d+$/);
    assert.equal(r.headers.get('x-basalt-runtime-error'), null);
  }
});

test('a client that drops a streamed response frees the invocation', async () => {
  await deploy('firehose', `Deno.serve(() => new Response(new ReadableStream({
    async pull(c) { await new Promise((r) => setTimeout(r, 20)); c.enqueue(new TextEncoder().encode('tick\\n')); },
  })))`);
  const ctl = new AbortController();
  const r = await fetch(url('firehose'), { signal: ctl.signal });
  assert.equal(r.status, 200);
  const reader = r.body!.getReader();
  assert.ok((await reader.read()).value);
  ctl.abort();
  await reader.cancel().catch(() => undefined);
  await eventually(async () => (await probationInflight()) === 0, 10_000, 100);
});

test('a client that disconnects before the answer cancels the invocation', async () => {
  await deploy('sleeper', `Deno.serve(async () => {
    await fetch(${JSON.stringify(siteUrl)} + '?started=sleeper');
    await new Promise((r) => setTimeout(r, 120_000));
    return new Response('late');
  })`, 180_000);
  const ctl = new AbortController();
  const call = fetch(url('sleeper'), { signal: ctl.signal }).catch((e: Error) => e);
  await eventually(() => started.has('sleeper'), 10_000);
  ctl.abort();
  assert.ok((await call) instanceof Error);
  await eventually(async () => (await probationInflight()) === 0, 10_000, 100);
});

test('an outbound request body that never ends is cut off past the request limit, not buffered on', async () => {
  // buffered whole before it is sent, the body would grow the service's memory until the wall time; cut off,
  // the function's fetch fails at once
  await deploy('uploader', `Deno.serve(async () => {
    const chunk = new Uint8Array(256 * 1024);
    const body = new ReadableStream({ pull(c) { c.enqueue(chunk); } });
    try {
      const r = await fetch(${JSON.stringify(siteUrl)}, { method: 'POST', body, duplex: 'half' });
      return Response.json({ status: r.status });
    } catch (e) { return Response.json({ error: String(e) }); }
  })`, 60_000);
  const before = siteBodies;
  const r = await fetch(url('uploader'));
  assert.equal(r.status, 200, await r.clone().text());
  const out = (await r.json()) as { status?: number; error?: string };
  assert.ok(out.error !== undefined || out.status === 413, JSON.stringify(out));
  assert.equal(siteBodies, before, 'nothing reached the site');
});
