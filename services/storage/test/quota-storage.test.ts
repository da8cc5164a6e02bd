// The plan's max_object_bytes and storage_bytes on every upload path, through the gateway with the real clients:
// supabase-js (POST, PUT upsert, signed upload, copy), tus-js-client (TUS) and @aws-sdk/client-s3 (PutObject,
// multipart, CopyObject). Refusals are Storage's 413 naming the quota (S3's XML for S3), nothing is written, and a
// plan change applies without a restart.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand, PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createProject, eventually, platform, supabaseClient, testEnv, type TestProject } from '@basalt/testkit';

const env = testEnv();
const plan = `t-storage-${randomBytes(4).toString('hex')}`;
const bucket = 'quota';
let p: TestProject;

const storage = () => supabaseClient(p, { key: p.serviceKey }).storage;
const bytes = (n: number) => randomBytes(n);
type StorageErr = { statusCode?: string; message?: string } | null;

async function s3Refusal(send: Promise<unknown>): Promise<{ name: string; status?: number; message: string }> {
  try {
    await send;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, status: err.$metadata?.httpStatusCode, message: err.message };
  }
  throw new Error('the request succeeded');
}

before(async () => {
  p = await createProject('storage-quota');
  await platform(`/plans/${plan}`, { method: 'PUT', json: { quotas: { max_object_bytes: 1000, storage_bytes: 2500 } } });
  await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { plan } });
  assert.equal((await storage().createBucket(bucket)).error, null);
});

after(async () => {
  await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { plan: 'unlimited' } }).catch(() => undefined);
  await fetch(`${env.gatewayUrl}/platform/v1/plans/${plan}`, { method: 'DELETE', headers: { authorization: `Bearer ${env.platformToken}` } });
});

test('max_object_bytes: supabase-js uploads over it get 413 naming the quota; nothing is stored', async () => {
  const big = await storage().from(bucket).upload('big.bin', bytes(1500), { contentType: 'application/octet-stream' });
  const err = big.error as StorageErr;
  assert.equal(err?.statusCode, '413');
  assert.match(err?.message ?? '', /max_object_bytes/);
  assert.equal((await storage().from(bucket).exists('big.bin')).data, false);

  // a signed upload URL: the same limit
  const signed = (await storage().from(bucket).createSignedUploadUrl('signed.bin')).data!;
  const viaSigned = await storage().from(bucket).uploadToSignedUrl('signed.bin', signed.token, bytes(1200));
  assert.equal((viaSigned.error as StorageErr)?.statusCode, '413');
});

test('storage_bytes: uploads, upserts and copies that would pass it are refused with 413 naming it', async () => {
  const s = storage().from(bucket);
  assert.equal((await s.upload('a.bin', bytes(900))).error, null);
  assert.equal((await s.upload('b.bin', bytes(900))).error, null);
  const full = await s.upload('c.bin', bytes(900));
  assert.equal((full.error as StorageErr)?.statusCode, '413');
  assert.match((full.error as StorageErr)?.message ?? '', /storage_bytes/);
  assert.equal((await s.exists('c.bin')).data, false);
  // replacing an object counts only the difference
  assert.equal((await s.upload('a.bin', bytes(950), { upsert: true })).error, null);
  const copy = await s.copy('a.bin', 'a-copy.bin');
  assert.equal((copy.error as StorageErr)?.statusCode, '413');
  assert.match((copy.error as StorageErr)?.message ?? '', /storage_bytes/);
  assert.equal((await s.exists('a-copy.bin')).data, false);
  // what fits still goes in
  assert.equal((await s.upload('small.bin', bytes(500))).error, null);
});

test('TUS: a resumable upload over either quota is refused at creation', async () => {
  const create = (name: string, length: number) => fetch(`${p.url}/storage/v1/upload/resumable`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${p.serviceKey}`, 'tus-resumable': '1.0.0', 'upload-length': String(length),
      'upload-metadata': `bucketName ${Buffer.from(bucket).toString('base64')},objectName ${Buffer.from(name).toString('base64')}`,
    },
  });
  const tooBig = await create('tus-big.bin', 5000);
  const body = await tooBig.json() as { statusCode: string; message: string };
  assert.equal(body.statusCode, '413');
  assert.match(body.message, /max_object_bytes/);
  const noRoom = await create('tus-full.bin', 900);
  const full = await noRoom.json() as { statusCode: string; message: string };
  assert.equal(full.statusCode, '413');
  assert.match(full.message, /storage_bytes/);
});

test('S3: PutObject, CopyObject and a completed multipart upload over a quota get S3 XML errors naming it', async () => {
  const key = await platform<{ access_key_id: string; secret_access_key: string }>(`/projects/${p.ref}/storage/s3-keys`, { method: 'POST', json: {} });
  const s3 = new S3Client({
    endpoint: `${p.url}/storage/v1/s3`, forcePathStyle: true, region: 'us-east-1',
    credentials: { accessKeyId: key.access_key_id, secretAccessKey: key.secret_access_key },
  });
  const big = await s3Refusal(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 's3-big.bin', Body: bytes(1500) })));
  assert.equal(big.status, 413);
  assert.equal(big.name, 'EntityTooLarge');
  assert.match(big.message, /max_object_bytes/);
  const full = await s3Refusal(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 's3-full.bin', Body: bytes(900) })));
  assert.equal(full.status, 413);
  assert.equal(full.name, 'QuotaExceeded');
  assert.match(full.message, /storage_bytes/);
  const copied = await s3Refusal(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 's3-copy.bin', CopySource: `${bucket}/a.bin` })));
  assert.equal(copied.status, 413);

  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 's3-multi.bin' }));
  const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 's3-multi.bin', UploadId, PartNumber: 1, Body: bytes(700) }));
  const multi = await s3Refusal(s3.send(new CompleteMultipartUploadCommand({
    Bucket: bucket, Key: 's3-multi.bin', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
  })));
  assert.equal(multi.status, 413);
  assert.match(multi.message, /storage_bytes/);
  s3.destroy();
});

test('a plan change lifts the quotas at once', async () => {
  await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { plan: 'unlimited' } });
  await eventually(async () => (await storage().from(bucket).upload('after.bin', bytes(5000), { upsert: true })).error === null, 20_000, 200);
});
