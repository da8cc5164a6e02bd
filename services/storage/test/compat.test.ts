// Storage details a Supabase client relies on, checked against Supabase Storage's own source: decimal size
// limits ("20MB" = 20,000,000 bytes), transforms that read the image format from the bytes (storage-js uploads
// text/plain by default) with Storage's X-Transformations header, the answer to a request with no
// authorization, and bucket JSON with exactly Storage's fields.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { createProject, supabaseClient, type TestProject } from '@basalt/testkit';

let p: TestProject;
before(async () => {
  p = await createProject('storage-compat');
});

const admin = () => supabaseClient(p, { key: p.serviceKey }).storage;
const errorOf = (e: unknown) => e as { statusCode?: string; message?: string; status?: number };

test('size limits given as strings count decimal units, as Supabase parses them', async () => {
  const s = admin();
  assert.equal((await s.createBucket('twenty', { public: false, fileSizeLimit: '20MB' })).error, null);
  assert.equal((await s.getBucket('twenty')).data!.file_size_limit, 20_000_000);
  assert.equal((await s.updateBucket('twenty', { public: false, fileSizeLimit: '1.5kb' })).error, null);
  assert.equal((await s.getBucket('twenty')).data!.file_size_limit, 1500);
  // the limit is enforced in the same bytes: 1,500 fits, 1,501 does not
  assert.equal((await s.from('twenty').upload('fits.bin', Buffer.alloc(1500))).error, null);
  const over = await s.from('twenty').upload('over.bin', Buffer.alloc(1501));
  assert.equal(errorOf(over.error).statusCode, '413');
  assert.equal(over.error!.message, 'The object exceeded the maximum allowed size');
  // what Supabase's parser refuses, with its words, over raw HTTP as storage-js sends it
  for (const bad of ['10', '10 MB', '10TB', '1.MB', 'MB', '-1MB', '']) {
    const r = await fetch(`${p.url}/storage/v1/bucket`, {
      method: 'POST', headers: { authorization: `Bearer ${p.serviceKey}`, apikey: p.serviceKey, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'bad-size', name: 'bad-size', public: false, file_size_limit: bad }),
    });
    assert.equal(r.status, 400, bad);
    assert.deepEqual(await r.json(), {
      statusCode: '400', code: 'InvalidRequest', error: 'InvalidRequest', message: 'Invalid file size format, hint: use 20GB / 20MB / 30KB / 3B',
    }, bad);
  }
  assert.equal((await s.getBucket('bad-size')).error?.message, 'Bucket not found');
  // above the service's own ceiling (5 GiB by default) is EntityTooLarge, as Storage's global limit is
  const huge = await s.createBucket('huge', { public: false, fileSizeLimit: '6GB' });
  assert.equal(errorOf(huge.error).statusCode, '413');
});

test('transforms read the image format from the bytes, not the stored Content-Type; X-Transformations reads as Storage\'s', async () => {
  const s = admin();
  await s.createBucket('sniff', { public: true });
  const png = await sharp({ create: { width: 300, height: 100, channels: 3, background: '#208040' } }).png().toBuffer();
  const jpeg = await sharp({ create: { width: 300, height: 100, channels: 3, background: '#208040' } }).jpeg().toBuffer();
  // storage-js's default content type for a Buffer body is text/plain;charset=UTF-8
  assert.equal((await s.from('sniff').upload('plain.png', png)).error, null);
  assert.equal((await s.from('sniff').upload('photo', jpeg, { contentType: 'application/octet-stream' })).error, null);
  assert.equal((await s.from('sniff').info('plain.png')).data!.contentType, 'text/plain; charset=utf-8');

  const url = s.from('sniff').getPublicUrl('plain.png', { transform: { width: 150, height: 50, resize: 'contain', format: 'origin' } }).data.publicUrl;
  const r = await fetch(url);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'image/png');
  assert.equal(r.headers.get('x-transformations'), 'height:50,width:150,resizing_type:fit');
  assert.deepEqual(await sharp(Buffer.from(await r.arrayBuffer())).metadata().then((m) => [m.format, m.width, m.height]), ['png', 150, 50]);

  const dl = await s.from('sniff').download('photo', { transform: { width: 60, quality: 50, format: 'origin' } });
  assert.equal(dl.error, null, dl.error?.message);
  assert.deepEqual(await sharp(Buffer.from(await dl.data!.arrayBuffer())).metadata().then((m) => [m.format, m.width]), ['jpeg', 60]);
  const q = await fetch(`${p.url}/storage/v1/render/image/public/sniff/photo?width=60&quality=50&resize=fill&height=20`);
  assert.equal(q.headers.get('x-transformations'), 'height:20,width:60,resizing_type:force,quality:50');
  assert.equal(q.headers.get('content-type'), 'image/jpeg');
  await q.arrayBuffer();
  const avif = await fetch(`${p.url}/storage/v1/render/image/public/sniff/photo?width=30&format=avif`);
  assert.equal(avif.headers.get('x-transformations'), 'width:30,resizing_type:fill,format:avif');
  assert.equal(avif.headers.get('content-type'), 'image/avif');
  await avif.arrayBuffer();
  // no transformation asked: no header
  const none = await fetch(`${p.url}/storage/v1/render/image/public/sniff/photo`);
  assert.equal(none.status, 200);
  assert.equal(none.headers.get('x-transformations'), null);
  await none.arrayBuffer();

  // bytes that are no image are refused whatever type they were stored with
  assert.equal((await s.from('sniff').upload('fake.png', 'not an image at all', { contentType: 'image/png' })).error, null);
  const fake = await fetch(`${p.url}/storage/v1/render/image/public/sniff/fake.png?width=10`);
  assert.equal(fake.status, 400);
  assert.match(((await fake.json()) as { message: string }).message, /not an image/);

  // a signed render URL carries Storage's transformation text and renders the sniffed format
  const signed = await s.from('sniff').createSignedUrl('plain.png', 60, { transform: { width: 30, height: 30 } });
  const claims = JSON.parse(Buffer.from(new URL(signed.data!.signedUrl).searchParams.get('token')!.split('.')[1], 'base64url').toString());
  assert.equal(claims.transformations, 'height:30,width:30,resize:cover');
  const viaSigned = await fetch(signed.data!.signedUrl);
  assert.equal(viaSigned.headers.get('x-transformations'), 'height:30,width:30,resizing_type:fill');
  assert.deepEqual(await sharp(Buffer.from(await viaSigned.arrayBuffer())).metadata().then((m) => [m.width, m.height]), [30, 30]);
});

test('a request with no authorization answers Storage\'s own error; a bad token is AccessDenied with jose\'s words', async () => {
  for (const [method, path] of [['GET', '/bucket'], ['GET', '/bucket/x'], ['POST', '/object/list/x'], ['GET', '/object/x/y.txt'], ['GET', '/render/image/authenticated/x/y.png']]) {
    const r = await fetch(`${p.url}/storage/v1${path}`, { method, headers: method === 'POST' ? { 'content-type': 'application/json' } : {}, body: method === 'POST' ? '{}' : undefined });
    assert.equal(r.status, 400, path);
    assert.deepEqual(await r.json(), {
      statusCode: '400', code: 'InvalidRequest', error: 'Error', message: "headers must have required property 'authorization'",
    }, path);
  }
  // supabase-js with no session sends the key itself, which passes
  assert.equal((await supabaseClient(p).storage.listBuckets()).error, null);
  const bad = async (token: string) => {
    const r = await fetch(`${p.url}/storage/v1/bucket`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 400);
    return r.json();
  };
  assert.deepEqual(await bad('not-a-jwt'), { statusCode: '403', code: 'AccessDenied', error: 'Unauthorized', message: 'Invalid Compact JWS' });
  const [h, b] = p.anonKey.split('.');
  assert.equal(((await bad(`${h}.${b}.${'A'.repeat(43)}`)) as { message: string }).message, 'signature verification failed');
  assert.equal(((await bad(p.token({ sub: 'u', exp: Math.floor(Date.now() / 1000) - 60 }))) as { message: string }).message, '"exp" claim timestamp check failed');
});

test('bucket JSON carries exactly Storage\'s fields: the list with type, a single bucket without; no owner_id', async () => {
  const s = admin();
  await s.createBucket('shape', { public: true, fileSizeLimit: 1000, allowedMimeTypes: ['image/png'] });
  const list = await fetch(`${p.url}/storage/v1/bucket?search=shape`, { headers: { authorization: `Bearer ${p.serviceKey}` } });
  const [listed] = (await list.json()) as Record<string, unknown>[];
  assert.deepEqual(Object.keys(listed), ['id', 'name', 'owner', 'public', 'type', 'file_size_limit', 'allowed_mime_types', 'created_at', 'updated_at']);
  assert.deepEqual({ ...listed, created_at: 0, updated_at: 0 }, {
    id: 'shape', name: 'shape', owner: '', public: true, type: 'STANDARD', file_size_limit: 1000, allowed_mime_types: ['image/png'], created_at: 0, updated_at: 0,
  });
  assert.match(String(listed.created_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const one = (await s.getBucket('shape')).data as unknown as Record<string, unknown>;
  assert.deepEqual(Object.keys(one), ['id', 'name', 'owner', 'public', 'file_size_limit', 'allowed_mime_types', 'created_at', 'updated_at']);
  // supabase-py before 2.18.0 (storage3 before 0.12.1) cannot read a bucket's type: Storage leaves it out for them
  for (const headers of [{ 'x-client-info': 'supabase-py/2.17.0' }, { 'user-agent': 'python-httpx storage3/0.12.0' }] as Record<string, string>[]) {
    const old = await fetch(`${p.url}/storage/v1/bucket?search=shape`, { headers: { authorization: `Bearer ${p.serviceKey}`, ...headers } });
    assert.equal('type' in ((await old.json()) as Record<string, unknown>[])[0], false);
  }
  const newer = await fetch(`${p.url}/storage/v1/bucket?search=shape`, { headers: { authorization: `Bearer ${p.serviceKey}`, 'x-client-info': 'supabase-py/2.18.0' } });
  assert.equal(((await newer.json()) as Record<string, unknown>[])[0].type, 'STANDARD');
});
