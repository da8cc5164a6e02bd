// Hostile request bodies against a storage process started here (a crash of it fails these tests, not the fleet's):
// malformed and lying aws-chunked bodies, failing payload hashes, uploads cut off mid-way. Every one is answered
// with the error its protocol's clients expect, and the process stays up for every other tenant.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import net from 'node:net';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, ROOT, waitForHealth } from '@basalt/fleet';
import { createProject, eventually, platform, testEnv, type TestProject } from '@basalt/testkit';
import { chunkSignature, signingKey, type ClientSignature } from '../src/domain/sigv4.js';

const env = testEnv();
let child: ChildProcess;
let origin = '';
let port = 0;
let p: TestProject;
let key: { access_key_id: string; secret_access_key: string };

/** (Re)starts the process, so a test that kills it fails alone rather than taking the next ones along. */
async function up(): Promise<void> {
  if (child && child.exitCode === null && (await fetch(`${origin}/health`).then((r) => r.ok, () => false))) return;
  if (child && child.exitCode === null) await new Promise((r) => (child.once('exit', r), child.kill('SIGKILL')));
  port ||= await freePort();
  origin = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'services/storage/src/main.ts')], {
    cwd: ROOT, env: { ...process.env, ...env.fleetEnv, PORT: String(port), LOG_LEVEL: 'fatal' }, stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForHealth(origin, 60_000, child);
}

before(async () => {
  await up();
  p = await createProject('hostile');
  key = await platform(`/projects/${p.ref}/storage/s3-keys`, { method: 'POST', json: { description: 'hostile' } });
  const made = await fetch(`${origin}/storage/v1/bucket`, {
    method: 'POST', headers: { 'x-basalt-ref': p.ref, authorization: `Bearer ${p.serviceKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'b', name: 'b' }),
  });
  assert.equal(made.status, 200, await made.text());
});

beforeEach(up);

after(async () => {
  child.kill('SIGTERM');
  if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
});

/** the process is still up and answering */
async function assertAlive(): Promise<void> {
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(child.exitCode, null, 'the storage process exited');
  assert.equal((await fetch(`${origin}/health`)).status, 200);
}

const sha256 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
const amzDate = () => new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

/** SigV4 header signature of a request to this process; returns its headers and what a chunk signer needs */
function sign(method: string, path: string, query: string, payloadHash: string, extra: Record<string, string> = {}) {
  const date = amzDate();
  const scope = `${date.slice(0, 8)}/us-east-1/s3/aws4_request`;
  const headers: Record<string, string> = { host: `127.0.0.1:${port}`, 'x-amz-content-sha256': payloadHash, 'x-amz-date': date, ...extra };
  const names = Object.keys(headers).map((h) => h.toLowerCase()).sort();
  const canonical = [method, path, query, names.map((n) => `${n}:${headers[n].trim()}\n`).join(''), names.join(';'), payloadHash].join('\n');
  const k = signingKey(key.secret_access_key, date.slice(0, 8), 'us-east-1');
  const signature = createHmac('sha256', k).update(['AWS4-HMAC-SHA256', date, scope, sha256(canonical)].join('\n')).digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${key.access_key_id}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
  headers['x-basalt-ref'] = p.ref;
  const sig = { amzDate: date, scope, signature } as ClientSignature;
  return { headers, chunk: (previous: string, data: Buffer) => chunkSignature(k, sig, previous, data), seed: signature };
}

/** One raw exchange: the head and body bytes sent as given, the answer read until the server closes or `ms` pass. */
function exchange(head: string, body: Buffer | string, o: { ms?: number; hangUp?: boolean } = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    const finish = () => {
      s.destroy();
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0);
      resolve({ status, text: got });
    };
    const timer = setTimeout(finish, o.ms ?? 5_000);
    s.on('data', (c) => {
      got += c.toString('latin1');
      // one answer is enough: its body is small XML or JSON
      if (/\r\n\r\n/.test(got) && (/<\/Error>|\}$/.test(got) || /content-length: 0\r\n/i.test(got))) {
        clearTimeout(timer);
        finish();
      }
    });
    s.on('error', () => undefined);
    s.on('close', () => (clearTimeout(timer), finish()));
    s.write(head);
    s.write(body);
    if (o.hangUp) setTimeout(() => s.destroy(), 100);
  });
}

const headOf = (method: string, path: string, headers: Record<string, string>) =>
  `${method} ${path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;

test('PutObject with a malformed aws-chunked body is an IncompleteBody error, and the process stays up', async () => {
  const path = '/storage/v1/s3/b/bad-hex.bin';
  const { headers } = sign('PUT', path, '', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', { 'x-amz-decoded-content-length': '5', 'content-encoding': 'aws-chunked' });
  const body = 'zz\r\nhello\r\n0\r\n\r\n';
  const got = await exchange(headOf('PUT', path, { ...headers, 'content-length': String(body.length) }), body);
  assert.equal(got.status, 400, got.text);
  assert.match(got.text, /<Code>IncompleteBody<\/Code>/);
  await assertAlive();
});

test('PutObject whose x-amz-content-sha256 does not match the body is XAmzContentSHA256Mismatch, and the process stays up', async () => {
  const path = '/storage/v1/s3/b/bad-sha.bin';
  const { headers } = sign('PUT', path, '', sha256('something else'));
  const body = 'hello';
  const got = await exchange(headOf('PUT', path, { ...headers, 'content-length': String(body.length) }), body);
  assert.equal(got.status, 400, got.text);
  assert.match(got.text, /<Code>XAmzContentSHA256Mismatch<\/Code>/);
  await assertAlive();
});

/** Starts a multipart upload over S3; its id. */
async function initiate(name: string): Promise<string> {
  const path = `/storage/v1/s3/b/${name}`;
  const { headers } = sign('POST', path, 'uploads=', sha256(''));
  const r = await fetch(`${origin}${path}?uploads`, { method: 'POST', headers });
  const text = await r.text();
  assert.equal(r.status, 200, text);
  return /<UploadId>([0-9a-f]+)<\/UploadId>/.exec(text)![1];
}

test('UploadPart with a malformed aws-chunked body is an IncompleteBody error, and the process stays up', async () => {
  const id = await initiate('parts.bin');
  const path = '/storage/v1/s3/b/parts.bin';
  const query = `partNumber=1&uploadId=${id}`;
  const { headers } = sign('PUT', path, query, 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', { 'x-amz-decoded-content-length': '5', 'content-encoding': 'aws-chunked' });
  const body = '5;x\r\nhello\r\n0\r\n\r\n';
  const got = await exchange(headOf('PUT', `${path}?${query}`, { ...headers, 'content-length': String(body.length) }), body);
  assert.equal(got.status, 400, got.text);
  assert.match(got.text, /<Code>IncompleteBody<\/Code>/);
  await assertAlive();
});

const rest = () => ({ 'x-basalt-ref': p.ref, authorization: `Bearer ${p.serviceKey}`, host: `127.0.0.1:${port}` });
const form = (name: string, data: string) =>
  `--XX\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n${data}`;

test('a multipart upload whose form ends inside the file part is a 400, and the process stays up', async () => {
  const body = form('cut.bin', 'hello'); // no closing boundary
  const got = await exchange(headOf('POST', '/storage/v1/object/b/cut.bin', {
    ...rest(), 'content-type': 'multipart/form-data; boundary=XX', 'content-length': String(body.length),
  }), body);
  assert.equal(got.status, 400, got.text);
  assert.match(got.text, /multipart/i);
  await assertAlive();
  assert.equal((await fetch(`${origin}/storage/v1/object/b/cut.bin`, { headers: rest() })).status, 400);
});

/** the files of the project's object versions on the filesystem backend */
function versionFiles(): string[] {
  try {
    return readdirSync(join(env.fleetEnv.STORAGE_FS_ROOT, p.ref, 'o'), { recursive: true }).map(String).filter((f) => f.includes('/')).sort();
  } catch {
    return [];
  }
}

/** Sends the head and `sent` of a body that claims to be 1 MiB, then hangs up. */
async function cutOff(head: string, sent: Buffer | string): Promise<void> {
  await exchange(head, sent, { hangUp: true, ms: 1_000 });
}

test('a client that hangs up mid-upload leaves no file behind and hangs no request, on every upload path', async () => {
  const before = versionFiles();
  const MiB = String(1024 * 1024);
  const half = Buffer.alloc(200 * 1024, 'x');
  // a raw body and a multipart form
  await cutOff(headOf('POST', '/storage/v1/object/b/raw-cut.bin', { ...rest(), 'content-type': 'application/octet-stream', 'content-length': MiB }), half);
  await cutOff(headOf('POST', '/storage/v1/object/b/form-cut.bin', { ...rest(), 'content-type': 'multipart/form-data; boundary=XX', 'content-length': MiB }),
    form('form-cut.bin', half.toString()));
  // PutObject and UploadPart, aws-chunked and cut inside a chunk
  const put = sign('PUT', '/storage/v1/s3/b/s3-cut.bin', '', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', { 'x-amz-decoded-content-length': MiB, 'content-encoding': 'aws-chunked' });
  await cutOff(headOf('PUT', '/storage/v1/s3/b/s3-cut.bin', { ...put.headers, 'content-length': String(1024 * 1024 + 100) }), `100000\r\n${half}`);
  const id = await initiate('part-cut.bin');
  const query = `partNumber=1&uploadId=${id}`;
  const part = sign('PUT', '/storage/v1/s3/b/part-cut.bin', query, 'UNSIGNED-PAYLOAD');
  await cutOff(headOf('PUT', `/storage/v1/s3/b/part-cut.bin?${query}`, { ...part.headers, 'content-length': MiB }), half);
  await assertAlive();
  await eventually(() => JSON.stringify(versionFiles()) === JSON.stringify(before), 5_000).catch(() => {
    assert.deepEqual(versionFiles(), before, 'a cut-off upload left its file');
  });
  for (const name of ['raw-cut.bin', 'form-cut.bin', 's3-cut.bin']) {
    assert.equal((await fetch(`${origin}/storage/v1/object/info/b/${name}`, { headers: rest() })).status, 400, name);
  }
});

test('a TUS PATCH cut off mid-chunk leaves the offset where its bytes are, and the upload resumes to the right bytes', async () => {
  const tus = { ...rest(), 'tus-resumable': '1.0.0' };
  const meta = `bucketName ${Buffer.from('b').toString('base64')},objectName ${Buffer.from('tus-cut.bin').toString('base64')}`;
  const made = await fetch(`${origin}/storage/v1/upload/resumable`, { method: 'POST', headers: { ...tus, 'upload-length': '300000', 'upload-metadata': meta } });
  assert.equal(made.status, 201, await made.text());
  const url = new URL(made.headers.get('location')!).pathname.replace(/^\/project\/[a-z]+/, '');
  const bytes = Buffer.alloc(300_000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = i % 251;
  await cutOff(headOf('PATCH', url, { ...tus, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream', 'content-length': '300000' }), bytes.subarray(0, 100_000));
  await assertAlive();
  const offset = Number((await fetch(`${origin}${url}`, { method: 'HEAD', headers: tus })).headers.get('upload-offset'));
  assert.equal(offset, 0);
  const rest2 = await fetch(`${origin}${url}`, { method: 'PATCH', headers: { ...tus, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, body: bytes });
  assert.equal(rest2.status, 204, await rest2.text());
  const got = await fetch(`${origin}/storage/v1/object/b/tus-cut.bin`, { headers: rest() });
  assert.ok(Buffer.from(await got.arrayBuffer()).equals(bytes));
});

test('a signed aws-chunked chunk claiming more bytes than the bucket allows is refused as the bytes come, not held in memory', async () => {
  const made = await fetch(`${origin}/storage/v1/bucket`, {
    method: 'POST', headers: { ...rest(), 'content-type': 'application/json' }, body: JSON.stringify({ id: 'tiny', name: 'tiny', file_size_limit: 1000 }),
  });
  assert.equal(made.status, 200, await made.text());
  const path = '/storage/v1/s3/tiny/huge-chunk.bin';
  // no decoded length: nothing is refused before the body is read
  const { headers, chunk, seed } = sign('PUT', path, '', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', { 'content-encoding': 'aws-chunked' });
  const data = Buffer.alloc(512 * 1024, 'y');
  // the chunk claims 256 MiB and the connection stays open: only bytes counted as they come can answer now
  const got = await exchange(headOf('PUT', path, { ...headers, 'content-length': String(300 * 1024 * 1024) }),
    Buffer.concat([Buffer.from(`10000000;chunk-signature=${chunk(seed, data)}\r\n`), data]), { ms: 3_000 });
  assert.equal(got.status, 413, got.text);
  assert.match(got.text, /<Code>EntityTooLarge<\/Code>/);
  await assertAlive();
});

test('an XML body of unclosed elements is MalformedXML at once, not a regular expression spinning the event loop', async () => {
  const path = '/storage/v1/s3/b';
  const body = '<Delete>'.repeat(50_000); // 400 KB
  const { headers } = sign('POST', path, 'delete=', sha256(body));
  const started = Date.now();
  const got = await exchange(headOf('POST', `${path}?delete`, { ...headers, 'content-length': String(body.length) }), body, { ms: 20_000 });
  assert.equal(got.status, 400, got.text);
  assert.match(got.text, /<Code>MalformedXML<\/Code>/);
  assert.ok(Date.now() - started < 1_000, `answered after ${Date.now() - started} ms`);
  await assertAlive();
});

test('an XML character reference past Unicode is MalformedXML, not an internal error', async () => {
  const path = '/storage/v1/s3/b';
  const body = '<Delete><Object><Key>&#x110000;</Key></Object></Delete>';
  const { headers } = sign('POST', path, 'delete=', sha256(body));
  const got = await fetch(`${origin}${path}?delete`, { method: 'POST', headers, body });
  const text = await got.text();
  assert.equal(got.status, 400, text);
  assert.match(text, /<Code>MalformedXML<\/Code>/);
});

test('a TUS PATCH that loses a race for its offset does not cut the winner\'s bytes short', async () => {
  // a client's retry while its first attempt is still in flight: both PATCH offset 0 with the same bytes
  const tus = { ...rest(), 'tus-resumable': '1.0.0' };
  const meta = `bucketName ${Buffer.from('b').toString('base64')},objectName ${Buffer.from('tus-race.bin').toString('base64')}`;
  const made = await fetch(`${origin}/storage/v1/upload/resumable`, { method: 'POST', headers: { ...tus, 'upload-length': '200000', 'upload-metadata': meta } });
  assert.equal(made.status, 201, await made.text());
  const url = new URL(made.headers.get('location')!).pathname.replace(/^\/project\/[a-z]+/, '');
  const bytes = Buffer.alloc(200_000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i % 250) + 1;
  const patch = { ...tus, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' };
  // the first attempt: 50,000 bytes, its last byte held back
  const first = net.connect(port, '127.0.0.1');
  let firstAnswer = '';
  first.on('data', (c) => (firstAnswer += c.toString('latin1')));
  first.write(headOf('PATCH', url, { ...patch, 'content-length': '50000' }));
  first.write(bytes.subarray(0, 49_999));
  await new Promise((r) => setTimeout(r, 300));
  // the retry, with more bytes, wins the offset
  const retry = await fetch(`${origin}${url}`, { method: 'PATCH', headers: patch, body: bytes.subarray(0, 150_000) });
  assert.equal(retry.status, 204, await retry.text());
  assert.equal(retry.headers.get('upload-offset'), '150000');
  // the first attempt ends late: it lost the offset
  first.write(bytes.subarray(49_999, 50_000));
  await eventually(() => /^HTTP\/1\.1 \d{3}/.test(firstAnswer));
  first.destroy();
  assert.match(firstAnswer, /^HTTP\/1\.1 409/);
  const last = await fetch(`${origin}${url}`, { method: 'PATCH', headers: { ...patch, 'upload-offset': '150000' }, body: bytes.subarray(150_000) });
  assert.equal(last.status, 204, await last.text());
  const got = Buffer.from(await (await fetch(`${origin}/storage/v1/object/b/tus-race.bin`, { headers: rest() })).arrayBuffer());
  assert.equal(got.length, bytes.length);
  assert.equal(got.indexOf(0), -1, `the object has zeroed bytes from ${got.indexOf(0)}`);
  assert.ok(got.equals(bytes));
});
