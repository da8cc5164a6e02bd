// Storage through the gateway with supabase-js (filesystem backend): buckets, the object lifecycle, RLS with
// user tokens, size and MIME limits, signed-URL scope/expiry/tampering, traversal, and project isolation.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import { existsSync, mkdirSync, readdirSync, readlinkSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createProject, eventually, rawHttp, supabaseClient, testEnv, type TestProject } from '@basalt/testkit';
import { objectLifecycle, resumableLifecycle } from './lifecycle.js';
import { tusRaces } from './tus-races.js';

let a: TestProject;
let b: TestProject;
const env = testEnv();
const root = env.fleetEnv.STORAGE_FS_ROOT;

before(async () => {
  [a, b] = await Promise.all([createProject('storage-a'), createProject('storage-b')]);
});

const admin = (p: TestProject) => supabaseClient(p, { key: p.serviceKey }).storage;
const asUser = (p: TestProject, sub: string) => supabaseClient(p, { accessToken: p.token({ sub }) }).storage;
const statusOf = (e: unknown) => (e as { statusCode?: string } | null)?.statusCode;

/** every file under a project's directory of the filesystem backend */
function filesOf(ref: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) (e.isDirectory() ? walk : (f: string) => out.push(f))(join(d, e.name));
  };
  walk(join(root, ref));
  return out;
}

test('the object lifecycle works end to end with supabase-js on the filesystem backend', async () => {
  await objectLifecycle(supabaseClient(a, { key: a.serviceKey }), (url, init) => fetch(url, init), 'life');
});

test('resumable (TUS) uploads: chunks, resume after an interruption, termination; RLS and limits at creation', async () => {
  await resumableLifecycle(a.url, a.serviceKey, supabaseClient(a, { key: a.serviceKey }), 'tus');
  const endpoint = `${a.url}/storage/v1/upload/resumable`;
  const meta = (bucket: string, name: string) => `bucketName ${Buffer.from(bucket).toString('base64')},objectName ${Buffer.from(name).toString('base64')}`;
  const create = (headers: Record<string, string>) => fetch(endpoint, { method: 'POST', headers: { 'tus-resumable': '1.0.0', ...headers } });
  // without a policy a user may not start one; bad names and missing lengths are refused
  const user = await create({ authorization: `Bearer ${a.token({ sub: randomUUID() })}`, 'upload-length': '10', 'upload-metadata': meta('tus', 'u.bin') });
  assert.equal(user.status, 400);
  assert.equal(((await user.json()) as { statusCode: string }).statusCode, '403');
  const svc = { authorization: `Bearer ${a.serviceKey}` };
  assert.equal((await create({ ...svc, 'upload-length': '10', 'upload-metadata': meta('tus', '../x') })).status, 400);
  assert.equal((await create({ ...svc, 'upload-metadata': meta('tus', 'x.bin') })).status, 400);
  assert.equal((await create({ ...svc, 'upload-length': '10', 'upload-metadata': meta('nope', 'x.bin') })).status, 400);
  // a length beyond the bucket's limit is refused before a byte is sent
  await admin(a).createBucket('tus-small', { public: false, fileSizeLimit: 100 });
  const big = await create({ ...svc, 'upload-length': '1000', 'upload-metadata': meta('tus-small', 'x.bin') });
  assert.equal(((await big.json()) as { statusCode: string }).statusCode, '413');
});

for (const race of tusRaces) {
  test(`TUS on the filesystem backend: ${race.name}`, () => race.run({ origin: env.services.storage, ref: a.ref, serviceKey: a.serviceKey }));
}

test('buckets: create, get, list, update, and the errors storage-js expects', async () => {
  const s = admin(a);
  const made = await s.createBucket('images', { public: false, fileSizeLimit: '1MB', allowedMimeTypes: ['image/*', 'application/pdf'] });
  assert.deepEqual(made, { data: { name: 'images' }, error: null });
  const got = await s.getBucket('images');
  assert.equal(got.error, null);
  assert.equal(got.data!.file_size_limit, 1_000_000); // Supabase's units are decimal
  assert.deepEqual(got.data!.allowed_mime_types, ['image/*', 'application/pdf']);
  assert.equal(got.data!.public, false);
  const again = await s.createBucket('images');
  assert.equal(statusOf(again.error), '409');
  assert.equal((await s.updateBucket('images', { public: true, fileSizeLimit: 2048 })).error, null);
  const updated = (await s.getBucket('images')).data!;
  assert.equal(updated.public, true);
  assert.equal(updated.file_size_limit, 2048);
  assert.ok((await s.listBuckets()).data!.some((x) => x.id === 'images'));
  const missing = await s.getBucket('nope');
  assert.equal(statusOf(missing.error), '404');
  assert.equal(missing.error!.message, 'Bucket not found');
  assert.equal(statusOf((await s.createBucket('bad/name')).error), '400');
  // without a policy, anon and users can do nothing with buckets
  const anon = supabaseClient(a).storage;
  assert.equal(statusOf((await anon.createBucket('anon-bucket')).error), '403');
  assert.deepEqual((await anon.listBuckets()).data, []);
});

test('size and MIME limits refuse the upload and leave nothing behind', async () => {
  const s = admin(a);
  await s.createBucket('limited', { public: false, fileSizeLimit: 1000, allowedMimeTypes: ['image/*'] });
  const before = new Set(filesOf(a.ref));
  const big = await s.from('limited').upload('big.png', Buffer.alloc(5000), { contentType: 'image/png' });
  assert.equal(statusOf(big.error), '413');
  assert.equal(big.error!.message, 'The object exceeded the maximum allowed size');
  // a chunked body with no content-length is cut off while streaming
  const stream = new ReadableStream({ start(c) { for (let i = 0; i < 10; i++) c.enqueue(new Uint8Array(500)); c.close(); } });
  const chunked = await fetch(`${a.url}/storage/v1/object/limited/chunked.png`, {
    method: 'POST', body: stream, duplex: 'half', headers: { authorization: `Bearer ${a.serviceKey}`, apikey: a.serviceKey, 'content-type': 'image/png' },
  } as RequestInit);
  assert.equal(chunked.status, 400);
  assert.equal(((await chunked.json()) as { statusCode: string }).statusCode, '413');
  const wrongType = await s.from('limited').upload('doc.txt', 'text', { contentType: 'text/plain' });
  assert.equal(statusOf(wrongType.error), '415');
  assert.equal((await s.from('limited').upload('ok.png', Buffer.alloc(100), { contentType: 'image/png' })).error, null);
  assert.deepEqual((await s.from('limited').list()).data!.map((o) => o.name), ['ok.png']);
  // checked by name, not by count (a CI run once counted one file more, which a count cannot name): the accepted
  // upload's version is on disk, and no file that appeared is bytes no row points at
  const live = new Set((await a.sql(`select version from storage.objects union all select version from storage.resumable_uploads`)).map((r) => r.version as string));
  const [{ version }] = await a.sql(`select version from storage.objects where bucket_id = 'limited' and name = 'ok.png'`);
  const added = filesOf(a.ref).filter((f) => !before.has(f)).map((f) => basename(f));
  assert.deepEqual(added.filter((v) => !live.has(v)), [], 'a refused upload left bytes on disk');
  assert.ok(added.includes(version as string), 'the accepted upload is on disk');
});

test('concurrent upserts of one key keep exactly one version of its bytes', async () => {
  const s = admin(a);
  await s.createBucket('race');
  const before = filesOf(a.ref).length;
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => s.from('race').upload('same.txt', `writer ${i}`, { upsert: true })));
  assert.ok(results.every((r) => r.error === null), JSON.stringify(results.map((r) => r.error)));
  assert.match(await (await s.from('race').download('same.txt')).data!.text(), /^writer \d+$/);
  assert.equal(filesOf(a.ref).length, before + 1, 'every replaced version was removed');
});

test('listV2 pages through names with a cursor, flat or grouped by folder', async () => {
  const s = admin(a);
  await s.createBucket('v2');
  for (const n of ['a.txt', 'b/1.txt', 'b/2.txt', 'b/c/3.txt', 'c.txt', 'd/4.txt']) await s.from('v2').upload(n, n);
  const flat = await s.from('v2').listV2({ limit: 4 });
  assert.equal(flat.error, null, flat.error?.message);
  assert.deepEqual(flat.data!.objects.map((o) => o.name), ['a.txt', 'b/1.txt', 'b/2.txt', 'b/c/3.txt']);
  assert.equal(flat.data!.hasNext, true);
  const rest = await s.from('v2').listV2({ limit: 4, cursor: flat.data!.nextCursor });
  assert.deepEqual(rest.data!.objects.map((o) => o.name), ['c.txt', 'd/4.txt']);
  assert.equal(rest.data!.hasNext, false);
  const grouped = await s.from('v2').listV2({ with_delimiter: true });
  assert.deepEqual(grouped.data!.folders.map((f) => f.key), ['b/', 'd/']);
  assert.deepEqual(grouped.data!.objects.map((o) => o.name), ['a.txt', 'c.txt']);
  assert.equal((grouped.data!.objects[0].metadata as { size: number }).size, 5);
  const inside = await s.from('v2').listV2({ prefix: 'b/', with_delimiter: true, limit: 2 });
  assert.deepEqual([inside.data!.objects.map((o) => o.name), inside.data!.folders.map((f) => f.name)], [['b/1.txt', 'b/2.txt'], []]);
  const next = await s.from('v2').listV2({ prefix: 'b/', with_delimiter: true, limit: 2, cursor: inside.data!.nextCursor });
  assert.deepEqual(next.data!.folders, [{ name: 'c', key: 'b/c/' }]);
  // the anon role sees nothing without a policy
  assert.deepEqual((await supabaseClient(a).storage.from('v2').listV2()).data?.objects ?? [], []);
});

test('an upload the client abandons halfway leaves neither a row nor bytes', async () => {
  const s = admin(a);
  await s.createBucket('abandoned');
  const before = filesOf(a.ref).length;
  const u = new URL(`${a.url}/storage/v1/object/abandoned/half.bin`);
  await new Promise<void>((resolve) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: {
      authorization: `Bearer ${a.serviceKey}`, 'content-type': 'application/octet-stream', 'content-length': String(10 * 1024 * 1024),
    } });
    req.on('error', () => resolve());
    req.write(Buffer.alloc(1024 * 1024), () => setTimeout(() => (req.destroy(), resolve()), 200));
  });
  // the service notices the cut connection and removes the partial file: at once on a quiet machine, later under load
  await eventually(() => filesOf(a.ref).length === before, 15_000, 100).catch(() => undefined);
  assert.deepEqual((await s.from('abandoned').list()).data, []);
  assert.equal(filesOf(a.ref).length, before, 'the partial file was removed');
});

test('uploaded HTML downloads as plain text and SVG sandboxed, never run on the API origin', async () => {
  const s = admin(a);
  await s.createBucket('pages', { public: true });
  await s.from('pages').upload('x.html', '<script>alert(1)</script>', { contentType: 'text/html' });
  const r = await fetch(s.from('pages').getPublicUrl('x.html').data.publicUrl);
  assert.equal(r.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(await r.text(), '<script>alert(1)</script>');
  assert.equal((await s.from('pages').info('x.html')).data!.contentType, 'text/html', 'the stored type is kept');
  await s.from('pages').upload('x.svg', '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', { contentType: 'image/svg+xml' });
  const svg = await fetch(s.from('pages').getPublicUrl('x.svg').data.publicUrl);
  assert.equal(svg.headers.get('content-type'), 'image/svg+xml');
  assert.match(svg.headers.get('content-security-policy') ?? '', /^sandbox;/);
  await svg.arrayBuffer();
});

test('downloads the client abandons release their files and leave the service serving', async () => {
  const s = admin(a);
  await s.createBucket('leave');
  await s.from('leave').upload('big.bin', Buffer.alloc(24 * 1024 * 1024, 7));
  const [{ version }] = await a.sql(`select version from storage.objects where bucket_id = 'leave' and name = 'big.bin'`);
  const file = join(root, a.ref, 'o', version.slice(0, 2), version);
  /** descriptors any process holds on the object's file (only the storage service would) */
  const holders = () => readdirSync('/proc').filter((pid) => /^\d+$/.test(pid)).reduce((n, pid) => {
    try {
      return n + readdirSync(`/proc/${pid}/fd`).filter((fd) => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`) === file;
        } catch {
          return false;
        }
      }).length;
    } catch {
      return n;
    }
  }, 0);
  for (let i = 0; i < 5; i++) {
    const ctl = new AbortController();
    const r = await fetch(`${a.url}/storage/v1/object/leave/big.bin`, { headers: { authorization: `Bearer ${a.serviceKey}` }, signal: ctl.signal });
    const reader = r.body!.getReader();
    await reader.read();
    ctl.abort();
    await reader.cancel().catch(() => undefined);
  }
  await eventually(() => holders() === 0, 5000);
  const whole = await s.from('leave').download('big.bin');
  assert.equal((await whole.data!.arrayBuffer()).byteLength, 24 * 1024 * 1024);
});

test('RLS on storage.objects decides for user tokens: folder-per-user policies', async () => {
  await admin(a).createBucket('homes');
  await a.sql(`
    create policy "own folder: read" on storage.objects for select to authenticated
      using (bucket_id = 'homes' and (storage.foldername(name))[1] = auth.uid()::text);
    create policy "own folder: write" on storage.objects for insert to authenticated
      with check (bucket_id = 'homes' and (storage.foldername(name))[1] = auth.uid()::text and owner_id = auth.uid()::text);
    create policy "own folder: update" on storage.objects for update to authenticated
      using (bucket_id = 'homes' and (storage.foldername(name))[1] = auth.uid()::text);
    create policy "own folder: delete" on storage.objects for delete to authenticated
      using (bucket_id = 'homes' and (storage.foldername(name))[1] = auth.uid()::text);`);
  const alice = randomUUID();
  const bob = randomUUID();
  const sa = asUser(a, alice);
  const sb = asUser(a, bob);
  assert.equal((await sa.from('homes').upload(`${alice}/note.txt`, 'alice')).error, null);
  const intrude = await sa.from('homes').upload(`${bob}/note.txt`, 'not yours');
  assert.equal(statusOf(intrude.error), '403');
  assert.match(intrude.error!.message, /row-level security/);
  // Bob sees nothing of Alice's: not the file, not its info, not a signed URL, not a listing
  assert.equal(statusOf((await sb.from('homes').download(`${alice}/note.txt`)).error), '404');
  assert.equal((await sb.from('homes').exists(`${alice}/note.txt`)).data, false);
  assert.notEqual((await sb.from('homes').createSignedUrl(`${alice}/note.txt`, 60)).error, null);
  assert.deepEqual((await sb.from('homes').list(alice)).data, []);
  assert.deepEqual((await sb.from('homes').remove([`${alice}/note.txt`])).data, []);
  // Bob cannot overwrite Alice's file with an upsert, nor move it into his folder
  assert.notEqual((await sb.from('homes').upload(`${alice}/note.txt`, 'overwrite', { upsert: true })).error, null);
  assert.notEqual((await sb.from('homes').move(`${alice}/note.txt`, `${bob}/stolen.txt`)).error, null);
  // anon (no policy) is refused too
  assert.equal(statusOf((await supabaseClient(a).storage.from('homes').upload(`${alice}/x.txt`, 'x')).error), '403');
  // Alice can do all of it in her folder
  assert.equal(await (await sa.from('homes').download(`${alice}/note.txt`)).data!.text(), 'alice');
  assert.deepEqual((await sa.from('homes').list(alice)).data!.map((o) => o.name), ['note.txt']);
  assert.equal((await sa.from('homes').upload(`${alice}/note.txt`, 'alice v2', { upsert: true })).error, null);
  assert.equal(await (await sa.from('homes').download(`${alice}/note.txt`)).data!.text(), 'alice v2');
  const [row] = await a.sql(`select owner_id, metadata->>'size' as size from storage.objects where name = '${alice}/note.txt'`);
  assert.deepEqual(row, { owner_id: alice, size: '8' });
  assert.equal((await sa.from('homes').remove([`${alice}/note.txt`])).data!.length, 1);
  // a private bucket is not readable through the public route
  const pub = await fetch(admin(a).from('homes').getPublicUrl(`${alice}/note.txt`).data.publicUrl);
  assert.equal(pub.status, 400);
  assert.equal(((await pub.json()) as { message: string }).message, 'Bucket not found');
});

test('signed URLs are bound to their object, scope and expiry; tampered or expired ones are refused', async () => {
  const s = admin(a);
  await s.createBucket('signed');
  await s.from('signed').upload('one.txt', 'one');
  await s.from('signed').upload('two.txt', 'two');
  const { data } = await s.from('signed').createSignedUrl('one.txt', 60);
  const url = new URL(data!.signedUrl);
  const token = url.searchParams.get('token')!;
  assert.equal((await fetch(url)).status, 200);
  // the same token for another object, another project, a changed payload or signature
  const other = new URL(url);
  other.pathname = other.pathname.replace('one.txt', 'two.txt');
  assert.equal((await fetch(other)).status, 400);
  const otherProject = new URL(url.toString().replace(a.ref, b.ref));
  await admin(b).createBucket('signed');
  await admin(b).from('signed').upload('one.txt', 'b one');
  assert.equal((await fetch(otherProject)).status, 400, "project A's token is not valid in project B");
  const [h, p, sig] = token.split('.');
  const forged = JSON.parse(Buffer.from(p, 'base64url').toString());
  forged.url = 'signed/two.txt';
  const tampered = new URL(other);
  tampered.searchParams.set('token', `${h}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${sig}`);
  const r = await fetch(tampered);
  assert.equal(r.status, 400);
  assert.equal(((await r.json()) as { code: string }).code, 'InvalidSignature');
  // a download token does not upload, an upload token does not download
  const put = await fetch(`${a.url}/storage/v1/object/upload/sign/signed/one.txt?token=${token}`, { method: 'PUT', body: 'overwritten' });
  assert.equal(put.status, 400);
  const up = await s.from('signed').createSignedUploadUrl('three.txt');
  assert.equal((await fetch(`${a.url}/storage/v1/object/sign/signed/three.txt?token=${up.data!.token}`)).status, 400);
  assert.equal(await (await s.from('signed').download('one.txt')).data!.text(), 'one');
  // the signer chooses every claim: extra fields in the request cannot widen the token
  const sign = await fetch(`${a.url}/storage/v1/object/sign/signed/one.txt`, {
    method: 'POST', headers: { authorization: `Bearer ${a.serviceKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ expiresIn: 60, url: 'signed/two.txt', scope: 'upload', role: 'service_role', owner: 'x', upsert: true }),
  });
  const minted = new URL(((await sign.json()) as { signedURL: string }).signedURL, 'http://x').searchParams.get('token')!;
  assert.deepEqual(Object.keys(JSON.parse(Buffer.from(minted.split('.')[1], 'base64url').toString())).sort(), ['exp', 'iat', 'scope', 'url']);
  assert.equal(JSON.parse(Buffer.from(minted.split('.')[1], 'base64url').toString()).url, 'signed/one.txt');
  // expiry: bounds are checked, and an expired link stops working
  for (const bad of [0, -1, 1e21, 1.5]) assert.notEqual((await s.from('signed').createSignedUrl('one.txt', bad)).error, null, `expiresIn ${bad}`);
  const short = await s.from('signed').createSignedUrl('one.txt', 2); // iat is whole seconds: valid 1 to 2 s
  assert.equal((await fetch(short.data!.signedUrl)).status, 200);
  await new Promise((res) => setTimeout(res, 3100));
  const expired = await fetch(short.data!.signedUrl);
  assert.equal(expired.status, 400);
  assert.equal(((await expired.json()) as { message: string }).message, 'jwt expired');
});

test('object names with traversal, absolute paths, NUL or control characters are refused with 400', async () => {
  const s = admin(a);
  await s.createBucket('names');
  const before = filesOf(a.ref).length;
  // what survives URL normalisation in supabase-js
  for (const name of ['nul\u0000.txt', 'bell\u0007.txt', 'x'.repeat(1100)]) {
    const r = await s.from('names').upload(name, 'x');
    assert.equal(statusOf(r.error), '400', `${JSON.stringify(name)} was accepted`);
  }
  // raw paths, through the gateway and straight to the service (which must not rely on the gateway)
  const paths = ['a//b.txt', '../escape.txt', 'a/../../escape.txt', './x.txt', '/abs.txt', '%2e%2e/escape.txt', 'a/%2e%2e/%2e%2e/escape.txt',
    'a/%2E%2E/escape.txt', 'nul%00.txt', 'a%5Cb.txt', 'C:%5Cx.txt', '%5C%5Chost%5Cshare', '%E0%A4%A'];
  for (const path of paths) {
    const post = (origin: string, prefix: string, headers: Record<string, string>) =>
      rawHttp(origin, `${prefix}/storage/v1/object/names/${path}`, { method: 'POST', headers: { ...headers, 'content-type': 'text/plain' }, body: 'x' });
    const viaGateway = (await post(env.gatewayUrl, `/project/${a.ref}`, { authorization: `Bearer ${a.serviceKey}` })).status;
    assert.equal(viaGateway, 400, `gateway: ${path}`);
    const direct = (await post(env.services.storage, '', { authorization: `Bearer ${a.serviceKey}`, 'x-basalt-ref': a.ref })).status;
    assert.equal(direct, 400, `service: ${path}`);
  }
  assert.deepEqual((await s.from('names').list()).data, []);
  assert.equal(filesOf(a.ref).length, before, 'no bytes were written');
  // names that only look odd are fine and round-trip exactly
  for (const name of ['spaces and (parens).txt', 'dots..in..name.txt', '..dots', 'ünïcödé/ファイル.txt', "q'uote&$=@;:+,!*.txt"]) {
    assert.equal((await s.from('names').upload(name, name)).error, null, name);
    assert.equal(await (await s.from('names').download(name)).data!.text(), name);
  }
});


test('one project never reaches another project\'s objects', async () => {
  await admin(a).createBucket('shared-name');
  await admin(b).createBucket('shared-name');
  await admin(a).from('shared-name').upload('secret.txt', 'A only');
  // B's service key on A's URL is refused by the gateway; on B's URL it sees B's empty bucket
  const cross = await supabaseClient(a, { key: b.serviceKey }).storage.from('shared-name').download('secret.txt');
  assert.notEqual(cross.error, null);
  assert.equal(statusOf((await admin(b).from('shared-name').download('secret.txt')).error), '404');
  assert.deepEqual((await admin(b).from('shared-name').list()).data, []);
  // a token signed with A's secret but carrying B's ref is refused
  const hdr = { authorization: `Bearer ${a.token({ role: 'service_role', ref: b.ref })}` };
  assert.equal((await fetch(`${b.url}/storage/v1/object/shared-name/secret.txt`, { headers: hdr })).status >= 400, true);
});

test('stored bytes no row points at are swept once old enough; live and recent ones stay', async () => {
  const s = admin(a);
  await s.createBucket('sweep');
  await s.from('sweep').upload('keep.txt', 'kept');
  const [{ version }] = await a.sql(`select version from storage.objects where bucket_id = 'sweep' and name = 'keep.txt'`);
  const old = new Date(Date.now() - 2 * 3600_000);
  const file = (kind: string, id: string) => join(root, a.ref, kind, id.slice(0, 2), id);
  utimesSync(file('o', version), old, old);
  const orphan = randomUUID().replace(/-/g, '');
  const recent = randomUUID().replace(/-/g, '');
  const blob = createHash('sha256').update(orphan).digest('hex');
  for (const [kind, id, age] of [['o', orphan, old], ['o', recent, new Date()], ['a', blob, old]] as const) {
    mkdirSync(dirname(file(kind, id)), { recursive: true });
    writeFileSync(file(kind, id), 'stray');
    utimesSync(file(kind, id), age, age);
  }
  const deadline = Date.now() + 20_000;
  while ((existsSync(file('o', orphan)) || existsSync(file('a', blob))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  assert.equal(existsSync(file('o', orphan)), false, 'an old orphan is removed');
  assert.equal(existsSync(file('a', blob)), false, 'an old orphaned asset blob is removed');
  assert.equal(existsSync(file('o', recent)), true, 'a recent file (an upload about to commit) stays');
  assert.equal(await (await s.from('sweep').download('keep.txt')).data!.text(), 'kept');
});

test('a deleted project\'s files are removed from the backend', async () => {
  const p = await createProject('storage-gone');
  await admin(p).createBucket('tmp');
  await admin(p).from('tmp').upload('f.txt', 'bytes');
  assert.equal(filesOf(p.ref).length, 1);
  await p.remove();
  const deadline = Date.now() + 5000;
  const gone = () => {
    try {
      statSync(join(root, p.ref));
      return false;
    } catch {
      return true;
    }
  };
  while (!gone() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(gone(), 'the project directory is removed');
});
