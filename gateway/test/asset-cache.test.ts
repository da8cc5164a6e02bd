// The gateway's asset cache against a local stand-in for storage that counts what reaches it: a published file
// marked shared is answered by the gateway from then on (200, HEAD, 304) with the same headers; a change heard on
// the assets-changed channel, or an asset admin write passing through, is seen by the next read; projects never
// share entries; what is not marked shared, is not a 200, is too large or asks for a range always goes to storage.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { dropRedisKeys, freePort, waitForHealth } from '@basalt/fleet';
import { assetsChangedChannel } from '@basalt/http';
import { createProject, rawHttp, testEnv, type TestProject } from '@basalt/testkit';

const env = testEnv();
const PREFIX = `asset-cache-test-${randomBytes(4).toString('hex')}:`;
const MAX_FILE = 1024;

describe('gateway asset cache', () => {
  let storage: http.Server;
  let gateway: ChildProcess;
  let gw = '';
  let a: TestProject;
  let b: TestProject;
  const redis = new Redis(env.redisUrl);
  /** `${ref} ${path}` → the file storage serves there */
  const files = new Map<string, { body: string; modified: Date; shared: boolean }>();
  /** what reached storage: `${method} ${ref} ${url}` */
  const seen: string[] = [];

  before(async () => {
    storage = http.createServer((req, res) => {
      const ref = String(req.headers['x-basalt-ref']);
      seen.push(`${req.method} ${ref} ${req.url}`);
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (req.method === 'POST' && req.url === '/assets/admin/v1/upload') {
          for (const f of JSON.parse(body).files) files.set(`${ref} /assets/v1/${f.path}`, { body: f.content, modified: new Date(), shared: true });
          res.writeHead(200, { 'content-type': 'application/json' });
          return void res.end('{"files":[]}');
        }
        const file = files.get(`${ref} ${req.url!.split('?')[0]}`);
        if (!file) {
          res.writeHead(404, { 'content-type': 'application/json' });
          return void res.end('{"message":"not found"}');
        }
        const etag = `"${createHash('sha256').update(file.body).digest('hex').slice(0, 16)}"`;
        const headers: Record<string, string> = {
          'x-request-id': String(req.headers['x-request-id']), 'x-content-type-options': 'nosniff', 'content-type': 'text/plain; charset=utf-8',
          etag, 'last-modified': file.modified.toUTCString(), 'cache-control': 'public, max-age=3600',
        };
        if (file.shared) headers['x-basalt-shared-cache'] = 'asset';
        if (req.headers['if-none-match'] === etag) return void res.writeHead(304, headers).end();
        res.writeHead(200, { ...headers, 'content-length': String(Buffer.byteLength(file.body)) });
        res.end(req.method === 'HEAD' ? undefined : file.body);
      });
    });
    await new Promise<void>((r) => storage.listen(0, '127.0.0.1', () => r()));
    const port = await freePort();
    gateway = spawn(process.execPath, ['--import', 'tsx', 'gateway/src/main.ts'], {
      env: {
        ...process.env, ...env.fleetEnv, PORT: String(port), LOG_LEVEL: 'warn', BASALT_REDIS_PREFIX: PREFIX,
        STORAGE_URL: `http://127.0.0.1:${(storage.address() as AddressInfo).port}`, BASALT_PUBLIC_URL: `http://localhost:${port}`,
        GATEWAY_ASSET_CACHE_MAX_FILE_BYTES: String(MAX_FILE), GATEWAY_ASSET_CACHE_TTL_MS: '600000',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    gw = `http://127.0.0.1:${port}`;
    await waitForHealth(gw, 30_000, gateway);
    [a, b] = await Promise.all([createProject('asset-cache-a'), createProject('asset-cache-b')]);
    // a new project is a project change the gateway hears too: its settle window passes first
    await settle();
  });

  after(async () => {
    gateway?.kill('SIGTERM');
    redis.disconnect();
    await dropRedisKeys(env.redisUrl, PREFIX); // the gateway's project activity under its own prefix
    await new Promise((r) => storage?.close(r));
  });

  const put = (p: TestProject, path: string, body: string, shared = true) =>
    files.set(`${p.ref} /assets/v1/${path}`, { body, modified: new Date(Date.now() - 60_000), shared });
  const read = async (p: TestProject, path: string, headers: Record<string, string> = {}, method = 'GET') => {
    const r = await rawHttp(gw, `/project/${p.ref}/assets/v1/${path}`, { method, headers });
    return { status: r.status, headers: r.headers, body: r.body.toString() };
  };
  /** how many requests for the path reached storage */
  const reached = (p: TestProject, path: string) => seen.filter((s) => s.startsWith(`GET ${p.ref} /assets/v1/${path}`) || s.startsWith(`HEAD ${p.ref} /assets/v1/${path}`)).length;
  const changed = (p: TestProject) => redis.publish(assetsChangedChannel(PREFIX), p.ref);
  /** past the window after a change in which the gateway keeps nothing (other storage replicas may not have heard it) */
  const settle = () => new Promise((r) => setTimeout(r, 1_100));
  const withoutPerAnswer = (h: http.IncomingHttpHeaders) => Object.fromEntries(Object.entries(h).filter(([k]) => k !== 'date' && k !== 'x-request-id'));

  test('a shared file is answered by the gateway once read: the same 200, HEAD and 304s, a fresh date and request id', async () => {
    put(a, 'site/app.js', 'console.log(1)');
    const first = await read(a, 'site/app.js');
    assert.deepEqual([first.status, first.body], [200, 'console.log(1)']);
    assert.equal(first.headers['x-basalt-shared-cache'], undefined, 'the marker never reaches a client');
    const again = await read(a, 'site/app.js', { 'x-request-id': 'mine-1' });
    assert.deepEqual([again.status, again.body], [200, 'console.log(1)']);
    assert.equal(again.headers['x-request-id'], 'mine-1');
    assert.ok(again.headers.date);
    assert.deepEqual(withoutPerAnswer(again.headers), withoutPerAnswer(first.headers));
    // the query is not storage's concern for a published file: the same entry
    assert.equal((await read(a, 'site/app.js?v=2')).body, 'console.log(1)');
    const head = await read(a, 'site/app.js', {}, 'HEAD');
    assert.deepEqual([head.status, head.body, head.headers['content-length']], [200, '', '14']);
    const byTag = await read(a, 'site/app.js', { 'if-none-match': first.headers.etag as string });
    const byDate = await read(a, 'site/app.js', { 'if-modified-since': first.headers['last-modified'] as string });
    for (const r of [byTag, byDate]) {
      assert.deepEqual([r.status, r.body, r.headers['content-length']], [304, '', undefined]);
      assert.equal(r.headers.etag, first.headers.etag);
    }
    assert.equal((await read(a, 'site/app.js', { 'if-none-match': '"other"' })).status, 200);
    assert.equal(reached(a, 'site/app.js'), 1, 'only the first read reached storage');
    // a range is storage's to answer
    await read(a, 'site/app.js', { range: 'bytes=0-3' });
    assert.equal(reached(a, 'site/app.js'), 2);
  });

  test("a change heard on the channel is seen by the next read; a fill right after it is not kept", async () => {
    put(a, 'news.html', 'v1');
    await read(a, 'news.html');
    assert.equal((await read(a, 'news.html')).body, 'v1');
    put(a, 'news.html', 'v2');
    assert.equal((await read(a, 'news.html')).body, 'v1', 'kept until the change is heard');
    await changed(a);
    await new Promise((r) => setTimeout(r, 100));
    const before = reached(a, 'news.html');
    assert.equal((await read(a, 'news.html')).body, 'v2');
    assert.equal((await read(a, 'news.html')).body, 'v2');
    assert.equal(reached(a, 'news.html'), before + 2, 'within the settle window both reads went to storage');
    await settle();
    await read(a, 'news.html');
    await read(a, 'news.html');
    assert.equal(reached(a, 'news.html'), before + 3, 'kept again once settled');
  });

  test('an asset admin write through this gateway drops the project at once: a client reads its own deploy', async () => {
    put(a, 'index.html', '<p>old</p>');
    await read(a, 'index.html');
    assert.equal((await read(a, 'index.html')).body, '<p>old</p>');
    const r = await fetch(`${gw}/project/${a.ref}/assets/admin/v1/upload`, {
      method: 'POST', headers: { authorization: `Bearer ${a.serviceKey}`, apikey: a.serviceKey, 'content-type': 'application/json' },
      body: JSON.stringify({ files: [{ path: 'index.html', content: '<p>new</p>' }] }),
    });
    assert.equal(r.status, 200);
    assert.equal((await read(a, 'index.html')).body, '<p>new</p>');
  });

  test("projects never share entries, and one project's change leaves the other's kept", async () => {
    put(a, 'same.txt', 'from a');
    put(b, 'same.txt', 'from b');
    for (let i = 0; i < 2; i++) {
      assert.equal((await read(a, 'same.txt')).body, 'from a');
      assert.equal((await read(b, 'same.txt')).body, 'from b');
    }
    assert.equal((await read(b, 'only-a.txt')).status, 404);
    await changed(a);
    await new Promise((r) => setTimeout(r, 100));
    const before = reached(b, 'same.txt');
    assert.equal((await read(b, 'same.txt')).body, 'from b');
    assert.equal(reached(b, 'same.txt'), before, "b's entry stayed");
  });

  test('what is not marked shared, not a 200, or larger than the limit always reaches storage', async () => {
    put(a, 'private.txt', 'not for keeping', false);
    put(a, 'big.bin', 'x'.repeat(MAX_FILE + 1));
    for (let i = 0; i < 2; i++) {
      assert.equal((await read(a, 'private.txt')).body, 'not for keeping');
      assert.equal((await read(a, 'big.bin')).body.length, MAX_FILE + 1);
      assert.equal((await read(a, 'missing.txt')).status, 404);
    }
    assert.equal(reached(a, 'private.txt'), 2);
    assert.equal(reached(a, 'big.bin'), 2);
    assert.equal(reached(a, 'missing.txt'), 2);
  });
});
