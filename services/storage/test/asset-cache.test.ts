// The caches behind public asset reads, with two storage replicas in this process (two createApp over the fleet's
// database and Redis, each with its own caches and subscriber) beside the fleet's own: a change is seen by the next
// read here and, after the pub/sub message, by every other replica; no project reads another's paths or bytes;
// large files are streamed, never kept; a read that overlapped a change is not cached.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { SecretBox } from '@basalt/crypto';
import { ProjectPools } from '@basalt/db';
import { createLogger } from '@basalt/http';
import { ProjectRegistry } from '@basalt/tenancy';
import { createProject, rawHttp, testEnv, type TestProject } from '@basalt/testkit';
import { createApp } from '../src/app.js';
import { createBackend } from '../src/backend/index.js';
import { loadConfig } from '../src/config.js';
import { assetCaches } from '../src/domain/asset-caches.js';
import { AssetPaths } from '../src/domain/asset-paths.js';

const env = testEnv();
// a TTL far beyond the test, so only an invalidation can explain a fresh read; files over 1 KB are not kept
const config = loadConfig({
  ...env.fleetEnv, LOG_LEVEL: 'fatal', ASSETS_PATH_CACHE_TTL_MS: '600000', ASSETS_BLOB_CACHE_MAX_FILE_BYTES: '1024', ASSETS_BLOB_CACHE_BYTES: '4096',
});
const control = new pg.Pool({ connectionString: env.databaseUrl, max: 4 });
const redis = new Redis(env.redisUrl);
const secrets = new SecretBox(env.masterKey);
const closers: (() => Promise<unknown> | void)[] = [];

async function replica() {
  const caches = assetCaches(config, redis);
  const subscriber = redis.duplicate();
  await caches.paths.listen(subscriber);
  const pools = new ProjectPools({ maxPerProject: 2, applicationName: 'storage-asset-cache-test' });
  const { app } = createApp({
    config, control, redis, pools, secrets, assetCaches: caches, backend: await createBackend(config), log: createLogger('storage', 'fatal'),
    registry: new ProjectRegistry({ control, secrets }),
  });
  // reads go over a real socket: a large file is piped into the response, which app.inject does not emulate
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => app.close(), () => pools.closeAll(), () => subscriber.disconnect());
  return { app, caches, url };
}

type Replica = Awaited<ReturnType<typeof replica>>;
let one: Replica;
let two: Replica;
let a: TestProject;
let b: TestProject;

before(async () => {
  [one, two, a, b] = await Promise.all([replica(), replica(), createProject('asset-cache-a'), createProject('asset-cache-b')]);
});
after(async () => {
  for (const close of closers) await close();
  redis.disconnect();
  await control.end();
});

const publish = (r: Replica, p: TestProject, files: { path: string; content: string }[]) => r.app.inject({
  method: 'POST', url: '/assets/admin/v1/upload', payload: { files },
  headers: { 'x-basalt-ref': p.ref, authorization: `Bearer ${p.serviceKey}` },
});
const admin = (r: Replica, p: TestProject, method: 'DELETE' | 'PATCH', path: string, payload?: object) => r.app.inject({
  method, url: `/assets/admin/v1${path}`, payload, headers: { 'x-basalt-ref': p.ref, authorization: `Bearer ${p.serviceKey}` },
});
async function read(r: Replica, p: TestProject, path: string, headers: Record<string, string> = {}, method = 'GET') {
  const got = await rawHttp(r.url, `/assets/v1/${path}`, { method, headers: { 'x-basalt-ref': p.ref, ...headers } });
  return { statusCode: got.status, headers: got.headers, body: got.body.toString() };
}
const viaFleet = (p: TestProject, path: string) => rawHttp(env.gatewayUrl, `/project/${p.ref}/assets/v1/${path}`);
const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

/** Polls until `check` holds (a pub/sub message is delivered in milliseconds; the TTL above is ten minutes). */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (const deadline = Date.now() + 3_000; Date.now() < deadline;) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`not seen within 3 s: ${what}`);
}

test('a publish, a new version, a settings change and a removal are seen by the very next read', async () => {
  assert.equal((await read(one, a, 'next.txt')).statusCode, 404); // "nothing there" is cached too
  assert.equal((await publish(one, a, [{ path: 'next.txt', content: 'v1' }])).statusCode, 200);
  const v1 = await read(one, a, 'next.txt');
  assert.equal(v1.body, 'v1');
  assert.equal((await read(one, a, 'next.txt', { 'if-none-match': v1.headers.etag as string })).statusCode, 304);
  await publish(one, a, [{ path: 'next.txt', content: 'v2' }]);
  const v2 = await read(one, a, 'next.txt', { 'if-none-match': v1.headers.etag as string });
  assert.equal(v2.statusCode, 200);
  assert.equal(v2.body, 'v2');
  assert.equal(v2.headers['cache-control'], 'public, max-age=3600');
  assert.equal((await admin(one, a, 'PATCH', '/settings', { cache_control: 'public, max-age=5' })).statusCode, 200);
  assert.equal((await read(one, a, 'next.txt')).headers['cache-control'], 'public, max-age=5');
  assert.equal((await admin(one, a, 'DELETE', '/files/next.txt')).statusCode, 200);
  assert.equal((await read(one, a, 'next.txt')).statusCode, 404);
});

test('a read answered from the caches before Fastify (assetFastRoute) is the one the route gives: 200, HEAD, 304, fallback', async () => {
  await publish(one, a, [{ path: 'fast/page.html', content: '<p>fast</p>' }, { path: 'fast/app.4f3a9c2b.js', content: 'js()' }]);
  const rid = (n: number) => ({ 'x-request-id': `fast-${n}` });
  let n = 0;
  const without = (h: Record<string, unknown>) => Object.fromEntries(Object.entries(h).filter(([k]) => k !== 'date' && k !== 'x-request-id'));
  for (const path of ['fast/page.html', 'fast/app.4f3a9c2b.js', 'fast/page.html?v=1']) {
    // the first read fills the caches through the Fastify route; the second is answered from them
    const slow = await read(one, a, path, rid(++n));
    const fast = await read(one, a, path, rid(++n));
    assert.equal(fast.statusCode, 200);
    assert.equal(fast.body, slow.body);
    assert.deepEqual(without(fast.headers), without(slow.headers), path);
    assert.equal(fast.headers['x-request-id'], `fast-${n}`);
    assert.equal(fast.headers['x-content-type-options'], 'nosniff');
    const head = await read(one, a, path, rid(++n), 'HEAD');
    assert.deepEqual([head.statusCode, head.body], [200, '']);
    assert.deepEqual(without(head.headers), without(slow.headers), `HEAD ${path}`);
    const conditions: Record<string, string>[] = [{ 'if-none-match': slow.headers.etag as string }, { 'if-modified-since': slow.headers['last-modified'] as string }];
    for (const cond of conditions) {
      const notModified = await read(one, a, path, { ...rid(++n), ...cond });
      assert.equal(notModified.statusCode, 304, JSON.stringify(cond));
      const expected = without(slow.headers);
      delete expected['content-length'];
      assert.deepEqual(without(notModified.headers), expected);
    }
  }
  assert.equal(without((await read(one, a, 'fast/page.html', { 'if-none-match': '"other"' })).headers)['content-length'], '11');
  // the SPA fallback and "nothing there" (declined: the route renders the 404)
  await admin(one, a, 'PATCH', '/settings', { spa_fallback: true });
  await publish(one, a, [{ path: 'index.html', content: '<p>app</p>' }]);
  const first = await read(one, a, 'fast/route');
  const again = await read(one, a, 'fast/route');
  assert.deepEqual([again.statusCode, again.body, again.headers['cache-control']], [200, '<p>app</p>', 'public, max-age=0, must-revalidate']);
  assert.deepEqual(without(again.headers), without(first.headers));
  await admin(one, a, 'PATCH', '/settings', { spa_fallback: false });
  for (let i = 0; i < 2; i++) assert.equal((await read(one, a, 'fast/nothing.txt')).statusCode, 404);
  const metrics = (await one.app.inject({ url: '/metrics' })).body;
  assert.match(metrics, /basalt_http_request_duration_seconds_count\{service="storage",method="GET",group="\/assets\/v1\/\*",status="304"\} \d+/);
});

test("another replica sees a publish and a removal once the change's message arrives", async () => {
  // both replicas here and the fleet's have cached the miss
  assert.equal((await read(two, a, 'elsewhere.html')).statusCode, 404);
  assert.equal((await viaFleet(a, 'elsewhere.html')).status, 404);
  await publish(one, a, [{ path: 'elsewhere.html', content: '<p>hello</p>' }]);
  await eventually(async () => (await read(two, a, 'elsewhere.html')).body === '<p>hello</p>', 'the publish on replica two');
  await eventually(async () => (await viaFleet(a, 'elsewhere.html')).body.toString() === '<p>hello</p>', "the publish on the fleet's replica");
  assert.equal((await admin(two, a, 'DELETE', '/files/elsewhere.html')).statusCode, 200);
  await eventually(async () => (await read(one, a, 'elsewhere.html')).statusCode === 404, 'the removal on replica one');
  await eventually(async () => (await viaFleet(a, 'elsewhere.html')).status === 404, "the removal on the fleet's replica");
  // the SPA fallback is a setting like any other: turned on at one replica, served by the other
  await publish(one, a, [{ path: 'index.html', content: '<p>app</p>' }]);
  assert.equal((await read(two, a, 'app/route')).statusCode, 404);
  await admin(one, a, 'PATCH', '/settings', { spa_fallback: true });
  await eventually(async () => (await read(two, a, 'app/route')).body === '<p>app</p>', 'the SPA fallback on replica two');
});

test("the same bytes in two projects are two entries: neither project reads the other's paths or bytes", async () => {
  const content = `same bytes ${randomBytes(8).toString('hex')}`;
  await publish(one, a, [{ path: 'same.txt', content }, { path: 'only-a.txt', content: 'a alone' }]);
  await publish(one, b, [{ path: 'same.txt', content }]);
  assert.equal((await read(one, a, 'only-a.txt')).body, 'a alone');
  assert.equal((await read(one, b, 'only-a.txt')).statusCode, 404, "a's cached path is not b's");
  assert.equal((await read(one, a, 'same.txt')).body, content);
  assert.equal((await read(one, b, 'same.txt')).body, content);
  assert.ok(one.caches.blobs.has(a.ref, sha(content)) && one.caches.blobs.has(b.ref, sha(content)));
  // b's removal takes b's file and (unused now) b's blob; a's file and blob stay
  assert.equal((await admin(one, b, 'DELETE', '/files/same.txt')).statusCode, 200);
  assert.equal((await read(one, b, 'same.txt')).statusCode, 404);
  assert.equal((await read(one, a, 'same.txt')).body, content);
  const stored = (p: TestProject) => readdirSync(join(config.STORAGE_FS_ROOT, p.ref, 'a'), { recursive: true }).some((f) => String(f).includes(sha(content)));
  assert.equal(stored(b), false);
  assert.equal(stored(a), true);
});

test('files over the size limit are streamed from the backend every time; the cache stays within its bytes', async () => {
  const big = randomBytes(3000).toString('base64'); // 4,000 bytes
  const smalls = ['s1', 's2', 's3', 's4', 's5'].map((n) => ({ path: `${n}.txt`, content: n.repeat(500) })); // 1,000 bytes each
  await publish(one, a, [{ path: 'big.txt', content: big }, ...smalls]);
  const got = await read(one, a, 'big.txt');
  assert.equal(got.body, big);
  assert.equal(got.headers['content-length'], '4000');
  assert.equal((await read(one, a, 'big.txt', { 'if-none-match': got.headers.etag as string })).statusCode, 304);
  assert.equal(one.caches.blobs.has(a.ref, sha(big)), false);
  for (const s of smalls) assert.equal((await read(one, a, s.path)).body, s.content);
  // 4,096 bytes hold four of them: the least recently read went
  assert.ok(one.caches.blobs.bytes <= 4096);
  assert.equal(one.caches.blobs.has(a.ref, sha(smalls[0].content)), false);
  assert.equal(one.caches.blobs.has(a.ref, sha(smalls[4].content)), true);
  // a cached file answers HEAD and conditional requests as a streamed one does
  const head = await read(one, a, 's5.txt', {}, 'HEAD');
  assert.equal(head.statusCode, 200);
  assert.equal(head.headers['content-length'], '1000');
  assert.equal(head.body, '');
  const lastModified = head.headers['last-modified'] as string;
  assert.equal((await read(one, a, 's5.txt', { 'if-modified-since': lastModified })).statusCode, 304);
});

test('a resolution that overlapped a change is answered but not kept', async () => {
  const paths = new AssetPaths<string>(redis, `${config.BASALT_REDIS_PREFIX}test-${randomBytes(4).toString('hex')}:`, { ttlMs: 600_000, maxEntries: 2 });
  let loads = 0;
  let release!: (v: string) => void;
  const slow = () => {
    loads++;
    return new Promise<string>((r) => (release = r));
  };
  const first = paths.get('ref', 'x', slow);
  assert.equal(paths.get('ref', 'x', slow), first, 'one load for reads that miss together');
  await paths.changed('ref');
  release('old');
  assert.equal(await first, 'old');
  assert.equal(await paths.get('ref', 'x', async () => (loads++, 'new')), 'new', 'the overlapped load was not kept');
  assert.equal(paths.get('ref', 'x', async () => 'never'), 'new');
  // bounded: the oldest entry goes first
  await paths.get('ref', 'y', async () => 'y');
  await paths.get('other', 'z', async () => 'z');
  assert.equal(await paths.get('ref', 'x', async () => 'reloaded'), 'reloaded');
  assert.equal(loads, 2);
});
