// A provider a tenant points its base URL at may be any server it controls: answers that once ended the process,
// grew its memory without bound, stopped metering for every project or handed an SDK an error it would retry.
// The gateway under test is a process of its own, started here, so what would end it ends only it; the provider
// is a raw TCP server speaking (or mis-speaking) HTTP/1.1, its behaviour chosen by the model name.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createProject, eventually, platform, testEnv, type TestProject } from '@basalt/testkit';

// one event-stream frame or one non-streamed answer may hold this much (AI_MAX_RESPONSE_BYTES of the process below)
const MAX_RESPONSE = 1024 * 1024;

type Behaviour = (socket: net.Socket, body: any) => void;

const sse = 'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n';
const chunk = (data: string | Buffer) => `${Buffer.byteLength(data).toString(16)}\r\n${data}\r\n`;
const jsonAnswer = (status: number, body: unknown, headers = '') => {
  const text = JSON.stringify(body);
  return `HTTP/1.1 ${status} X\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\n${headers}\r\n${text}`;
};
const completion = (usage: unknown) => ({
  id: 'chatcmpl-h', object: 'chat.completion', created: 1, model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'fine', refusal: null }, finish_reason: 'stop', logprobs: null }], usage,
});

/** writes `piece` until `total` bytes went out or the gateway closed the connection; resolves with what was sent */
function flood(socket: net.Socket, piece: Buffer, total: number): Promise<number> {
  return new Promise((resolve) => {
    let sent = 0;
    const more = () => {
      while (sent < total && !socket.destroyed) {
        sent += piece.length;
        if (!socket.write(piece)) return void socket.once('drain', more);
      }
      resolve(sent);
    };
    socket.on('close', () => resolve(sent));
    more();
  });
}

const floods: Promise<number>[] = [];

const BEHAVIOURS: Record<string, Behaviour> = {
  // interim answers only, a megabyte of them in one write
  'continue-flood': (s) => void s.write('HTTP/1.1 100 Continue\r\n\r\n'.repeat(40_000)),
  'garbage-status': (s) => void s.end('XYZZY nonsense\r\ncontent-length: 2\r\n\r\nhi'),
  // an event stream whose first line never ends (64 MB, then silence with the connection open)
  'endless-line': (s) => {
    s.write(`${sse}${chunk('data: ')}`);
    floods.push(flood(s, Buffer.from(chunk('x'.repeat(64 * 1024))), 64 * 1024 * 1024));
  },
  // a JSON answer that never ends, sent chunked
  'endless-json': (s) => {
    s.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n${chunk('{"choices":[{"message":{"content":"')}`);
    floods.push(flood(s, Buffer.from(chunk('y'.repeat(64 * 1024))), 64 * 1024 * 1024));
  },
  // one chunk announced as 2^64 - 1 bytes, then bytes until the gateway stops reading
  'lying-chunk': (s) => {
    s.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nffffffffffffffff\r\n');
    floods.push(flood(s, Buffer.alloc(64 * 1024, 'z'), 64 * 1024 * 1024));
  },
  'huge-usage': (s) => void s.end(jsonAnswer(200, completion({ prompt_tokens: 1e300, completion_tokens: 5e18, total_tokens: 1e300 }))),
  'null-answer': (s) => void s.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 4\r\n\r\nnull'),
  'retry-forever': (s) => void s.end(jsonAnswer(429, { error: { message: 'slow down' } }, 'retry-after: 99999999\r\n')),
  'retry-control': (s) => void s.end(jsonAnswer(429, { error: { message: 'slow down' } }, 'retry-after: 1\x01\r\n')),
  ok: (s) => void s.end(jsonAnswer(200, completion({ prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 }))),
};

/** Reads one request (head and content-length body) and hands it to the behaviour its model names. */
async function hostileProvider(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket)).on('error', () => undefined);
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(buf.toString('latin1', 0, end))?.[1] ?? 0);
      if (buf.length < end + 4 + length) return;
      socket.off('data', onData);
      const body = JSON.parse(buf.toString('utf8', end + 4, end + 4 + length));
      (BEHAVIOURS[body.model] ?? BEHAVIOURS.ok)(socket, body);
    };
    socket.on('data', onData);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.77', r));
  return {
    url: `http://127.0.0.77:${(server.address() as net.AddressInfo).port}/v1`,
    close: () => new Promise((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** an AI gateway process of this file's own (a crash it provokes ends nothing else) */
async function ownGateway(): Promise<{ url: string; alive: () => Promise<boolean>; stop: () => Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../src/main.ts', import.meta.url))], {
    env: {
      ...process.env, ...testEnv().fleetEnv, PORT: String(port), LOG_LEVEL: 'error', AI_TOKENIZER: 'estimate',
      AI_MAX_RESPONSE_BYTES: String(MAX_RESPONSE), AI_UPSTREAM_RETRIES: '0', AI_USAGE_FLUSH_MS: '50', METERING_FLUSH_INTERVAL_MS: '100',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  await eventually(async () => (await fetch(`${url}/health`).catch(() => null))?.ok, 30_000, 100);
  return {
    url,
    alive: async () => !exited() && ((await fetch(`${url}/health`).catch(() => null))?.ok ?? false),
    stop: async () => {
      if (exited()) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

let gw: Awaited<ReturnType<typeof ownGateway>>;
let provider: Awaited<ReturnType<typeof hostileProvider>>;
let project: TestProject;
let key: string;
const control = new pg.Pool({ connectionString: testEnv().databaseUrl, max: 2 });

before(async () => {
  [gw, provider, project] = await Promise.all([ownGateway(), hostileProvider(), createProject('ai-hostile')]);
  const manage = (path: string, init: { method?: string; json: unknown }) =>
    platform(`/projects/${project.ref}/ai${path}`, { method: init.method ?? 'POST', json: init.json });
  await manage('/providers', { json: { name: 'evil', type: 'openai_compatible', base_url: provider.url, timeout_ms: 3_000 } });
  await manage('/routes', { method: 'PUT', json: { routes: [{ model: '*', provider: 'evil' }] } });
  key = ((await manage('/keys', { json: { name: 'hostile' } })) as { key: string }).key;
});
after(async () => {
  await gw?.stop();
  await provider?.close();
  await control.end();
});

async function chat(model: string, extra: Record<string, unknown> = {}) {
  const r = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...extra }),
  });
  const text = await r.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch { /* an event stream */ }
  return { status: r.status, headers: r.headers, body, text };
}

test('a megabyte of 100 Continue answers in one read fails the call, not the process', async () => {
  const r = await chat('continue-flood');
  assert.ok(r.status === 502 || r.status === 504, `status ${r.status}`);
  assert.ok(await gw.alive(), 'the gateway is still up');
});

test('a status line that is not HTTP is a 502 in OpenAI\'s shape', async () => {
  const r = await chat('garbage-status');
  assert.equal(r.status, 502);
  assert.equal(typeof r.body.error.message, 'string');
  assert.ok(await gw.alive());
});

test('an event-stream line that never ends is cut at the frame limit: a 502 the SDK must not retry', async () => {
  const r = await chat('endless-line', { stream: true });
  assert.equal(r.status, 502);
  assert.equal(r.body.error.code, 'upstream_invalid');
  assert.equal(r.headers.get('x-should-retry'), 'false');
  assert.ok((await floods.at(-1)!) < 64 * 1024 * 1024, 'the gateway hung up long before the provider was done');
  assert.ok(await gw.alive());
});

test('a non-streamed answer past the size limit, or a chunk size that lies, is a 502 and the connection is dropped', async () => {
  for (const model of ['endless-json', 'lying-chunk']) {
    const r = await chat(model);
    assert.equal(r.status, 502, model);
    assert.equal(r.body.error.code, 'upstream_invalid', model);
    assert.match(r.body.error.message, /larger than/, model);
    assert.ok((await floods.at(-1)!) < 64 * 1024 * 1024, model);
  }
  assert.ok(await gw.alive());
});

test('a JSON answer that is not an object is a 502 the SDK must not retry, not a 500', async () => {
  const r = await chat('null-answer');
  assert.equal(r.status, 502);
  assert.equal(r.body.error.code, 'upstream_invalid');
  assert.equal(r.headers.get('x-should-retry'), 'false');
});

test('a provider\'s Retry-After reaches the client only as a small number of seconds', async () => {
  const forever = await chat('retry-forever');
  assert.equal(forever.status, 429);
  assert.ok(Number(forever.headers.get('retry-after')) <= 60, `retry-after ${forever.headers.get('retry-after')}`);
  const odd = await chat('retry-control');
  assert.equal(odd.status, 429);
  assert.equal(odd.body.error.message, 'slow down');
  assert.ok(await gw.alive());
});

test('absurd token counts are recorded (bounded), and metering goes on for every project', async () => {
  const tag = randomUUID();
  assert.equal((await chat('huge-usage', { user: tag })).status, 200);
  assert.equal((await chat('ok', { user: tag })).status, 200);
  const rows = (await eventually(async () => {
    const { rows: found } = await control.query('select model, input_tokens, output_tokens from platform.ai_usage where ref = $1', [project.ref]);
    return found.some((x) => x.model === 'huge-usage') && found.some((x) => x.model === 'ok') ? found : null;
  }, 10_000))!;
  const huge = rows.find((x) => x.model === 'huge-usage')!;
  assert.ok(huge.input_tokens > 0 && huge.output_tokens > 0);
  // the process's metering batch (every project's counts) is written, not refused for ever
  await eventually(async () => {
    const { rows: m } = await control.query(
      `select value from platform.usage_hourly where ref = $1 and service = 'ai-gateway' and metric = 'ai_requests'`, [project.ref]);
    return Number(m[0]?.value ?? 0) >= 2;
  }, 10_000);
});
