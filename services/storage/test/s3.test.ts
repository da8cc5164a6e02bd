// The S3 backend against a real S3-protocol server (s3rver) started here: a storage service configured for it
// and a gateway in front, driven by supabase-js like the filesystem run; bytes land under <ref>/ in one bucket.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Minio from 'minio';
import S3rver from 's3rver';
import { freePort, ROOT, waitForHealth } from '@basalt/fleet';
import { createProject, supabaseClient, testEnv, type TestProject } from '@basalt/testkit';
import { objectLifecycle, resumableLifecycle } from './lifecycle.js';
import { tusRaces } from './tus-races.js';

const env = testEnv();
const dir = mkdtempSync(join(tmpdir(), 'basalt-s3rver-'));
let s3: S3rver;
let s3Port = 0;
const children: ChildProcess[] = [];
let gatewayUrl = '';
let storageUrl = '';
let a: TestProject;
let b: TestProject;

function start(entry: string, port: number, extra: Record<string, string>): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, entry)], {
    cwd: ROOT, env: { ...process.env, ...env.fleetEnv, ...extra, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return waitForHealth(`http://127.0.0.1:${port}`, 60_000, child);
}

const startS3 = async (port: number) => {
  s3 = new S3rver({ port, address: '127.0.0.1', silent: true, directory: dir });
  return (await s3.run()).port;
};

before(async () => {
  s3Port = await startS3(0);
  const [storagePort, gatewayPort] = [await freePort(), await freePort()];
  storageUrl = `http://127.0.0.1:${storagePort}`;
  await start('services/storage/src/main.ts', storagePort, {
    STORAGE_BACKEND: 's3', S3_ENDPOINT: `http://127.0.0.1:${s3Port}`, S3_BUCKET: 'basalt-test', S3_ACCESS_KEY: 'S3RVER', S3_SECRET_KEY: 'S3RVER',
  });
  gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  await start('gateway/src/main.ts', gatewayPort, { STORAGE_URL: `http://127.0.0.1:${storagePort}`, BASALT_PUBLIC_URL: gatewayUrl, GATEWAY_WORKERS: '1' });
  const [pa, pb] = await Promise.all([createProject('s3-a'), createProject('s3-b')]);
  a = { ...pa, url: `${gatewayUrl}/project/${pa.ref}` };
  b = { ...pb, url: `${gatewayUrl}/project/${pb.ref}` };
});

after(async () => {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
  await s3.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

/** the keys the S3 server holds under a project's prefix, listed over the S3 protocol */
async function keysOf(ref: string): Promise<string[]> {
  const client = new Minio.Client({ endPoint: '127.0.0.1', port: s3Port, useSSL: false, accessKey: 'S3RVER', secretKey: 'S3RVER', region: 'us-east-1', pathStyle: true });
  const out: string[] = [];
  for await (const o of client.listObjectsV2('basalt-test', `${ref}/`, true) as AsyncIterable<{ name: string }>) out.push(o.name);
  return out;
}

test('the object lifecycle works end to end with supabase-js on the S3 backend', async () => {
  await objectLifecycle(supabaseClient(a, { key: a.serviceKey }), (url, init) => fetch(url, init), 'life');
  const keys = await keysOf(a.ref);
  assert.ok(keys.length > 0, 'objects are stored under the project prefix');
  assert.ok(keys.every((k) => /^[a-z]{20}\/o\/[0-9a-f]{32}$/.test(k)), `keys are <ref>/o/<version>: ${keys.join(', ')}`);
});

test('a large object goes up in parts and comes back byte for byte', async () => {
  const s = supabaseClient(a, { key: a.serviceKey }).storage;
  await s.createBucket('big');
  const size = 20 * 1024 * 1024 + 12345;
  const body = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4096) body.writeUInt32LE(i, i);
  assert.equal((await s.from('big').upload('parts.bin', body)).error, null);
  const back = Buffer.from(await (await s.from('big').download('parts.bin')).data!.arrayBuffer());
  assert.equal(back.length, size);
  assert.ok(back.equals(body));
});

test('resumable (TUS) uploads on the S3 backend go up as multipart parts', async () => {
  await resumableLifecycle(a.url, a.serviceKey, supabaseClient(a, { key: a.serviceKey }), 'tus');
});

for (const race of tusRaces) {
  test(`TUS on the S3 backend: ${race.name}`, () => race.run({ origin: storageUrl, ref: a.ref, serviceKey: a.serviceKey }));
}

test('projects share the S3 bucket but never each other\'s objects', async () => {
  const sa = supabaseClient(a, { key: a.serviceKey }).storage;
  const sb = supabaseClient(b, { key: b.serviceKey }).storage;
  await sa.createBucket('same');
  await sb.createBucket('same');
  await sa.from('same').upload('only-a.txt', 'A');
  assert.equal((await sb.from('same').download('only-a.txt')).error?.message, 'Object not found');
  assert.deepEqual((await sb.from('same').list()).data, []);
  assert.ok((await keysOf(a.ref)).length > 0);
  assert.deepEqual(await keysOf(b.ref), []);
});

test('with S3 down an upload is a 503 and leaves no row; reads work again once it is back', async () => {
  const s = supabaseClient(a, { key: a.serviceKey }).storage;
  await s.createBucket('outage');
  await s.from('outage').upload('before.txt', 'before');
  await s3.close();
  try {
    const r = await s.from('outage').upload('during.txt', 'during');
    assert.equal((r.error as { statusCode?: string } | null)?.statusCode, '503');
    assert.equal((await s.from('outage').exists('during.txt')).data, false);
  } finally {
    await startS3(s3Port);
  }
  assert.equal(await (await s.from('outage').download('before.txt')).data!.text(), 'before');
});
