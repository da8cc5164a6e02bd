// The object lifecycle every backend must pass, driven by an unmodified supabase-js: shared by the filesystem
// (storage.test.ts) and S3 (s3.test.ts) runs.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { SupabaseClient } from '@supabase/supabase-js';

/** Uploads, downloads (whole, range, signed, public), lists, moves, copies and removes in bucket `bucket`. */
export async function objectLifecycle(service: SupabaseClient, anonFetch: (path: string, init?: RequestInit) => Promise<Response>, bucket: string): Promise<void> {
  const s = service.storage;
  await s.createBucket(bucket, { public: true });
  const bytes = randomBytes(20_000);

  // raw body (Buffer) and multipart (Blob) uploads, with cache-control, content type and user metadata
  const raw = await s.from(bucket).upload('docs/raw.bin', bytes, { contentType: 'application/x-test', cacheControl: '120', metadata: { kind: 'raw' } });
  assert.equal(raw.error, null, raw.error?.message);
  assert.equal(raw.data!.path, 'docs/raw.bin');
  assert.equal(raw.data!.fullPath, `${bucket}/docs/raw.bin`);
  const blob = await s.from(bucket).upload('docs/blob.txt', new Blob(['hello from a blob'], { type: 'text/plain' }), { cacheControl: '60', metadata: { kind: 'blob' } });
  assert.equal(blob.error, null, blob.error?.message);

  const down = await s.from(bucket).download('docs/raw.bin');
  assert.equal(down.error, null);
  assert.deepEqual(Buffer.from(await down.data!.arrayBuffer()), bytes);
  assert.equal(await (await s.from(bucket).download('docs/blob.txt')).data!.text(), 'hello from a blob');

  const info = await s.from(bucket).info('docs/raw.bin');
  assert.equal(info.error, null, info.error?.message);
  assert.equal(info.data!.size, bytes.length);
  assert.equal(info.data!.contentType, 'application/x-test');
  assert.equal(info.data!.cacheControl, 'max-age=120');
  assert.deepEqual(info.data!.metadata, { kind: 'raw' });
  assert.equal((await s.from(bucket).info('docs/blob.txt')).data!.contentType, 'text/plain');
  assert.equal((await s.from(bucket).exists('docs/raw.bin')).data, true);
  assert.equal((await s.from(bucket).exists('docs/nope.bin')).data, false);

  // a Range request through the public URL, which needs no key
  const url = s.from(bucket).getPublicUrl('docs/raw.bin').data.publicUrl;
  const ranged = await anonFetch(url, { headers: { range: 'bytes=100-199' } });
  assert.equal(ranged.status, 206);
  assert.equal(ranged.headers.get('content-range'), `bytes 100-199/${bytes.length}`);
  assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), bytes.subarray(100, 200));
  const whole = await anonFetch(url);
  assert.equal(whole.headers.get('cache-control'), 'max-age=120');
  const etag = whole.headers.get('etag')!;
  assert.match(etag, /^"[0-9a-f]{32}"$/);
  await whole.arrayBuffer();
  assert.equal((await anonFetch(url, { headers: { 'if-none-match': etag } })).status, 304);
  assert.equal((await anonFetch(url, { headers: { range: `bytes=${bytes.length + 10}-` } })).status, 416);
  const named = await anonFetch(s.from(bucket).getPublicUrl('docs/raw.bin', { download: 'report.bin' }).data.publicUrl);
  assert.match(named.headers.get('content-disposition') ?? '', /^attachment; filename="report.bin"/);
  await named.arrayBuffer();
  const bare = await anonFetch(s.from(bucket).getPublicUrl('docs/raw.bin', { download: true }).data.publicUrl);
  assert.match(bare.headers.get('content-disposition') ?? '', /^attachment; filename="raw.bin"/);
  await bare.arrayBuffer();

  // an existing key without upsert is a 409; with upsert it is replaced
  const dup = await s.from(bucket).upload('docs/blob.txt', 'again');
  assert.equal((dup.error as { statusCode?: string } | null)?.statusCode, '409');
  assert.equal((await s.from(bucket).upload('docs/blob.txt', 'replaced', { upsert: true })).error, null);
  assert.equal(await (await s.from(bucket).download('docs/blob.txt')).data!.text(), 'replaced');
  assert.equal((await s.from(bucket).update('docs/blob.txt', 'updated')).error, null);
  assert.equal(await (await s.from(bucket).download('docs/blob.txt')).data!.text(), 'updated');

  // listing is one level deep, folders first-class, with limit/offset/sortBy/search
  for (const n of ['a.txt', 'b.txt', 'c.txt', 'sub/d.txt', 'sub/deeper/e.txt']) await s.from(bucket).upload(`tree/${n}`, n);
  const level = await s.from(bucket).list('tree');
  assert.equal(level.error, null, level.error?.message);
  assert.deepEqual(level.data!.map((e) => e.name), ['a.txt', 'b.txt', 'c.txt', 'sub']);
  assert.equal(level.data!.find((e) => e.name === 'sub')!.id, null);
  assert.equal((level.data!.find((e) => e.name === 'a.txt')!.metadata as { size: number }).size, 5);
  assert.deepEqual((await s.from(bucket).list('tree/sub')).data!.map((e) => e.name), ['d.txt', 'deeper']);
  assert.deepEqual((await s.from(bucket).list('tree', { limit: 2, offset: 1 })).data!.map((e) => e.name), ['b.txt', 'c.txt']);
  assert.deepEqual((await s.from(bucket).list('tree', { sortBy: { column: 'name', order: 'desc' } })).data!.map((e) => e.name), ['sub', 'c.txt', 'b.txt', 'a.txt']);
  assert.deepEqual((await s.from(bucket).list('tree', { search: 'b' })).data!.map((e) => e.name), ['b.txt']);
  assert.deepEqual((await s.from(bucket).list()).data!.map((e) => e.name), ['docs', 'tree']);

  // move and copy, within and across buckets
  await s.createBucket(`${bucket}-other`);
  assert.equal((await s.from(bucket).move('tree/a.txt', 'tree/moved.txt')).error, null);
  assert.equal((await s.from(bucket).exists('tree/a.txt')).data, false);
  assert.equal(await (await s.from(bucket).download('tree/moved.txt')).data!.text(), 'a.txt');
  const copied = await s.from(bucket).copy('tree/b.txt', 'tree/b-copy.txt');
  assert.equal(copied.error, null, copied.error?.message);
  assert.equal(copied.data!.path, `${bucket}/tree/b-copy.txt`);
  assert.equal(await (await s.from(bucket).download('tree/b-copy.txt')).data!.text(), 'b.txt');
  assert.equal((await s.from(bucket).copy('tree/c.txt', 'c.txt', { destinationBucket: `${bucket}-other` })).error, null);
  assert.equal((await s.from(bucket).move('tree/moved.txt', 'moved.txt', { destinationBucket: `${bucket}-other` })).error, null);
  assert.deepEqual((await s.from(`${bucket}-other`).list()).data!.map((e) => e.name), ['c.txt', 'moved.txt']);
  assert.equal(await (await s.from(`${bucket}-other`).download('moved.txt')).data!.text(), 'a.txt');
  // the copy's bytes are its own: removing the source leaves the copy readable
  await s.from(bucket).remove(['tree/c.txt']);
  assert.equal(await (await s.from(`${bucket}-other`).download('c.txt')).data!.text(), 'c.txt');

  // signed URLs: single, batch (a missing path gets an error entry), with download names
  const signed = await s.from(bucket).createSignedUrl('docs/raw.bin', 60, { download: 'x.bin' });
  assert.equal(signed.error, null, signed.error?.message);
  const viaSigned = await anonFetch(signed.data!.signedUrl);
  assert.equal(viaSigned.status, 200);
  assert.match(viaSigned.headers.get('content-disposition') ?? '', /filename="x.bin"/);
  assert.deepEqual(Buffer.from(await viaSigned.arrayBuffer()), bytes);
  const batch = await s.from(bucket).createSignedUrls(['docs/blob.txt', 'docs/missing.txt'], 60);
  assert.equal(batch.error, null);
  assert.equal(await (await anonFetch(batch.data![0].signedUrl!)).text(), 'updated');
  assert.equal(batch.data![1].signedUrl, null);
  assert.equal(batch.data![1].error, 'Either the object does not exist or you do not have access to it');

  // signed upload URLs
  const up = await s.from(bucket).createSignedUploadUrl('uploads/signed.txt');
  assert.equal(up.error, null, up.error?.message);
  const put = await s.from(bucket).uploadToSignedUrl('uploads/signed.txt', up.data!.token, 'via a signed upload');
  assert.equal(put.error, null, put.error?.message);
  assert.equal(put.data!.fullPath, `${bucket}/uploads/signed.txt`);
  assert.equal(await (await s.from(bucket).download('uploads/signed.txt')).data!.text(), 'via a signed upload');

  // batch remove returns what was removed and skips what was not there
  const removed = await s.from(bucket).remove(['tree/b.txt', 'tree/b-copy.txt', 'tree/never.txt']);
  assert.equal(removed.error, null);
  assert.deepEqual(removed.data!.map((o) => o.name).sort(), ['tree/b-copy.txt', 'tree/b.txt']);
  assert.equal((await s.from(bucket).exists('tree/b.txt')).data, false);

  // a bucket with objects is not deleted; emptied, it is
  const full = await s.deleteBucket(`${bucket}-other`);
  assert.equal((full.error as { statusCode?: string } | null)?.statusCode, '409');
  assert.equal((await s.emptyBucket(`${bucket}-other`)).error, null);
  assert.equal((await s.deleteBucket(`${bucket}-other`)).error, null);
  assert.equal((await s.getBucket(`${bucket}-other`)).error?.message, 'Bucket not found');
}

/** Resumable (TUS) uploads with tus-js-client, as Uppy and Supabase's docs drive them: 6 MiB chunks. */
export async function resumableLifecycle(projectUrl: string, serviceKey: string, service: SupabaseClient, bucket: string): Promise<void> {
  const { Upload } = await import('tus-js-client');
  const endpoint = `${projectUrl}/storage/v1/upload/resumable`;
  const headers = { authorization: `Bearer ${serviceKey}`, 'x-upsert': 'true' };
  await service.storage.createBucket(bucket);
  const body = randomBytes(13 * 1024 * 1024);
  const start = (objectName: string, opts: Record<string, unknown> = {}) => {
    let chunks = 0;
    const upload = new Upload(body, {
      endpoint, headers, chunkSize: 6 * 1024 * 1024, retryDelays: [],
      metadata: { bucketName: bucket, objectName, contentType: 'application/x-big', cacheControl: '3600', metadata: JSON.stringify({ via: 'tus' }) },
      onChunkComplete: () => void chunks++,
      ...opts,
    });
    return { upload, chunks: () => chunks };
  };
  const finish = (u: InstanceType<typeof Upload>) => new Promise<void>((resolve, reject) => {
    u.options.onSuccess = () => resolve();
    u.options.onError = reject;
    u.start();
  });

  const whole = start('big/whole.bin');
  await finish(whole.upload);
  assert.equal(whole.chunks(), 3);
  assert.deepEqual(Buffer.from(await (await service.storage.from(bucket).download('big/whole.bin')).data!.arrayBuffer()), body);
  const info = (await service.storage.from(bucket).info('big/whole.bin')).data!;
  assert.deepEqual([info.contentType, info.cacheControl, info.metadata], ['application/x-big', 'max-age=3600', { via: 'tus' }]);

  // interrupted after the first chunk, resumed from its URL: only the rest is sent
  const first = start('big/resumed.bin');
  await new Promise<void>((resolve, reject) => {
    first.upload.options.onChunkComplete = () => void first.upload.abort().then(() => resolve());
    first.upload.options.onError = reject;
    first.upload.start();
  });
  assert.equal((await service.storage.from(bucket).exists('big/resumed.bin')).data, false, 'nothing is visible before the last byte');
  const url = first.upload.url!;
  const head = await fetch(url, { method: 'HEAD', headers: { ...headers, 'tus-resumable': '1.0.0' } });
  assert.equal(head.headers.get('upload-offset'), String(6 * 1024 * 1024));
  // a PATCH at the wrong offset is a 409; another caller does not see the upload
  const wrong = await fetch(url, { method: 'PATCH', headers: { ...headers, 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, body: 'x' });
  assert.equal(wrong.status, 409);
  const other = await fetch(url, { method: 'HEAD', headers: { 'tus-resumable': '1.0.0', authorization: `Bearer ${serviceKey.replace(/.$/, '')}` } });
  assert.ok(other.status >= 400);
  const resumed = start('big/resumed.bin', { uploadUrl: url });
  await finish(resumed.upload);
  assert.equal(resumed.chunks(), 2);
  assert.deepEqual(Buffer.from(await (await service.storage.from(bucket).download('big/resumed.bin')).data!.arrayBuffer()), body);
  assert.equal((await fetch(url, { method: 'HEAD', headers: { ...headers, 'tus-resumable': '1.0.0' } })).status, 404, 'a finished upload is gone');

  // termination
  const dropped = start('big/dropped.bin');
  await new Promise<void>((resolve, reject) => {
    dropped.upload.options.onChunkComplete = () => void dropped.upload.abort(true).then(() => resolve());
    dropped.upload.options.onError = reject;
    dropped.upload.start();
  });
  assert.equal((await fetch(dropped.upload.url!, { method: 'HEAD', headers: { ...headers, 'tus-resumable': '1.0.0' } })).status, 404);
  assert.equal((await service.storage.from(bucket).exists('big/dropped.bin')).data, false);
}
