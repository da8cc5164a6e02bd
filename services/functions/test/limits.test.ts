// Per-invocation limits with the service's defaults: CPU time (the longest the function may hold its process's
// thread), request and response body size, subrequests (fetch) per invocation, and invocations of one project
// running at once. Wall time and memory are in functions.test.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProject, eventually, platform, testEnv, type TestProject } from '@basalt/testkit';

let p: TestProject;
let site: http.Server;
let siteUrl = '';
let siteHits = 0;
const env = testEnv().fleetEnv;
const cpuMs = Number(env.FUNCTIONS_CPU_MS ?? 2000);
const requestBytes = Number(env.FUNCTIONS_MAX_REQUEST_BYTES ?? 20 * 1024 * 1024);
const responseBytes = Number(env.FUNCTIONS_MAX_RESPONSE_BYTES ?? 100 * 1024 * 1024);
const subrequests = Number(env.FUNCTIONS_MAX_SUBREQUESTS ?? 50);
const concurrency = Number(env.FUNCTIONS_PROJECT_CONCURRENCY ?? 100);

before(async () => {
  p = await createProject('fn-limits');
  await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { settings: { rate_limit_rps: 100_000, functions: { rps: 100_000, function_rps: 100_000 } } } });
  site = http.createServer((_req, res) => {
    siteHits++;
    res.end('ok');
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.77', r));
  siteUrl = `http://127.0.0.77:${(site.address() as AddressInfo).port}/`;
});
after(() => new Promise((r) => site.close(r)));

const deploy = (slug: string, source: string) =>
  platform(`/projects/${p.ref}/functions`, { method: 'POST', json: { slug, source, verify_jwt: false, timeout_ms: 20_000 } });
const url = (slug: string) => `${p.url}/functions/v1/${slug}`;

test('CPU: holding the thread past the limit is a 546; the same work in slices that yield is not', async () => {
  await deploy('spin', `Deno.serve(async (req) => {
    const { ms, slices } = await req.json();
    for (let i = 0; i < slices; i++) { const end = Date.now() + ms; while (Date.now() < end) {} await new Promise((r) => setTimeout(r, 5)); }
    return new Response('done');
  })`);
  // the hog first, while the version is on probation in this project's own process: no other test's function
  // shares it (afterwards the version runs in quarantine)
  const started = Date.now();
  const hog = await fetch(url('spin'), { method: 'POST', body: JSON.stringify({ ms: 600_000, slices: 1 }) });
  assert.equal(hog.status, 546);
  assert.equal(hog.headers.get('x-relay-error'), 'true');
  assert.deepEqual(await hog.json(), { code: 'function_resource_limit', message: `Function exceeded its CPU time limit of ${cpuMs} ms` });
  assert.ok(Date.now() - started < 15_000, `killed after ${Date.now() - started} ms`);
  const [row] = await platform(`/projects/${p.ref}/functions/spin/logs`);
  assert.equal(row.status, 546);
  assert.match(row.error, /CPU/);
  const sliced = await fetch(url('spin'), { method: 'POST', body: JSON.stringify({ ms: Math.floor(cpuMs / 4), slices: 5 }) });
  assert.equal(sliced.status, 200, await sliced.text());
});

test('request body: a declared or streamed body over the limit is a 413; one at the limit arrives whole', async () => {
  // counts the bytes as they stream rather than buffering 20 MB with arrayBuffer(): the process's CPU is the
  // watchdog's measure, and on a loaded machine buffering a chunked upload once reached the 2 s limit (a 503
  // instead of the 413 this test is about)
  await deploy('echo-size', `Deno.serve(async (req) => { let n = 0; for await (const c of req.body) n += c.byteLength; return new Response(String(n)); })`);
  const atLimit = await fetch(url('echo-size'), { method: 'POST', body: new Uint8Array(requestBytes) });
  assert.equal(await atLimit.text(), String(requestBytes));
  const declared = await fetch(url('echo-size'), { method: 'POST', body: new Uint8Array(requestBytes + 1) });
  assert.equal(declared.status, 413);
  assert.equal(((await declared.json()) as { code: string }).code, 'payload_too_large');
  // chunked, no content-length: cut off once past the limit
  const chunk = new Uint8Array(1024 * 1024);
  let sent = 0;
  const stream = new ReadableStream({
    pull(c) {
      if (sent > requestBytes) return c.close();
      sent += chunk.length;
      c.enqueue(chunk);
    },
  });
  const streamed = await fetch(url('echo-size'), { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
  assert.equal(streamed.status, 413, await streamed.clone().text());
});

test('response body: a declared length over the limit is a 502 relay error; a streamed one is cut off', async () => {
  await deploy('big-out', `Deno.serve(async (req) => {
    const { declare, total } = await req.json();
    if (declare) { const { readable, writable } = new FixedLengthStream(total); const w = writable.getWriter(); w.write(new Uint8Array(16)).catch(() => {}); return new Response(readable); }
    const chunk = new Uint8Array(1024 * 1024); let sent = 0;
    return new Response(new ReadableStream({ pull(c) { if (sent >= total) return c.close(); sent += chunk.length; c.enqueue(chunk); } }));
  })`);
  // a declared length within the limit reaches the client as the function declared it
  const fits = await fetch(url('big-out'), { method: 'POST', body: JSON.stringify({ declare: true, total: 16 }) });
  assert.equal(fits.headers.get('content-length'), '16');
  assert.equal((await fits.arrayBuffer()).byteLength, 16);
  const declared = await fetch(url('big-out'), { method: 'POST', body: JSON.stringify({ declare: true, total: responseBytes + 1 }) });
  assert.equal(declared.status, 502);
  assert.equal(declared.headers.get('x-relay-error'), 'true');
  assert.equal(((await declared.json()) as { code: string }).code, 'response_too_large');
  const streamed = await fetch(url('big-out'), { method: 'POST', body: JSON.stringify({ declare: false, total: responseBytes + 4 * 1024 * 1024 }) });
  assert.equal(streamed.status, 200);
  let got = 0;
  await assert.rejects(async () => {
    for await (const c of streamed.body as unknown as AsyncIterable<Uint8Array>) got += c.length;
  });
  assert.ok(got <= responseBytes + 1024 * 1024, `received ${got} bytes`);
  const small = await fetch(url('big-out'), { method: 'POST', body: JSON.stringify({ declare: false, total: 3 * 1024 * 1024 }) });
  assert.equal((await small.arrayBuffer()).byteLength, 3 * 1024 * 1024);
});

test('subrequests: past the per-invocation count, fetch answers 429 subrequest_limit; the next invocation has its own', async () => {
  await deploy('fanout', `Deno.serve(async (req) => {
    const { url, n } = await req.json(); const statuses = [];
    for (let i = 0; i < n; i++) { const r = await fetch(url); statuses.push(r.status); if (r.status === 429) statuses.push((await r.json()).code); else await r.text(); }
    return Response.json(statuses);
  })`);
  siteHits = 0;
  const r = await fetch(url('fanout'), { method: 'POST', body: JSON.stringify({ url: siteUrl, n: subrequests + 2 }) });
  const statuses = (await r.json()) as (number | string)[];
  assert.deepEqual(statuses.slice(0, subrequests), Array(subrequests).fill(200));
  assert.deepEqual(statuses.slice(subrequests), [429, 'subrequest_limit', 429, 'subrequest_limit']);
  assert.equal(siteHits, subrequests);
  const again = (await (await fetch(url('fanout'), { method: 'POST', body: JSON.stringify({ url: siteUrl, n: 3 }) })).json()) as number[];
  assert.deepEqual(again, [200, 200, 200]);
});

test(`concurrency: past ${concurrency} invocations of one project at once, more are a 429`, async () => {
  await deploy('slow', `Deno.serve(async () => { await new Promise((r) => setTimeout(r, 10_000)); return new Response('slow'); })`);
  await deploy('quick', `Deno.serve(() => new Response('quick'))`);
  await fetch(url('slow'));
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const get = (slug: string) => new Promise<number>((resolve, reject) => {
    http.get(url(slug), { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
  let refused = 0;
  const slow = Array.from({ length: concurrency + 5 }, () => get('slow').then((s) => {
    if (s === 429) refused++;
    return s;
  }));
  // once the five over the limit have been refused, the other calls are all running (each for 10 s)
  await eventually(() => refused === 5, 8000, 20);
  const extra = await get('quick');
  const statuses = await Promise.all(slow);
  agent.destroy();
  assert.equal(statuses.filter((s) => s === 200).length, concurrency, statuses.join(','));
  assert.equal(statuses.filter((s) => s === 429).length, 5);
  assert.equal(extra, 429, 'the project is at its limit, whatever the function');
  assert.equal(await get('quick'), 200, 'and free again once they finish');
});
