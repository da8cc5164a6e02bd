// Content types through the gateway: parsed on every upload path (raw POST/PUT, multipart field, signed upload,
// TUS metadata) and refused when they are not one type/subtype; only the parsed type is stored, checked against
// the bucket's allow-list and served; rows stored before the rule are served as bytes; nosniff everywhere.
import { before, test } from 'node:test';
import net from 'node:net';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { createProject, rawHttp, supabaseClient, testEnv, type TestProject } from '@basalt/testkit';

const env = testEnv();
let p: TestProject;

before(async () => {
  p = await createProject('content-types');
});

const admin = () => supabaseClient(p, { key: p.serviceKey }).storage;
const auth = () => ({ authorization: `Bearer ${p.serviceKey}` });
const MALFORMED = ['text/plain, text/html', 'text/plain foo', 'multipart/x-mixed-replace; boundary=x', 'text/', '/html', 'text/html; charset=utf-8, text/plain'];
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** The Storage error every refusal of a malformed type answers with. */
function assertMalformed(status: number, body: unknown, what: string) {
  assert.equal(status, 400, what);
  const e = body as { statusCode: string; error: string; message: string };
  assert.equal(e.statusCode, '400', what);
  assert.equal(e.error, 'invalid_mime_type', what);
  assert.match(e.message, /Content-Type must be exactly one type\/subtype/, what);
}

test('a content type that is not one type/subtype is refused on every upload path, and nothing is stored', async () => {
  const s = admin();
  await s.createBucket('strict', { public: true });
  const path = `/project/${p.ref}/storage/v1`;
  for (const type of MALFORMED) {
    for (const method of ['POST', 'PUT']) {
      const r = await rawHttp(env.gatewayUrl, `${path}/object/strict/raw.html`, { method, headers: { ...auth(), 'content-type': type }, body: '<script>1</script>' });
      assertMalformed(r.status, JSON.parse(r.body.toString()), `${method} raw ${type}`);
    }
    // storage-js sends its contentType option as the raw body's header
    const viaJs = await s.from('strict').upload('js.html', Buffer.from('<b>x</b>'), { contentType: type });
    assert.equal((viaJs.error as { statusCode?: string } | null)?.statusCode, '400', `supabase-js ${type}`);
    // multipart: the contentType field names the object's type
    const form = new FormData();
    form.append('contentType', type);
    form.append('', new Blob(['<script>1</script>']), 'form.html');
    const multi = await fetch(`${p.url}/storage/v1/object/strict/form.html`, { method: 'POST', headers: auth(), body: form });
    assertMalformed(multi.status, await multi.json(), `multipart ${type}`);
    // a signed upload URL
    const signed = await s.from('strict').createSignedUploadUrl(`signed-${MALFORMED.indexOf(type)}.html`);
    const put = await s.from('strict').uploadToSignedUrl(signed.data!.path, signed.data!.token, Buffer.from('<script>1</script>'), { contentType: type });
    assert.equal((put.error as { statusCode?: string } | null)?.statusCode, '400', `signed upload ${type}`);
    // TUS: the contentType of Upload-Metadata
    const tus = await fetch(`${p.url}/storage/v1/upload/resumable`, { method: 'POST', headers: {
      ...auth(), 'tus-resumable': '1.0.0', 'upload-length': '5',
      'upload-metadata': `bucketName ${b64('strict')},objectName ${b64('tus.html')},contentType ${b64(type)}`,
    } });
    assertMalformed(tus.status, await tus.json(), `TUS ${type}`);
  }
  // the request's own type must parse too: a "multipart" that is a list is not read as a form
  const list = await rawHttp(env.gatewayUrl, `${path}/object/strict/x.bin`, { method: 'POST', headers: { ...auth(), 'content-type': 'multipart/form-data; boundary=b, text/html' }, body: 'x' });
  assert.equal(JSON.parse(list.body.toString()).error, 'invalid_mime_type');
  assert.deepEqual((await s.from('strict').list()).data, []);
  assert.deepEqual(await p.sql(`select id from storage.resumable_uploads where bucket_id = 'strict'`), []);
});

test('a refused upload\'s answer reaches a client still sending its body, which reads only afterwards', async () => {
  // Storage answers from the head and closes; the client's late body bytes must not reset the connection, or the
  // reset takes the unread answer with it (the gateway lost 400s this way under load)
  await admin().createBucket('linger');
  const { hostname, port } = new URL(env.services.storage);
  const socket = net.connect(Number(port), hostname);
  socket.on('error', () => undefined);
  const closed = new Promise((r) => socket.once('close', r));
  socket.pause();
  await new Promise((r) => socket.once('connect', r));
  socket.write(`POST /storage/v1/object/linger/x.html HTTP/1.1\r\nhost: storage\r\nx-basalt-ref: ${p.ref}\r\nauthorization: Bearer ${p.serviceKey}\r\n`
    + `content-type: /html\r\ncontent-length: 200000\r\n\r\n${'a'.repeat(1000)}`);
  await new Promise((r) => setTimeout(r, 200)); // the answer arrives, unread
  for (let i = 0; i < 20; i++) socket.write(Buffer.alloc(9950, 'b'));
  await new Promise((r) => setTimeout(r, 200));
  let got = '';
  socket.on('data', (c) => (got += c));
  socket.resume();
  await closed;
  assert.match(got, /^HTTP\/1\.1 400 /);
  assert.match(got, /invalid_mime_type/);
});

test('the parsed, lower-cased type is what is stored, checked against the allow-list and served', async () => {
  const s = admin();
  await s.createBucket('typed', { public: true, allowedMimeTypes: ['text/plain', 'image/svg+xml'] });
  const up = await s.from('typed').upload('a.txt', Buffer.from('hello'), { contentType: 'TEXT/Plain ;Charset="UTF-8"' });
  assert.equal(up.error, null, up.error?.message);
  assert.equal((await s.from('typed').info('a.txt')).data!.contentType, 'text/plain; charset=utf-8');
  const got = await fetch(s.from('typed').getPublicUrl('a.txt').data.publicUrl);
  assert.equal(got.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(await got.text(), 'hello');
  // a list that starts with an allowed type is not let through by it
  const sneaky = await s.from('typed').upload('b.html', Buffer.from('<script>1</script>'), { contentType: 'text/plain, text/html' });
  assert.equal((sneaky.error as { statusCode?: string } | null)?.statusCode, '400');
  const html = await s.from('typed').upload('c.html', Buffer.from('<script>1</script>'), { contentType: 'Text/HTML' });
  assert.equal((html.error as { statusCode?: string } | null)?.statusCode, '415');
  assert.match(html.error!.message, /^mime type text\/html is not supported$/);
  const svg = await s.from('typed').upload('d.svg', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), { contentType: 'IMAGE/SVG+XML' });
  assert.equal(svg.error, null);
  const served = await fetch(s.from('typed').getPublicUrl('d.svg').data.publicUrl);
  assert.equal(served.headers.get('content-type'), 'image/svg+xml');
  assert.match(served.headers.get('content-security-policy') ?? '', /^sandbox;/);
  await served.arrayBuffer();
});

test('rows stored with a malformed type before the rule are served as application/octet-stream', async () => {
  const s = admin();
  await s.createBucket('legacy', { public: true });
  const bad = ['text/plain, text/html', 'text/html foo', 'multipart/x-mixed-replace; boundary=x'];
  for (const [i, type] of bad.entries()) {
    await s.from('legacy').upload(`old-${i}.html`, Buffer.from('<script>window.x=1</script>'), { contentType: 'application/octet-stream' });
    await p.sql(`update storage.objects set metadata = jsonb_set(metadata, '{mimetype}', '${JSON.stringify(type)}') where bucket_id = 'legacy' and name = 'old-${i}.html'`);
    const url = s.from('legacy').getPublicUrl(`old-${i}.html`).data.publicUrl;
    const signed = (await s.from('legacy').createSignedUrl(`old-${i}.html`, 60)).data!.signedUrl;
    for (const [what, r] of [['public', await fetch(url)], ['HEAD', await fetch(url, { method: 'HEAD' })], ['signed', await fetch(signed)],
      ['authenticated', await fetch(`${p.url}/storage/v1/object/authenticated/legacy/old-${i}.html`, { headers: auth() })]] as const) {
      assert.equal(r.headers.get('content-type'), 'application/octet-stream', `${what} ${type}`);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', `${what} ${type}`);
      await r.arrayBuffer();
    }
  }
});

test('every object and asset response carries X-Content-Type-Options: nosniff', async () => {
  const s = admin();
  await s.createBucket('sniff', { public: true });
  const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } }).png().toBuffer();
  await s.from('sniff').upload('p.png', png, { contentType: 'image/png' });
  const pub = s.from('sniff').getPublicUrl('p.png').data.publicUrl;
  const etag = (await fetch(pub, { method: 'HEAD' })).headers.get('etag')!;
  const authed = `${p.url}/storage/v1/object/authenticated/sniff/p.png`;
  const assetsUp = await fetch(`${p.url}/assets/admin/v1/upload`, {
    method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ files: [{ path: 'i.txt', content: 'hi' }] }),
  });
  assert.equal(assetsUp.status, 200);
  const asset = `${p.url}/assets/v1/i.txt`;
  const assetEtag = (await fetch(asset, { method: 'HEAD' })).headers.get('etag')!;
  const cases: [string, string, RequestInit?][] = [
    ['public', pub],
    ['public HEAD', pub, { method: 'HEAD' }],
    ['public 304', pub, { headers: { 'if-none-match': etag } }],
    ['public range', pub, { headers: { range: 'bytes=0-3' } }],
    ['public 416', pub, { headers: { range: 'bytes=100000-' } }],
    ['authenticated', authed, { headers: auth() }],
    ['signed', (await s.from('sniff').createSignedUrl('p.png', 60)).data!.signedUrl],
    ['render', s.from('sniff').getPublicUrl('p.png', { transform: { width: 2 } }).data.publicUrl],
    ['info', `${p.url}/storage/v1/object/info/public/sniff/p.png`],
    ['missing', `${p.url}/storage/v1/object/public/sniff/nope.png`],
    ['asset', asset],
    ['asset 304', asset, { headers: { 'if-none-match': assetEtag } }],
    ['asset missing', `${p.url}/assets/v1/nope.txt`],
  ];
  for (const [what, url, init] of cases) {
    const r = await fetch(url, init);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff', `${what} (${r.status})`);
    await r.arrayBuffer();
  }
});
