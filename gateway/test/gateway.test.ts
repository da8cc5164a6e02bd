// The gateway against a local echo upstream: routing by subdomain, path prefix and apikey; aliases;
// key checks like Kong's; x-basalt-* stripping; streaming; WebSocket upgrades; 503; rate limits; CORS.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort, waitForHealth } from '@basalt/fleet';
import { createProject, platform, rawHttp, testEnv, type TestProject } from '@basalt/testkit';
import { signJwt, hmacKey } from '@basalt/jwt';

const env = testEnv();
const METRICS_TOKEN = 'metrics-token-for-the-test';
const UPSTREAM_TIMEOUT_MS = 4_000;
const SLOW_MS = 6_000;
describe('gateway', () => {
  let echo: http.Server;
  let gateway: ChildProcess;
  let gw = '';
  let a: TestProject;
  let b: TestProject;

  interface Echoed {
    method: string;
    url: string;
    headers: Record<string, string>;
    body: string;
  }

  before(async () => {
    echo = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (req.url?.includes('/big')) {
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          return void res.end(Buffer.alloc(8 * 1024 * 1024, 7));
        }
        if (req.url?.includes('/slow')) {
          // answers after the gateway's UPSTREAM_TIMEOUT_MS (below), as a model's non-streamed answer or a function may
          return void setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"slow":true}'), SLOW_MS);
        }
        if (req.url?.includes('/stream')) {
          res.writeHead(200, { 'content-type': 'text/plain' });
          let n = 0;
          const timer = setInterval(() => {
            res.write(`chunk${n}\n`);
            if (++n === 3) {
              clearInterval(timer);
              res.end();
            }
          }, 20);
          return;
        }
        // a service echoes the request id, as every Fastify service does: the client must still see exactly one
        res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': 'https://evil.example', 'x-request-id': String(req.headers['x-request-id']) });
        res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }));
      });
    });
    echo.on('upgrade', (req, socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n');
      socket.write(`hello ${req.headers['x-basalt-ref']} ${req.url}`);
      socket.end();
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    const echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const port = await freePort();
    gateway = spawn(process.execPath, ['--import', 'tsx', 'gateway/src/main.ts'], {
      env: {
        ...process.env, ...env.fleetEnv, PORT: String(port), LOG_LEVEL: 'warn', ACCESS_LOG: 'false',
        DOCUMENTS_URL: echoUrl, REALTIME_URL: echoUrl, MEMORY_URL: echoUrl, AI_GATEWAY_URL: echoUrl, FUNCTIONS_URL: echoUrl,
        REST_URL: `http://127.0.0.1:${deadPort}`, AUTH_URL: `http://127.0.0.1:${deadPort}`,
        SCHEDULER_URL: `http://127.0.0.1:${deadPort}`, BASALT_PUBLIC_URL: `http://localhost:${port}`, BASALT_METRICS_TOKEN: METRICS_TOKEN,
        UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    gw = `http://127.0.0.1:${port}`;
    await waitForHealth(gw, 30_000, gateway);
    [a, b] = await Promise.all([createProject('gw-a'), createProject('gw-b')]);
  });

  after(async () => {
    gateway?.kill('SIGTERM');
    await new Promise((r) => echo?.close(r));
  });

  /** fetch cannot set Host and normalises `..` away, so those requests go through node:http with a raw path. */
  async function viaHost(path: string, headers: Record<string, string>) {
    const r = await rawHttp(gw, path, { headers });
    const text = r.body.toString();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: r.status, headers: new Headers(r.headers as Record<string, string>), json, text };
  }

  async function call(path: string, headers: Record<string, string> = {}, init: RequestInit = {}) {
    if (headers.host || /\.\.|%2e/i.test(path)) return viaHost(path, { host: new URL(gw).host, ...headers });
    const r = await fetch(`${gw}${path}`, { ...init, headers });
    const text = await r.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: r.status, headers: r.headers, json, text };
  }

  const key = (p: TestProject) => ({ apikey: p.anonKey });

  test('routes by subdomain, by /project/<ref> prefix and by the apikey ref, rewriting aliases', async () => {
    const cases: [string, string, Record<string, string>, string][] = [
      ['subdomain', '/mongo/v1/things?x=1', { host: `${a.ref}.localhost`, ...key(a) }, '/mongo/v1/things?x=1'],
      ['path prefix', `/project/${a.ref}/mongo/v1/things`, key(a), '/mongo/v1/things'],
      ['apikey ref', '/mongo/v1/things', key(a), '/mongo/v1/things'],
      ['ichibase alias', `/project/${a.ref}/mongo/things`, key(a), '/mongo/v1/things'],
      ['memory', '/v1/memories/?user_id=u', key(a), '/v1/memories/?user_id=u'],
      // an AI key is no JWT: the ai-gateway service verifies it, the gateway only passes it on
      ['AI key on a project path', `/project/${a.ref}/v1/chat/completions`, { apikey: 'bsk_notajwt' }, '/v1/chat/completions'],
    ];
    for (const [name, path, headers, upstreamPath] of cases) {
      const r = await call(path, headers);
      assert.equal(r.status, 200, name);
      const seen = r.json as Echoed;
      assert.equal(seen.url, upstreamPath, name);
      assert.equal(seen.headers['x-basalt-ref'], a.ref, name);
      assert.ok(seen.headers['x-request-id'], name);
      assert.equal(r.headers.get('x-request-id'), seen.headers['x-request-id'], name);
    }
  });

  test('the ichibase /realtime alias and WebSocket upgrades reach the realtime service with the project', async () => {
    const got = await new Promise<string>((resolve, reject) => {
      const req = http.request(`${gw}/project/${a.ref}/realtime?apikey=${a.anonKey}&vsn=1.0.0`, {
        headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
      });
      req.on('upgrade', (res, socket, head) => {
        let data = head.toString();
        socket.on('data', (c) => (data += c));
        socket.on('end', () => resolve(`${res.statusCode} ${data}`));
      });
      req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
      req.on('error', reject);
      req.end();
    });
    assert.match(got, new RegExp(`^101 hello ${a.ref} /realtime/v1/websocket\\?apikey=`));
    const refused = await new Promise<number>((resolve) => {
      const req = http.request(`${gw}/project/${a.ref}/realtime/v1/websocket?vsn=1.0.0`, {
        headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
      });
      req.on('response', (res) => resolve(res.statusCode ?? 0));
      req.on('upgrade', (res) => resolve(res.statusCode ?? 0));
      req.end();
    });
    assert.equal(refused, 401);
  });

  test('client-sent x-basalt-* headers never reach a service', async () => {
    const r = await call(`/project/${a.ref}/mongo/v1/x`, { ...key(a), 'x-basalt-ref': b.ref, 'x-basalt-role': 'service_role', 'x-basalt-base-url': 'http://evil' });
    const seen = r.json as Echoed;
    assert.equal(seen.headers['x-basalt-ref'], a.ref);
    assert.equal(seen.headers['x-basalt-role'], undefined);
    assert.notEqual(seen.headers['x-basalt-base-url'], 'http://evil');
  });

  test('keys are checked like Kong key-auth: missing 401, foreign, forged, alg none, expired 401; unknown project 404', async () => {
    const now = Math.floor(Date.now() / 1000);
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const wrongSecret = signJwt({ ref: a.ref, role: 'service_role', iat: now }, hmacKey('not-the-project-secret-at-all-0123456789'));
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ref: a.ref, role: 'service_role' })}.`;
    const expired = signJwt({ ref: a.ref, role: 'anon', iat: now - 7200, exp: now - 3600 }, hmacKey(a.jwtSecret));
    const hs512body = `${b64({ alg: 'HS512', typ: 'JWT' })}.${b64({ ref: a.ref, role: 'service_role' })}`;
    const hs512 = `${hs512body}.${createHmac('sha512', a.jwtSecret).update(hs512body).digest('base64url')}`;
    const cases: [string, string, Record<string, string>, number, string?][] = [
      ['no key', `/project/${a.ref}/mongo/v1/x`, {}, 401, 'No API key found in request'],
      ["B's anon key on A", `/project/${a.ref}/mongo/v1/x`, { apikey: b.anonKey }, 401, 'Invalid authentication credentials'],
      ["B's service key on A", `/project/${a.ref}/mongo/v1/x`, { apikey: b.serviceKey }, 401],
      ["B's key on A by subdomain", '/mongo/v1/x', { host: `${a.ref}.localhost`, apikey: b.serviceKey }, 401],
      ['wrong secret', `/project/${a.ref}/mongo/v1/x`, { apikey: wrongSecret }, 401],
      ['alg none', `/project/${a.ref}/mongo/v1/x`, { apikey: none }, 401],
      ['alg HS512', `/project/${a.ref}/mongo/v1/x`, { apikey: hs512 }, 401],
      ['expired', `/project/${a.ref}/mongo/v1/x`, { apikey: expired }, 401],
      ['garbage', `/project/${a.ref}/mongo/v1/x`, { apikey: 'garbage' }, 401],
      ['unknown project', '/project/abcdefghijabcdefghij/mongo/v1/x', key(a), 404, 'Project not found'],
      ['no route', `/project/${a.ref}/nothing-here`, key(a), 404],
      ['traversal', `/project/${a.ref}/mongo/v1/../../platform/v1/projects`, key(a), 400],
      ['encoded traversal', `/project/${a.ref}/mongo/v1/%2e%2e/x`, key(a), 400],
    ];
    for (const [name, path, headers, status, message] of cases) {
      const r = await call(path, headers);
      assert.equal(r.status, status, `${name}: ${r.text}`);
      if (message) assert.equal(r.json.message, message, name);
    }
  });

  test('rotating keys makes the old ones fail at once and the new ones work', async () => {
    const p = await createProject('rotate');
    assert.equal((await call('/mongo/v1/x', { apikey: p.serviceKey })).status, 200);
    const rotated = await platform(`/projects/${p.ref}/api-keys/rotate`, { method: 'POST' });
    assert.equal((await call('/mongo/v1/x', { apikey: p.serviceKey })).status, 401);
    assert.equal((await call('/mongo/v1/x', { apikey: p.anonKey })).status, 401);
    assert.equal((await call('/mongo/v1/x', { apikey: rotated[1].api_key })).status, 200);
  });

  test('bodies stream both ways', async () => {
    const big = 'x'.repeat(3 * 1024 * 1024);
    const up = await call(`/project/${a.ref}/mongo/v1/upload`, { ...key(a), 'content-type': 'text/plain' }, { method: 'POST', body: big });
    assert.equal((up.json as Echoed).body.length, big.length);
    const chunks: number[] = [];
    const started = Date.now();
    const r = await fetch(`${gw}/project/${a.ref}/mongo/v1/stream`, { headers: key(a) });
    const reader = r.body!.getReader();
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
      chunks.push(Date.now() - started);
    }
    assert.ok(chunks.length >= 2, 'response arrived in more than one piece');
  });

  test('a slow reader of a large response leaves the pooled upstream connection usable', async () => {
    const r = await fetch(`${gw}/project/${a.ref}/mongo/v1/big`, { headers: key(a) });
    const reader = r.body!.getReader();
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      await new Promise((resolve) => setTimeout(resolve, 2)); // let backpressure build up on the way
    }
    assert.equal(total, 8 * 1024 * 1024);
    const next = await Promise.all(Array.from({ length: 4 }, () => call(`/project/${a.ref}/mongo/v1/x`, key(a))));
    assert.deepEqual(next.map((x) => x.status), [200, 200, 200, 200]);
  });

  test('a service that is down answers 503 quickly, with Retry-After, in that API\'s error shape', async () => {
    const started = Date.now();
    const rest = await call(`/project/${a.ref}/rest/v1/todos`, key(a));
    assert.ok(Date.now() - started < 5000);
    const shapes: [string, Record<string, string>, (b: any) => boolean][] = [
      [`/project/${a.ref}/rest/v1/todos`, key(a), (j) => j.code === 'service_unavailable' && /rest/.test(j.message) && j.details === null && j.hint === null],
      [`/project/${a.ref}/auth/v1/user`, key(a), (j) => j.code === 503 && j.error_code === 'service_unavailable' && /auth/.test(j.msg)],
      [`/project/${a.ref}/cron/admin/v1/jobs`, key(a), (j) => j.code === 'service_unavailable' && /scheduler/.test(j.message)],
    ];
    assert.equal(rest.status, 503);
    for (const [path, headers, shape] of shapes) {
      const r = await call(path, headers);
      assert.equal(r.status, 503, path);
      assert.equal(r.headers.get('retry-after'), '5', path);
      assert.ok(shape(r.json), `${path}: ${r.text}`);
    }
  });

  test('a service that takes longer than UPSTREAM_TIMEOUT_MS is a 504 in its API\'s shape; functions and models may take longer', async () => {
    const started = Date.now();
    const [documents, model, fn] = await Promise.all([
      call(`/project/${a.ref}/mongo/v1/slow`, key(a)),
      // a model's non-streamed answer comes whole when it is done: the AI gateway times providers out itself
      call('/v1/chat/completions/slow', { authorization: 'Bearer bsk_notajwt' }, { method: 'POST', body: '{}' }),
      // a function may be given up to 400 s (its timeout_ms): the functions service times it out itself
      call(`/project/${a.ref}/functions/v1/slow`, key(a), { method: 'POST', body: '{}' }),
    ]);
    assert.equal(documents.status, 504, documents.text);
    assert.equal(documents.json.code, 'upstream_timeout');
    for (const r of [model, fn]) {
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { slow: true });
    }
    assert.ok(Date.now() - started >= SLOW_MS);
  });

  test('per-project rate limit answers 429 with Retry-After, and other projects are unaffected', async () => {
    const p = await createProject('limited');
    await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { settings: { rate_limit_rps: 5 } } });
    // wait for the start of a fresh second so the burst lands in one window
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 10));
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 30 }, () => call('/mongo/v1/x', { apikey: p.anonKey })));
    // a loaded machine may spread the burst over more than one second: each second it touched admits 5
    const windows = Math.floor(Date.now() / 1000) - Math.floor(started / 1000) + 1;
    const ok = results.filter((r) => r.status === 200).length;
    const limited = results.filter((r) => r.status === 429);
    assert.ok(ok >= 1 && ok <= 5 * windows, `${ok} passed in ${windows} window(s)`);
    assert.equal(ok + limited.length, results.length);
    assert.ok(limited.length >= 1);
    assert.equal(limited[0].headers.get('retry-after'), '1');
    assert.equal((await call('/mongo/v1/x', key(b))).status, 200);
    await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { settings: { rate_limit_rps: 1000 } } });
  });

  test('CORS: preflights answered as browsers need, responses readable from any origin without credentials', async () => {
    const preflight = (path: string, origin: string) => fetch(`${gw}${path}`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'apikey, authorization, content-type, prefer, x-client-info' },
    });
    const pre = await preflight(`/project/${a.ref}/rest/v1/todos`, 'http://app.local');
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), '*');
    assert.equal(pre.headers.get('access-control-allow-credentials'), null);
    assert.match(pre.headers.get('access-control-allow-headers')!, /prefer/);
    assert.match(pre.headers.get('access-control-allow-methods')!, /PATCH/);
    for (const origin of ['http://app.local', 'null', 'https://evil.example']) {
      const r = await fetch(`${gw}/project/${a.ref}/mongo/v1/x`, { headers: { origin, ...key(a) } });
      assert.equal(r.headers.get('access-control-allow-origin'), '*', origin);
      assert.equal(r.headers.get('access-control-allow-credentials'), null, `${origin} never gets credentials by default`);
      assert.equal(r.headers.get('access-control-expose-headers'), '*', 'every header, for a request without credentials');
    }
  });

  test('CORS: only origins a project lists get credentials, on preflights and responses; null never does', async () => {
    const p = await createProject('cors');
    await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { settings: { cors: { allowed_origins: ['https://app.example', 'null'] } } } });
    const ask = (origin: string, init: RequestInit = {}) => fetch(`${gw}/project/${p.ref}/mongo/v1/x`, { ...init, headers: { origin, ...(init.headers ?? {}) } });
    const listed = await ask('https://app.example', { headers: { apikey: p.anonKey } });
    assert.equal(listed.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(listed.headers.get('access-control-allow-credentials'), 'true');
    assert.match(listed.headers.get('vary') ?? '', /Origin/);
    // with credentials a browser takes `*` for a header's name: the headers supabase-js reads are listed
    assert.match(listed.headers.get('access-control-expose-headers')!, /Content-Range/);
    const pre = await ask('https://app.example', { method: 'OPTIONS', headers: { 'access-control-request-method': 'POST' } });
    assert.equal(pre.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(pre.headers.get('access-control-allow-credentials'), 'true');
    for (const origin of ['https://evil.example', 'null', 'https://app.example.evil.example']) {
      const r = await ask(origin, { headers: { apikey: p.anonKey } });
      assert.equal(r.headers.get('access-control-allow-origin'), '*', origin);
      assert.equal(r.headers.get('access-control-allow-credentials'), null, origin);
      const other = await ask(origin, { method: 'OPTIONS', headers: { 'access-control-request-method': 'POST' } });
      assert.equal(other.headers.get('access-control-allow-credentials'), null, origin);
    }
    // another project's list grants nothing here
    const elsewhere = await fetch(`${gw}/project/${a.ref}/mongo/v1/x`, { headers: { origin: 'https://app.example', ...key(a) } });
    assert.equal(elsewhere.headers.get('access-control-allow-credentials'), null);
  });

  test('health and readiness are public; metrics only with the operator\'s token, never via a project path', async () => {
    assert.equal((await call('/health')).status, 200);
    assert.equal((await call('/ready')).status, 200);
    assert.equal((await call('/metrics')).status, 404);
    assert.equal((await call('/metrics', { authorization: 'Bearer wrong-token-wrong-token' })).status, 404);
    for (const path of [`/project/${a.ref}/metrics`, `/project/${a.ref}/rest/v1/../../metrics`, '/rest/v1/%2e%2e/%2e%2e/metrics']) {
      const r = await call(path, key(a));
      assert.ok(!/basalt_/.test(r.text), path);
    }
    const m = await call('/metrics', { authorization: `Bearer ${METRICS_TOKEN}` });
    assert.equal(m.status, 200);
    assert.match(m.text, /basalt_gateway_request_duration_seconds/);
  });

});
