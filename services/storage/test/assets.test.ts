// Static hosting through the gateway: publishing with the service_role key or a platform token, public reads
// without a key, content types, ETag/Last-Modified and 304s, cache policy, directory index and SPA fallback,
// the project's subdomain and custom domain, and isolation between projects.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { createProject, platform, rawHttp, testEnv, type RawReply, type TestProject } from '@basalt/testkit';

const env = testEnv();
let a: TestProject;
let b: TestProject;

before(async () => {
  [a, b] = await Promise.all([createProject('assets-a'), createProject('assets-b')]);
});

/** A request with any Host header (fetch will not send a custom one). */
function request(path: string, o: { method?: string; host?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<RawReply> {
  const payload = o.body === undefined ? undefined : JSON.stringify(o.body);
  return rawHttp(env.gatewayUrl, path, {
    method: o.method,
    headers: { ...(o.host ? { host: o.host } : {}), ...(payload ? { 'content-type': 'application/json' } : {}), ...o.headers },
    body: payload,
  });
}

const admin = (p: TestProject, path: string, o: { method?: string; body?: unknown; token?: string } = {}) =>
  request(`/project/${p.ref}/assets/admin/v1${path}`, { method: o.method, body: o.body, headers: { authorization: `Bearer ${o.token ?? p.serviceKey}` } });
const site = (p: TestProject, path: string, headers: Record<string, string> = {}) => request(`/project/${p.ref}/assets/v1${path}`, { headers });
const json = (r: RawReply) => JSON.parse(r.body.toString());

/**
 * A claimed custom domain routes once verified; proving ownership is tested in services/platform/test/
 * custom-domains.test.ts. Here the claim is marked verified directly: the fleet's platform cannot resolve test names.
 */
async function markVerified(domain: string): Promise<void> {
  const control = new pg.Client({ connectionString: env.databaseUrl });
  await control.connect();
  try {
    await control.query(
      `update platform.custom_domains set status = 'active', verified_at = now(), verified_via = 'txt', token = null, expires_at = null
        where domain = $1`,
      [domain],
    );
  } finally {
    await control.end();
  }
}

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
const FILES = [
  { path: 'index.html', content: '<!doctype html><title>home</title>' },
  { path: '/assets/app-4f3a9c2b.js', content: 'console.log("app")' },
  { path: 'style.css', content: 'body{margin:0}' },
  { path: 'docs/index.html', content: '<p>docs</p>' },
  { path: 'img/logo.png', content: PNG.toString('base64'), encoding: 'base64' },
];

test('publishing needs the service_role key or a platform token; anon keys and user tokens are refused', async () => {
  const body = { files: [{ path: 'x.txt', content: 'x' }] };
  assert.equal((await admin(a, '/upload', { method: 'POST', body, token: a.anonKey })).status, 403);
  assert.equal((await admin(a, '/upload', { method: 'POST', body, token: a.token({ sub: 'u1' }) })).status, 403);
  assert.equal((await request(`/project/${a.ref}/assets/admin/v1/files`)).status, 401);
  assert.equal((await admin(a, '/files', { token: b.serviceKey })).status, 401, "project B's key is not A's");
  const scoped = await platform<{ token: string }>('/tokens', { method: 'POST', json: { name: 'b-only', projects: [b.ref] } });
  assert.equal((await admin(a, '/files', { token: scoped.token })).status, 403);
  assert.equal((await admin(a, '/files', { token: env.platformToken })).status, 200);
  assert.deepEqual(json(await admin(a, '/files')).files, []);
});

test('upload answers each file with its public URL, size, ETag and inferred content type', async () => {
  const r = await admin(a, '/upload', { method: 'POST', body: { files: FILES } });
  assert.equal(r.status, 200, r.body.toString());
  const files = json(r).files as { path: string; url: string; size: number; etag: string; content_type: string }[];
  assert.deepEqual(files.map((f) => f.path), ['index.html', 'assets/app-4f3a9c2b.js', 'style.css', 'docs/index.html', 'img/logo.png']);
  const byPath = Object.fromEntries(files.map((f) => [f.path, f]));
  assert.equal(byPath['index.html'].content_type, 'text/html; charset=utf-8');
  assert.equal(byPath['assets/app-4f3a9c2b.js'].content_type, 'text/javascript; charset=utf-8');
  assert.equal(byPath['img/logo.png'].content_type, 'image/png');
  assert.equal(byPath['img/logo.png'].size, PNG.length);
  assert.equal(byPath['index.html'].url, `${env.fleetEnv.BASALT_PUBLIC_URL}/project/${a.ref}/assets/v1/index.html`);
  assert.match(byPath['style.css'].etag, /^"[0-9a-f]{32}"$/);
  // the URL it gave works with no key at all
  const got = await fetch(byPath['img/logo.png'].url);
  assert.equal(got.status, 200);
  assert.deepEqual(Buffer.from(await got.arrayBuffer()), PNG);
  assert.equal(json(await admin(a, '/files')).files.length, 5);
});

test('bad input is a 400 and nothing of the batch is published', async () => {
  for (const files of [
    [{ path: 'ok.txt', content: 'fine' }, { path: '../escape.txt', content: 'x' }],
    [{ path: 'ok.txt', content: 'fine' }, { path: 'b.bin', content: '***', encoding: 'base64' }],
    [{ path: 'ok.txt', content: 'fine' }, { path: 'c.txt', content: 'x', encoding: 'hex' }],
    [{ path: 'ok.txt', content: 'fine' }, { path: 'nul\u0000.txt', content: 'x' }],
    [{ path: 'ok.txt', content: 42 }],
    [],
  ]) {
    const r = await admin(b, '/upload', { method: 'POST', body: { files } });
    assert.equal(r.status, 400, JSON.stringify(files));
    assert.equal(json(r).code, 'validation_failed');
  }
  assert.deepEqual(json(await admin(b, '/files')).files, []);
});

test('public reads: content type, ETag and Last-Modified, 304s, and the cache policy per kind of file', async () => {
  const html = await site(a, '/index.html');
  assert.equal(html.status, 200);
  assert.equal(html.body.toString(), FILES[0].content);
  assert.equal(html.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(html.headers['cache-control'], 'public, max-age=0, must-revalidate');
  const etag = html.headers.etag!;
  const lastModified = html.headers['last-modified']!;
  assert.match(etag, /^"[0-9a-f]{32}"$/);
  assert.ok(!Number.isNaN(Date.parse(lastModified)));
  const cached = await site(a, '/index.html', { 'if-none-match': etag });
  assert.equal(cached.status, 304);
  assert.equal(cached.body.length, 0);
  assert.equal((await site(a, '/index.html', { 'if-none-match': `W/${etag}, "other"` })).status, 304);
  assert.equal((await site(a, '/index.html', { 'if-modified-since': lastModified })).status, 304);
  assert.equal((await site(a, '/index.html', { 'if-modified-since': 'Thu, 01 Jan 2015 00:00:00 GMT' })).status, 200);
  assert.equal((await site(a, '/index.html', { 'if-none-match': '"stale"' })).status, 200);
  assert.equal((await site(a, '/assets/app-4f3a9c2b.js')).headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal((await site(a, '/style.css')).headers['cache-control'], 'public, max-age=3600');
  const head = await request(`/project/${a.ref}/assets/v1/style.css`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], String(FILES[2].content.length));
  assert.equal((await site(a, '/missing.css')).status, 404);
  // the project's default policy is its own to set
  const set = await admin(a, '/settings', { method: 'PUT', body: { cache_control: 'public, max-age=60, stale-while-revalidate=30' } });
  assert.equal(set.status, 200);
  assert.equal((await site(a, '/style.css')).headers['cache-control'], 'public, max-age=60, stale-while-revalidate=30');
  assert.equal((await admin(a, '/settings', { method: 'PUT', body: { cache_control: 'x\r\nset-cookie: a=b' } })).status, 400);
});

test('directory paths serve index.html; unknown routes fall back to /index.html only when the SPA fallback is on', async () => {
  assert.equal((await site(a, '/')).body.toString(), FILES[0].content);
  assert.equal((await site(a, '')).body.toString(), FILES[0].content);
  assert.equal((await site(a, '/docs/')).body.toString(), '<p>docs</p>');
  assert.equal((await site(a, '/docs')).body.toString(), '<p>docs</p>');
  assert.equal((await site(a, '/app/settings')).status, 404);
  assert.equal((await admin(a, '/settings', { method: 'PATCH', body: { spa_fallback: true } })).status, 200);
  const spa = await site(a, '/app/settings');
  assert.equal(spa.status, 200);
  assert.equal(spa.body.toString(), FILES[0].content);
  assert.equal(spa.headers['cache-control'], 'public, max-age=0, must-revalidate');
  assert.equal((await site(a, '/app/missing.js')).status, 404, 'a missing file is still a 404');
});

test('the project subdomain and a custom domain serve the site at their root', async () => {
  const port = new URL(env.gatewayUrl).port;
  const viaSubdomain = await request('/', { host: `${a.ref}.localhost:${port}` });
  assert.equal(viaSubdomain.status, 200);
  assert.equal(viaSubdomain.body.toString(), FILES[0].content);
  assert.equal((await request('/assets/v1/style.css', { host: `${a.ref}.localhost:${port}` })).status, 200);
  await platform(`/projects/${a.ref}/custom-domains`, { method: 'POST', json: { domain: 'shop.example-basalt.test' } });
  await markVerified('shop.example-basalt.test');
  const home = await request('/', { host: 'shop.example-basalt.test' });
  assert.equal(home.status, 200);
  assert.equal(home.body.toString(), FILES[0].content);
  const js = await request('/assets/app-4f3a9c2b.js', { host: 'shop.example-basalt.test' });
  assert.equal(js.body.toString(), FILES[1].content);
  assert.equal((await request('/', { host: 'unknown.example-basalt.test' })).status, 404);
  // the base host itself has no site
  assert.equal((await request('/')).status, 404);
});

test('a new deploy changes the ETag; delete removes the file and, once unused, its bytes', async () => {
  const before = (await site(a, '/index.html')).headers.etag!;
  await admin(a, '/upload', { method: 'POST', body: { files: [{ path: 'index.html', content: '<title>v2</title>' }, { path: 'copy.css', content: FILES[2].content }] } });
  const after = await site(a, '/index.html', { 'if-none-match': before });
  assert.equal(after.status, 200);
  assert.equal(after.body.toString(), '<title>v2</title>');
  assert.notEqual(after.headers.etag, before);
  const blobs = () => readdirSync(join(env.fleetEnv.STORAGE_FS_ROOT, a.ref, 'a'), { recursive: true }).filter((f) => String(f).length > 60).length;
  const stored = blobs();
  assert.equal((await admin(a, '/files/style.css', { method: 'DELETE' })).status, 200);
  assert.equal((await site(a, '/style.css')).status, 404);
  assert.equal(blobs(), stored, 'copy.css still uses the same bytes');
  assert.equal((await admin(a, '/files/copy.css', { method: 'DELETE' })).status, 200);
  assert.equal(blobs(), stored - 1);
  assert.equal((await admin(a, '/files/copy.css', { method: 'DELETE' })).status, 404);
});

test("one project's site is not another's", async () => {
  assert.equal((await site(b, '/index.html')).status, 404);
  assert.equal((await request(`/project/${b.ref}/assets/v1/assets/app-4f3a9c2b.js`)).status, 404);
});
