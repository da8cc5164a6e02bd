// bench/ai-gateway: the AI gateway's added cost over a fake OpenAI upstream called directly, in the same run.
// Non-streamed chat completion: p50 at one connection (added latency) and req/s at 64 connections (through the
// gateway and straight to the service, beside a minimal Node proxy as the ceiling any Node hop can reach here);
// streamed: time to first byte, sequential. Then checks that every request of the 64-connection runs left exactly
// one usage row.
// Writes bench/results/ai-gateway.json.   node --import tsx bench/ai-gateway/run.ts   (on demand, not in CI)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { benchFleet, requireTool, toMs, writeResults } from '../lib.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNS = 64;
const STREAM_SAMPLES = Number(process.env.BENCH_STREAM_SAMPLES ?? 300);
requireTool('wrk', 'wrk');

// The upstream, in its own process (wrk runs synchronously here): a fixed chat completion, or a short stream.
const FAKE_UPSTREAM = `
const usage = { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 };
const body = JSON.stringify({ id: 'chatcmpl-b', object: 'chat.completion', created: 1, model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the bench.' }, finish_reason: 'stop', logprobs: null }], usage });
const chunk = (delta, finish = null, u) => 'data: ' + JSON.stringify({ id: 'chatcmpl-b', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: u ? [] : [{ index: 0, delta, finish_reason: finish }], usage: u ?? null }) + '\\n\\n';
const server = require('node:http').createServer((req, res) => {
  const parts = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', () => {
    const stream = Buffer.concat(parts).includes('"stream":true');
    if (!stream) return res.writeHead(200, { 'content-type': 'application/json' }), res.end(body);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(chunk({ role: 'assistant', content: '' }));
    for (const w of ['Hello', ' from', ' the', ' bench.']) res.write(chunk({ content: w }));
    res.write(chunk({}, 'stop'));
    res.end(chunk(null, null, usage) + 'data: [DONE]\\n\\n');
  });
});
server.keepAliveTimeout = 65000;
server.listen(0, '127.0.0.77', () => console.log(server.address().port));`;

// The ceiling of any proxy written in Node on this machine: one node:http server that parses the body, swaps
// the model, forwards it over a keep-alive agent and relays the parsed answer; no auth, routing or usage.
const MINIMAL_PROXY = `
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true });
const [host, port] = [process.env.UP_HOST, Number(process.env.UP_PORT)];
const server = http.createServer((req, res) => {
  const parts = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(parts));
    body.model = 'gpt-4o-mini';
    const out = JSON.stringify(body);
    const up = http.request({ host, port, path: '/v1/chat/completions', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out), authorization: 'Bearer sk-bench' } }, (u) => {
      const got = [];
      u.on('data', (c) => got.push(c));
      u.on('end', () => { const text = JSON.stringify(JSON.parse(Buffer.concat(got))); res.writeHead(u.statusCode, { 'content-type': 'application/json' }); res.end(text); });
    });
    up.end(out);
  });
});
server.keepAliveTimeout = 65000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;

interface Run { rps: number; p50_ms: number; p99_ms: number; requests: number; errors: number }

function wrkPost(url: string, headers: Record<string, string>, body: unknown, connections: number, seconds: number): Run {
  const dir = mkdtempSync(join(tmpdir(), 'bench-ai-'));
  const script = join(dir, 'post.lua');
  const lines = [`wrk.method = "POST"`, `wrk.body = [[${JSON.stringify(body)}]]`, ...Object.entries({ 'content-type': 'application/json', ...headers }).map(([k, v]) => `wrk.headers["${k}"] = "${v}"`)];
  writeFileSync(script, lines.join('\n'));
  const out = execFileSync('wrk', ['-t', connections > 1 ? '2' : '1', '-c', String(connections), '-d', `${seconds}s`, '--latency', '-s', script, url], { encoding: 'utf8' });
  const pick = (re: RegExp) => re.exec(out)?.[1] ?? '';
  const sock = pick(/Socket errors: (.*)/);
  return {
    rps: Number(pick(/Requests\/sec:\s+([\d.]+)/)),
    p50_ms: toMs(pick(/\s50%\s+(\S+)/)),
    p99_ms: toMs(pick(/\s99%\s+(\S+)/)),
    requests: Number(pick(/(\d+) requests in/)),
    errors: Number(pick(/Non-2xx or 3xx responses: (\d+)/) || 0) + (sock ? sock.split(',').reduce((n, p) => n + Number(/\d+/.exec(p)?.[0] ?? 0), 0) : 0),
  };
}

/** sequential streamed requests: p50 of the time until the first content chunk's bytes arrive */
async function ttfb(url: string, headers: Record<string, string>, body: unknown, samples: number): Promise<{ p50_ms: number; p90_ms: number }> {
  const payload = JSON.stringify(body);
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    times.push(await new Promise<number>((resolve, reject) => {
      const t0 = performance.now();
      let first = 0;
      const req = request(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
        res.on('data', () => (first ||= performance.now() - t0));
        res.on('end', () => resolve(first));
      });
      req.on('error', reject);
      req.end(payload);
    }));
  }
  times.sort((a, b) => a - b);
  return { p50_ms: +times[Math.floor(samples / 2)].toFixed(3), p90_ms: +times[Math.floor(samples * 0.9)].toFixed(3) };
}

const fake = spawn(process.execPath, ['-e', FAKE_UPSTREAM], { stdio: ['ignore', 'pipe', 'inherit'] });
const fakePort = await new Promise<number>((resolve) => fake.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
const upstream = `http://127.0.0.77:${fakePort}/v1`;
const minimal = spawn(process.execPath, ['-e', MINIMAL_PROXY], { env: { ...process.env, UP_HOST: '127.0.0.77', UP_PORT: String(fakePort) }, stdio: ['ignore', 'pipe', 'inherit'] });
const minimalPort = await new Promise<number>((resolve) => minimal.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
const bench = await benchFleet('ai-gateway', ['platform', 'gateway', 'ai-gateway'], { BASALT_EGRESS_ALLOW: '127.0.0.77' });
const results: Record<string, unknown> = {};
try {
  const project = await bench.platform<{ ref: string }>('/projects', { name: 'bench-ai' });
  await bench.platform(`/projects/${project.ref}/ai/providers`, { name: 'fake', type: 'openai', base_url: upstream, api_key: 'sk-bench' });
  await bench.platform(`/projects/${project.ref}/ai/routes`, { routes: [{ model: 'bench', provider: 'fake', upstream_model: 'gpt-4o-mini' }] }, 'PUT');
  const { key } = await bench.platform<{ key: string }>(`/projects/${project.ref}/ai/keys`, { name: 'bench' });
  const chat = { model: 'bench', messages: [{ role: 'user', content: 'Say hello.' }] };
  const direct = { url: `${upstream}/chat/completions`, headers: { authorization: 'Bearer sk-bench' }, body: { ...chat, model: 'gpt-4o-mini' } };
  const viaMinimal = { url: `http://127.0.0.1:${minimalPort}/v1/chat/completions`, headers: {}, body: chat };
  const viaGateway = { url: `${bench.fleet.gatewayUrl}/v1/chat/completions`, headers: { authorization: `Bearer ${key}` }, body: chat };
  const viaService = { url: `${bench.fleet.urls['ai-gateway']}/v1/chat/completions`, headers: { authorization: `Bearer ${key}` }, body: chat };
  const warm = await fetch(viaGateway.url, { method: 'POST', headers: { ...viaGateway.headers, 'content-type': 'application/json' }, body: JSON.stringify(chat) });
  if (!warm.ok) throw new Error(`warm-up: ${warm.status} ${await warm.text()}`);
  for (const t of [direct, viaMinimal, viaService, viaGateway]) wrkPost(t.url, t.headers, t.body, CONNS, 2);

  results.latency1 = {
    direct: wrkPost(direct.url, direct.headers, direct.body, 1, SECONDS),
    service: wrkPost(viaService.url, viaService.headers, viaService.body, 1, SECONDS),
    gateway: wrkPost(viaGateway.url, viaGateway.headers, viaGateway.body, 1, SECONDS),
  };
  const control = new pg.Client({ connectionString: bench.databaseUrl });
  await control.connect();
  const rowsNow = async () => Number((await control.query('select count(*) from platform.ai_usage where ref = $1', [project.ref])).rows[0].count);
  const before = await rowsNow();
  const throughput = {
    direct: wrkPost(direct.url, direct.headers, direct.body, CONNS, SECONDS),
    minimal_proxy: wrkPost(viaMinimal.url, viaMinimal.headers, viaMinimal.body, CONNS, SECONDS),
    service: wrkPost(viaService.url, viaService.headers, viaService.body, CONNS, SECONDS),
    gateway: wrkPost(viaGateway.url, viaGateway.headers, viaGateway.body, CONNS, SECONDS),
  };
  await new Promise((r) => setTimeout(r, 2_000)); // the writer flushes every 250 ms
  const written = (await rowsNow()) - before;
  results.throughput64 = throughput;
  // wrk counts completed responses; requests still in flight when it stops are answered (and recorded) too
  results.usageRows = { responses: throughput.gateway.requests + throughput.service.requests, rows: written, lost: Math.max(0, throughput.gateway.requests + throughput.service.requests - written), extra_in_flight: Math.max(0, written - throughput.gateway.requests - throughput.service.requests) };
  await control.end();

  const stream = { ...chat, stream: true };
  results.ttfb = {
    direct: await ttfb(direct.url, direct.headers, { ...direct.body, stream: true }, STREAM_SAMPLES),
    service: await ttfb(viaService.url, viaService.headers, stream, STREAM_SAMPLES),
    gateway: await ttfb(viaGateway.url, viaGateway.headers, stream, STREAM_SAMPLES),
  };
  const l = results.latency1 as Record<string, Run>;
  const t = results.ttfb as Record<string, { p50_ms: number }>;
  const summary = {
    added_p50_ms_gateway: +(l.gateway.p50_ms - l.direct.p50_ms).toFixed(3),
    added_p50_ms_service: +(l.service.p50_ms - l.direct.p50_ms).toFixed(3),
    added_ttfb_p50_ms_gateway: +(t.gateway.p50_ms - t.direct.p50_ms).toFixed(3),
    added_ttfb_p50_ms_service: +(t.service.p50_ms - t.direct.p50_ms).toFixed(3),
    rps_ratio_64: +(throughput.gateway.rps / throughput.direct.rps).toFixed(3),
    rps_ratio_64_service: +(throughput.service.rps / throughput.direct.rps).toFixed(3),
    // what a Node proxy can reach at all here, and ours against it
    rps_ratio_64_minimal_proxy: +(throughput.minimal_proxy.rps / throughput.direct.rps).toFixed(3),
    rps_ratio_64_gateway_vs_minimal_proxy: +(throughput.gateway.rps / throughput.minimal_proxy.rps).toFixed(3),
    usage_rows_lost: (results.usageRows as { lost: number }).lost,
  };
  process.stderr.write(`${JSON.stringify({ results, summary }, null, 2)}\nwritten to ${writeResults('ai-gateway', { seconds: SECONDS, connections: CONNS, results, summary })}\n`);
} finally {
  await bench.stop();
  fake.kill();
  minimal.kill();
}
