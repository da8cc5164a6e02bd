// Image transformation through storage-js `transform` options: authenticated, public and signed render URLs,
// resize modes, WebP negotiation, and the refusals (bad parameters, non-images, wrong token kind).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createProject, supabaseClient, testEnv, type TestProject } from '@basalt/testkit';

let p: TestProject;
let png: Buffer;

before(async () => {
  p = await createProject('render');
  png = await sharp({ create: { width: 400, height: 200, channels: 3, background: '#3366cc' } }).png().toBuffer();
  const s = supabaseClient(p, { key: p.serviceKey }).storage;
  await s.createBucket('pics', { public: true });
  await s.createBucket('private-pics', { public: false });
  await s.from('pics').upload('wide.png', png, { contentType: 'image/png' });
  await s.from('pics').upload('notes.txt', 'not an image', { contentType: 'text/plain' });
  await s.from('private-pics').upload('wide.png', png, { contentType: 'image/png' });
});

const meta = async (body: ArrayBuffer | Blob) => sharp(Buffer.from(body instanceof Blob ? await body.arrayBuffer() : body)).metadata();

test('download with a transform resizes (contain keeps the aspect ratio, cover fills the box) and keeps the format', async () => {
  const s = supabaseClient(p, { key: p.serviceKey }).storage;
  const contain = await s.from('pics').download('wide.png', { transform: { width: 100, height: 100, resize: 'contain' } });
  assert.equal(contain.error, null, contain.error?.message);
  assert.deepEqual(await meta(contain.data!).then((m) => [m.width, m.height, m.format]), [100, 50, 'png']);
  const cover = await s.from('pics').download('wide.png', { transform: { width: 100, height: 100, resize: 'cover' } });
  assert.deepEqual(await meta(cover.data!).then((m) => [m.width, m.height]), [100, 100]);
  const fill = await s.from('pics').download('wide.png', { transform: { width: 120, height: 30, resize: 'fill' } });
  assert.deepEqual(await meta(fill.data!).then((m) => [m.width, m.height]), [120, 30]);
});

test('public render URLs need no key, negotiate WebP, and answer 304 to their ETag', async () => {
  const s = supabaseClient(p).storage;
  const url = s.from('pics').getPublicUrl('wide.png', { transform: { width: 80 } }).data.publicUrl;
  assert.match(url, /\/render\/image\/public\/pics\/wide\.png\?width=80/);
  const webp = await fetch(url, { headers: { accept: 'image/avif,image/webp,*/*' } });
  assert.equal(webp.status, 200);
  assert.equal(webp.headers.get('content-type'), 'image/webp');
  assert.deepEqual(await meta(await webp.arrayBuffer()).then((m) => [m.width, m.height, m.format]), [80, 40, 'webp']);
  const etag = webp.headers.get('etag')!;
  assert.equal((await fetch(url, { headers: { accept: 'image/webp', 'if-none-match': etag } })).status, 304);
  const origin = await fetch(`${url}&format=origin`, { headers: { accept: 'image/webp' } });
  assert.equal(origin.headers.get('content-type'), 'image/png');
  await origin.arrayBuffer();
  // a private bucket has no public render
  const hidden = await fetch(s.from('private-pics').getPublicUrl('wide.png', { transform: { width: 80 } }).data.publicUrl);
  assert.equal(hidden.status, 400);
  await hidden.arrayBuffer();
});

test('signed render URLs carry their transform; plain and render tokens are not interchangeable', async () => {
  const s = supabaseClient(p, { key: p.serviceKey }).storage;
  const signed = await s.from('private-pics').createSignedUrl('wide.png', 60, { transform: { width: 64, height: 64, resize: 'cover' } });
  assert.equal(signed.error, null, signed.error?.message);
  const url = new URL(signed.data!.signedUrl);
  assert.match(url.pathname, /\/render\/image\/sign\/private-pics\/wide\.png$/);
  const r = await fetch(url);
  assert.equal(r.status, 200);
  assert.deepEqual(await meta(await r.arrayBuffer()).then((m) => [m.width, m.height]), [64, 64]);
  // query parameters cannot change what the token was signed for
  const wider = new URL(url);
  wider.searchParams.set('width', '2000');
  assert.deepEqual(await meta(await (await fetch(wider)).arrayBuffer()).then((m) => m.width), 64);
  // the render token on the plain download route, and a plain token on the render route, are refused
  const onPlain = new URL(url);
  onPlain.pathname = onPlain.pathname.replace('/render/image/sign/', '/object/sign/');
  assert.equal((await fetch(onPlain)).status, 400);
  const plain = await s.from('private-pics').createSignedUrl('wide.png', 60);
  const onRender = new URL(plain.data!.signedUrl);
  onRender.pathname = onRender.pathname.replace('/object/sign/', '/render/image/sign/');
  assert.equal((await fetch(onRender)).status, 400);
});

test('bad parameters and non-images are a 400', async () => {
  const base = `${p.url}/storage/v1/render/image/public/pics`;
  for (const q of ['width=99999', 'height=-1', 'resize=stretch', 'format=gif', 'quality=5', 'width=abc']) {
    const r = await fetch(`${base}/wide.png?${q}`);
    assert.equal(r.status, 400, q);
    await r.arrayBuffer();
  }
  const text = await fetch(`${base}/notes.txt?width=10`);
  assert.equal(text.status, 400);
  assert.match(((await text.json()) as { message: string }).message, /Cannot transform/);
  // the authenticated route needs a token (Storage's header schema refuses the request without one)
  const anon = await fetch(`${p.url}/storage/v1/render/image/authenticated/private-pics/wide.png?width=10`);
  assert.equal(anon.status, 400);
  assert.equal(((await anon.json()) as { message: string }).message, "headers must have required property 'authorization'");
});

test('a rendered variant is kept per object version: computed once, replaced when the object is', async () => {
  const s = supabaseClient(p, { key: p.serviceKey }).storage;
  await s.from('pics').upload('cached.png', png, { contentType: 'image/png' });
  const url = `${p.url}/storage/v1/render/image/public/pics/cached.png?width=40`;
  const variants = () => {
    try {
      return readdirSync(join(testEnv().fleetEnv.STORAGE_FS_ROOT, p.ref, 'r'), { recursive: true }).filter((f) => String(f).length > 40).length;
    } catch {
      return 0;
    }
  };
  const before = variants();
  const first = await fetch(url);
  const etag = first.headers.get('etag');
  assert.deepEqual(await meta(await first.arrayBuffer()).then((m) => m.width), 40);
  assert.equal(variants(), before + 1);
  const again = await fetch(url);
  assert.equal(again.headers.get('etag'), etag);
  await again.arrayBuffer();
  assert.equal(variants(), before + 1, 'the second request is served from the kept variant');
  // a new version of the object renders anew
  const square = await sharp({ create: { width: 100, height: 100, channels: 3, background: '#000' } }).png().toBuffer();
  await s.from('pics').upload('cached.png', square, { contentType: 'image/png', upsert: true });
  const fresh = await fetch(url);
  assert.notEqual(fresh.headers.get('etag'), etag);
  assert.deepEqual(await meta(await fresh.arrayBuffer()).then((m) => [m.width, m.height]), [40, 40]);
});
