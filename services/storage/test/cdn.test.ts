// The CDN host's storage side (/cdn/<ref>/<bucket>/<path>, which the gateway maps cdn.<BASALT_DOMAIN>/<ref>/… and
// the path-prefix form to): the reserved public bucket with no token and long caching (ETag/304), every other
// object only with a short-lived signed token, one project's token never reading another's files.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { signJwt, hmacKey } from '@basalt/jwt';
import { createProject, supabaseClient, testEnv, type TestProject } from '@basalt/testkit';

let a: TestProject;
let b: TestProject;
const storage = () => testEnv().services.storage;
const cdn = (p: TestProject, path: string) => `${storage()}/cdn/${p.ref}/${path}`;

before(async () => {
  [a, b] = await Promise.all([createProject('cdn-a'), createProject('cdn-b')]);
  const s = supabaseClient(a, { key: a.serviceKey }).storage;
  await s.createBucket('cdn', { public: true });
  await s.createBucket('media', { public: true });
  await s.createBucket('private', { public: false });
  await s.from('cdn').upload('site/logo.svg', '<svg xmlns="http://www.w3.org/2000/svg"/>', { contentType: 'image/svg+xml' });
  await s.from('media').upload('clip.txt', 'public bucket, but not the reserved one');
  await s.from('private').upload('secret.txt', 'only with a token');
});

test('the reserved public bucket is served with no token, cached long, and revalidates with ETag and Last-Modified', async () => {
  const r = await fetch(cdn(a, 'cdn/site/logo.svg'));
  assert.equal(r.status, 200);
  assert.equal(await r.text(), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  assert.equal(r.headers.get('cache-control'), 'public, max-age=31536000, stale-while-revalidate=86400');
  assert.equal(r.headers.get('content-type'), 'image/svg+xml');
  assert.match(r.headers.get('content-security-policy') ?? '', /sandbox/);
  const etag = r.headers.get('etag')!;
  assert.equal((await fetch(cdn(a, 'cdn/site/logo.svg'), { headers: { 'if-none-match': etag } })).status, 304);
  assert.equal((await fetch(cdn(a, 'cdn/site/logo.svg'), { headers: { 'if-modified-since': r.headers.get('last-modified')! } })).status, 304);
  const head = await fetch(cdn(a, 'cdn/site/logo.svg'), { method: 'HEAD' });
  assert.equal(head.headers.get('content-length'), '41');
  const missing = await fetch(cdn(a, 'cdn/site/none.svg'));
  assert.equal(missing.status, 400);
  await missing.arrayBuffer();
  // once the reserved bucket is private, nothing in it is served without a token
  const s = supabaseClient(a, { key: a.serviceKey }).storage;
  await s.updateBucket('cdn', { public: false });
  const closed = await fetch(cdn(a, 'cdn/site/logo.svg'));
  assert.equal(closed.status, 400);
  await closed.arrayBuffer();
  await s.updateBucket('cdn', { public: true });
});

test('every other bucket needs a short-lived signed token per read, bound to its object and project', async () => {
  for (const path of ['media/clip.txt', 'private/secret.txt']) {
    const r = await fetch(cdn(a, path));
    assert.equal(r.status, 400, path);
    assert.equal(((await r.json()) as { message: string }).message, 'Missing token');
  }
  const s = supabaseClient(a, { key: a.serviceKey }).storage;
  const signed = await s.from('private').createSignedUrl('secret.txt', 120);
  const token = new URL(signed.data!.signedUrl).searchParams.get('token')!;
  const r = await fetch(`${cdn(a, 'private/secret.txt')}?token=${token}`);
  assert.equal(r.status, 200);
  assert.equal(await r.text(), 'only with a token');
  assert.equal(r.headers.get('cache-control'), 'private, no-cache');
  // another object, another project, or a long-lived token: refused
  assert.equal((await fetch(`${cdn(a, 'media/clip.txt')}?token=${token}`)).status, 400);
  assert.equal((await fetch(`${cdn(b, 'private/secret.txt')}?token=${token}`)).status, 400);
  const long = await s.from('private').createSignedUrl('secret.txt', 7200);
  const longToken = new URL(long.data!.signedUrl).searchParams.get('token')!;
  const refused = await fetch(`${cdn(a, 'private/secret.txt')}?token=${longToken}`);
  assert.equal(refused.status, 400);
  assert.match(((await refused.json()) as { message: string }).message, /at most 3600 seconds/);
  // an upload token is no read token
  const iat = Math.floor(Date.now() / 1000);
  const upload = signJwt({ url: 'private/secret.txt', scope: 'upload', iat, exp: iat + 60 }, hmacKey(a.jwtSecret));
  assert.equal((await fetch(`${cdn(a, 'private/secret.txt')}?token=${upload}`)).status, 400);
  // a token for the reserved bucket works too (a private copy of the same path)
  const viaToken = await s.from('cdn').createSignedUrl('site/logo.svg', 60);
  const t2 = new URL(viaToken.data!.signedUrl).searchParams.get('token')!;
  assert.equal((await fetch(`${cdn(a, 'cdn/site/logo.svg')}?token=${t2}`)).headers.get('cache-control'), 'private, no-cache');
});

test('unknown projects and a gateway naming another project are not served', async () => {
  assert.equal((await fetch(`${storage()}/cdn/abcdefghijklmnopqrst/cdn/site/logo.svg`)).status, 404);
  assert.equal((await fetch(`${storage()}/cdn/not-a-ref/cdn/site/logo.svg`)).status, 404);
  const other = await fetch(cdn(a, 'cdn/site/logo.svg'), { headers: { 'x-basalt-ref': b.ref } });
  assert.equal(other.status, 404);
  await other.arrayBuffer();
});

test('through the gateway: cdn.<domain>/<ref>/… and /cdn/<ref>/… on the base host, with no key', async () => {
  const gateway = new URL(testEnv().gatewayUrl);
  const viaPath = await fetch(`${gateway.origin}/cdn/${a.ref}/cdn/site/logo.svg`);
  assert.equal(viaPath.status, 200);
  assert.equal(await viaPath.text(), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  // the CDN's own host (a Host header: no wildcard DNS here)
  const viaHost = await new Promise<{ status: number; body: string; cache: string | undefined }>((resolve, reject) => {
    const req = request({ host: gateway.hostname, port: gateway.port, path: `/${a.ref}/cdn/site/logo.svg`, headers: { host: 'cdn.localhost' } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, cache: res.headers['cache-control'] }));
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(viaHost.status, 200);
  assert.equal(viaHost.body, '<svg xmlns="http://www.w3.org/2000/svg"/>');
  assert.equal(viaHost.cache, 'public, max-age=31536000, stale-while-revalidate=86400');
  // a private object still needs its token through the gateway
  assert.equal((await fetch(`${gateway.origin}/cdn/${a.ref}/private/secret.txt`)).status, 400);
});
