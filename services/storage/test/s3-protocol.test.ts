// The S3 protocol endpoint through the gateway with the real @aws-sdk/client-s3 (path-style): access keys issued by
// the platform API (service level, RLS bypassed), session-token mode (ref + anon key + a user's JWT, RLS applies),
// bucket and object operations, multipart uploads, presigned URLs, and S3's XML errors.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import pg from 'pg';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand,
  DeleteBucketCommand, DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand,
  ListBucketsCommand, ListObjectsCommand, ListObjectsV2Command, ListPartsCommand, PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createProject, platform, supabaseClient, testEnv, type TestProject } from '@basalt/testkit';

const env = testEnv();
let a: TestProject;
let b: TestProject;
let keyA: { access_key_id: string; secret_access_key: string };

const endpoint = (p: TestProject) => `${env.gatewayUrl}/project/${p.ref}/storage/v1/s3`;
const client = (p: TestProject, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
  new S3Client({ endpoint: endpoint(p), forcePathStyle: true, region: 'us-east-1', credentials });
const issue = (p: TestProject) => platform<{ access_key_id: string; secret_access_key: string }>(`/projects/${p.ref}/storage/s3-keys`, { method: 'POST', json: { description: 'ci' } });
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

/** the SDK's error as S3 named it, with the status it came with */
async function s3Error(p: Promise<unknown>): Promise<{ name: string; status?: number; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, status: err.$metadata?.httpStatusCode, message: err.message };
  }
  throw new Error('the request succeeded');
}

before(async () => {
  [a, b] = await Promise.all([createProject('s3p-a'), createProject('s3p-b')]);
  keyA = await issue(a);
});

test('access keys: issued once with their secret, listed without it, sealed at rest, revocable, bound to their project', async () => {
  assert.match(keyA.access_key_id, /^[0-9a-f]{32}$/);
  assert.match(keyA.secret_access_key, /^[0-9a-f]{64}$/);
  const listed = await platform<Record<string, unknown>[]>(`/projects/${a.ref}/storage/s3-keys`);
  assert.deepEqual(listed.map((k) => k.access_key_id), [keyA.access_key_id]);
  assert.equal(JSON.stringify(listed).includes(keyA.secret_access_key), false);
  const control = new pg.Client({ connectionString: env.databaseUrl });
  await control.connect();
  const { rows } = await control.query('select secret_sealed from platform.storage_s3_keys where access_key_id = $1', [keyA.access_key_id]);
  await control.end();
  assert.equal(rows.length, 1);
  assert.equal(String(rows[0].secret_sealed).includes(keyA.secret_access_key), false);
  // the service_role key may manage keys too; an anon key may not
  const viaKey = await fetch(`${env.gatewayUrl}/platform/v1/projects/${a.ref}/storage/s3-keys`, { headers: { authorization: `Bearer ${a.serviceKey}` } });
  assert.equal(viaKey.status, 200);
  const viaAnon = await fetch(`${env.gatewayUrl}/platform/v1/projects/${a.ref}/storage/s3-keys`, { method: 'POST', headers: { authorization: `Bearer ${a.anonKey}` } });
  assert.equal(viaAnon.status, 403);

  // a key of project A is unknown to project B; a revoked key stops working
  assert.equal((await s3Error(client(b, { accessKeyId: keyA.access_key_id, secretAccessKey: keyA.secret_access_key }).send(new ListBucketsCommand({})))).name, 'InvalidAccessKeyId');
  const spare = await issue(a);
  const s3 = client(a, { accessKeyId: spare.access_key_id, secretAccessKey: spare.secret_access_key });
  assert.ok(Array.isArray((await s3.send(new ListBucketsCommand({}))).Buckets));
  const revoke = await fetch(`${env.gatewayUrl}/platform/v1/projects/${a.ref}/storage/s3-keys/${spare.access_key_id}`, { method: 'DELETE', headers: { authorization: `Bearer ${env.platformToken}` } });
  assert.equal(revoke.status, 204);
  const gone = await s3Error(s3.send(new ListBucketsCommand({})));
  assert.deepEqual([gone.name, gone.status], ['InvalidAccessKeyId', 403]);
  // a wrong secret is SignatureDoesNotMatch
  const wrong = await s3Error(client(a, { accessKeyId: keyA.access_key_id, secretAccessKey: 'x'.repeat(64) }).send(new ListBucketsCommand({})));
  assert.deepEqual([wrong.name, wrong.status], ['SignatureDoesNotMatch', 403]);
});

test('buckets and objects with an access key: create, head, list, put, get (ranges), head, copy, delete, as supabase-js sees them', async () => {
  const s3 = client(a, { accessKeyId: keyA.access_key_id, secretAccessKey: keyA.secret_access_key });
  await s3.send(new CreateBucketCommand({ Bucket: 'docs' }));
  await s3.send(new HeadBucketCommand({ Bucket: 'docs' }));
  assert.ok((await s3.send(new ListBucketsCommand({}))).Buckets!.some((x) => x.Name === 'docs'));
  assert.equal((await s3Error(s3.send(new CreateBucketCommand({ Bucket: 'docs' })))).status, 409);
  assert.equal((await s3Error(s3.send(new HeadBucketCommand({ Bucket: 'nope' })))).status, 404);

  const body = Buffer.from('hello from the S3 protocol\n');
  const put = await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'notes/hello.txt', Body: body, ContentType: 'text/plain', Metadata: { author: 'ada' }, CacheControl: 'max-age=60' }));
  assert.equal(put.ETag, `"${md5(body)}"`);
  const got = await s3.send(new GetObjectCommand({ Bucket: 'docs', Key: 'notes/hello.txt' }));
  assert.equal(await got.Body!.transformToString(), body.toString());
  assert.equal(got.ContentType, 'text/plain');
  assert.equal(got.CacheControl, 'max-age=60');
  assert.deepEqual(got.Metadata, { author: 'ada' });
  assert.equal(got.ETag, `"${md5(body)}"`);
  const range = await s3.send(new GetObjectCommand({ Bucket: 'docs', Key: 'notes/hello.txt', Range: 'bytes=6-9' }));
  assert.equal(await range.Body!.transformToString(), 'from');
  assert.equal(range.ContentRange, `bytes 6-9/${body.length}`);
  const head = await s3.send(new HeadObjectCommand({ Bucket: 'docs', Key: 'notes/hello.txt' }));
  assert.equal(head.ContentLength, body.length);
  assert.deepEqual(head.Metadata, { author: 'ada' });
  const missing = await s3Error(s3.send(new GetObjectCommand({ Bucket: 'docs', Key: 'nope.txt' })));
  assert.deepEqual([missing.name, missing.status], ['NoSuchKey', 404]);
  assert.equal((await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'docs', Key: 'nope.txt' })))).status, 404);

  // a streamed body goes up aws-chunked; the bytes are what was sent
  const streamed = randomBytes(300_000);
  await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'streamed.bin', Body: Readable.from([streamed.subarray(0, 100_000), streamed.subarray(100_000)]), ContentLength: streamed.length }));
  const back = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: 'docs', Key: 'streamed.bin' }))).Body!.transformToByteArray());
  assert.ok(back.equals(streamed));

  // what S3 wrote, supabase-js reads (and the other way round)
  const sb = supabaseClient(a, { key: a.serviceKey }).storage;
  const dl = await sb.from('docs').download('notes/hello.txt');
  assert.equal(await dl.data!.text(), body.toString());
  assert.equal((await sb.from('docs').upload('from-js.txt', 'written by supabase-js')).error, null);
  assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'docs', Key: 'from-js.txt' }))).Body!.transformToString(), 'written by supabase-js');

  await s3.send(new CopyObjectCommand({ Bucket: 'docs', Key: 'copies/hello.txt', CopySource: 'docs/notes/hello.txt' }));
  const copy = await s3.send(new GetObjectCommand({ Bucket: 'docs', Key: 'copies/hello.txt' }));
  assert.equal(await copy.Body!.transformToString(), body.toString());
  assert.deepEqual(copy.Metadata, { author: 'ada' });

  assert.equal((await s3Error(s3.send(new DeleteBucketCommand({ Bucket: 'docs' })))).name, 'BucketNotEmpty');
  await s3.send(new DeleteObjectCommand({ Bucket: 'docs', Key: 'copies/hello.txt' }));
  await s3.send(new DeleteObjectCommand({ Bucket: 'docs', Key: 'copies/hello.txt' })); // idempotent
  const del = await s3.send(new DeleteObjectsCommand({ Bucket: 'docs', Delete: { Objects: [{ Key: 'notes/hello.txt' }, { Key: 'streamed.bin' }, { Key: 'from-js.txt' }, { Key: 'never.txt' }] } }));
  assert.deepEqual(del.Deleted!.map((d) => d.Key).sort(), ['from-js.txt', 'never.txt', 'notes/hello.txt', 'streamed.bin']);
  await s3.send(new DeleteBucketCommand({ Bucket: 'docs' }));
  assert.equal((await s3Error(s3.send(new HeadBucketCommand({ Bucket: 'docs' })))).status, 404);
});

test('ListObjectsV2 and ListObjects: prefixes, delimiters, pages in byte order', async () => {
  const s3 = client(a, { accessKeyId: keyA.access_key_id, secretAccessKey: keyA.secret_access_key });
  await s3.send(new CreateBucketCommand({ Bucket: 'tree' }));
  const keys = ['a.txt', 'b/1.txt', 'b/2.txt', 'b/c/3.txt', 'd.txt', 'e/4.txt'];
  for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: 'tree', Key: k, Body: k }));
  const all = await s3.send(new ListObjectsV2Command({ Bucket: 'tree' }));
  assert.deepEqual(all.Contents!.map((c) => c.Key), keys);
  assert.equal(all.KeyCount, keys.length);
  assert.equal(all.Contents![0].Size, 5);
  const top = await s3.send(new ListObjectsV2Command({ Bucket: 'tree', Delimiter: '/' }));
  assert.deepEqual(top.Contents!.map((c) => c.Key), ['a.txt', 'd.txt']);
  assert.deepEqual(top.CommonPrefixes!.map((c) => c.Prefix), ['b/', 'e/']);
  const inB = await s3.send(new ListObjectsV2Command({ Bucket: 'tree', Prefix: 'b/', Delimiter: '/' }));
  assert.deepEqual(inB.Contents!.map((c) => c.Key), ['b/1.txt', 'b/2.txt']);
  assert.deepEqual(inB.CommonPrefixes!.map((c) => c.Prefix), ['b/c/']);
  // pages of two, continued by token
  const seen: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: 'tree', MaxKeys: 2, ContinuationToken: token }));
    seen.push(...page.Contents!.map((c) => c.Key!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  assert.deepEqual(seen, keys);
  const v1 = await s3.send(new ListObjectsCommand({ Bucket: 'tree', Marker: 'b/2.txt' }));
  assert.deepEqual(v1.Contents!.map((c) => c.Key), ['b/c/3.txt', 'd.txt', 'e/4.txt']);
});

test('multipart uploads: parts in any order, ListParts, Complete joins them (S3 ETag), Abort leaves nothing', async () => {
  const s3 = client(a, { accessKeyId: keyA.access_key_id, secretAccessKey: keyA.secret_access_key });
  await s3.send(new CreateBucketCommand({ Bucket: 'big' }));
  const one = randomBytes(5 * 1024 * 1024);
  const two = randomBytes(1234);
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'big', Key: 'joined.bin', ContentType: 'application/x-test', Metadata: { kind: 'mp' } }));
  const p2 = await s3.send(new UploadPartCommand({ Bucket: 'big', Key: 'joined.bin', UploadId, PartNumber: 2, Body: two }));
  const p1 = await s3.send(new UploadPartCommand({ Bucket: 'big', Key: 'joined.bin', UploadId, PartNumber: 1, Body: one }));
  assert.equal(p1.ETag, `"${md5(one)}"`);
  const parts = await s3.send(new ListPartsCommand({ Bucket: 'big', Key: 'joined.bin', UploadId }));
  assert.deepEqual(parts.Parts!.map((p) => [p.PartNumber, p.Size]), [[1, one.length], [2, two.length]]);
  // a wrong ETag or order is refused
  assert.equal((await s3Error(s3.send(new CompleteMultipartUploadCommand({
    Bucket: 'big', Key: 'joined.bin', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"00"' }, { PartNumber: 2, ETag: p2.ETag }] },
  })))).name, 'InvalidPart');
  const done = await s3.send(new CompleteMultipartUploadCommand({
    Bucket: 'big', Key: 'joined.bin', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] },
  }));
  const expected = createHash('md5').update(Buffer.concat([Buffer.from(md5(one), 'hex'), Buffer.from(md5(two), 'hex')])).digest('hex');
  assert.equal(done.ETag, `"${expected}-2"`);
  const got = await s3.send(new GetObjectCommand({ Bucket: 'big', Key: 'joined.bin' }));
  assert.equal(got.ContentType, 'application/x-test');
  assert.deepEqual(got.Metadata, { kind: 'mp' });
  assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat([one, two])));
  assert.equal((await s3Error(s3.send(new ListPartsCommand({ Bucket: 'big', Key: 'joined.bin', UploadId })))).name, 'NoSuchUpload');

  const aborted = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'big', Key: 'never.bin' }));
  await s3.send(new UploadPartCommand({ Bucket: 'big', Key: 'never.bin', UploadId: aborted.UploadId, PartNumber: 1, Body: two }));
  await s3.send(new AbortMultipartUploadCommand({ Bucket: 'big', Key: 'never.bin', UploadId: aborted.UploadId }));
  assert.equal((await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'big', Key: 'never.bin' })))).status, 404);
  const [{ n }] = await a.sql<{ n: string }>('select count(*)::text as n from storage.s3_multipart_uploads_parts');
  assert.equal(n, '0');
});

test('session-token mode (ref, anon key, user JWT) applies RLS as the REST API does', async () => {
  const admin = supabaseClient(a, { key: a.serviceKey }).storage;
  await admin.createBucket('homes3');
  await admin.from('homes3').upload('someone/else.txt', 'not yours');
  await a.sql(`create policy s3_home_rw on storage.objects for all to authenticated
    using (bucket_id = 'homes3' and (storage.foldername(name))[1] = auth.uid()::text)
    with check (bucket_id = 'homes3' and (storage.foldername(name))[1] = auth.uid()::text)`);
  const alice = randomUUID();
  const s3 = client(a, { accessKeyId: a.ref, secretAccessKey: a.anonKey, sessionToken: a.token({ sub: alice }) });
  await s3.send(new PutObjectCommand({ Bucket: 'homes3', Key: `${alice}/mine.txt`, Body: 'mine' }));
  assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'homes3', Key: `${alice}/mine.txt` }))).Body!.transformToString(), 'mine');
  const [{ owner_id }] = await a.sql<{ owner_id: string }>(`select owner_id from storage.objects where name = '${alice}/mine.txt'`);
  assert.equal(owner_id, alice);
  const refused = await s3Error(s3.send(new PutObjectCommand({ Bucket: 'homes3', Key: 'someone/x.txt', Body: 'x' })));
  assert.deepEqual([refused.name, refused.status], ['AccessDenied', 403]);
  assert.equal((await s3Error(s3.send(new GetObjectCommand({ Bucket: 'homes3', Key: 'someone/else.txt' })))).status, 404);
  assert.deepEqual((await s3.send(new ListObjectsV2Command({ Bucket: 'homes3' }))).Contents!.map((c) => c.Key), [`${alice}/mine.txt`]);
  // a multipart upload runs under the same policy
  const mp = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'homes3', Key: `${alice}/mp.bin` }));
  const part = await s3.send(new UploadPartCommand({ Bucket: 'homes3', Key: `${alice}/mp.bin`, UploadId: mp.UploadId, PartNumber: 1, Body: 'abc' }));
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'homes3', Key: `${alice}/mp.bin`, UploadId: mp.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
  assert.equal((await s3Error(s3.send(new CreateMultipartUploadCommand({ Bucket: 'homes3', Key: 'someone/mp.bin' })))).status, 403);
  // the JWT must be one of this project's; the access key id must be its ref
  const forged = client(a, { accessKeyId: a.ref, secretAccessKey: a.anonKey, sessionToken: b.token({ sub: alice }) });
  assert.equal((await s3Error(forged.send(new ListObjectsV2Command({ Bucket: 'homes3' })))).status, 403);
  const otherRef = client(a, { accessKeyId: b.ref, secretAccessKey: b.anonKey, sessionToken: a.token({ sub: alice }) });
  assert.equal((await s3Error(otherRef.send(new ListObjectsV2Command({ Bucket: 'homes3' })))).name, 'InvalidAccessKeyId');
});

test('presigned URLs (query SigV4) work with no other credentials; tampering and expiry are refused in S3 XML', async () => {
  const s3 = client(a, { accessKeyId: keyA.access_key_id, secretAccessKey: keyA.secret_access_key });
  await s3.send(new CreateBucketCommand({ Bucket: 'shared' }));
  const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'shared', Key: 'up.txt' }), { expiresIn: 60 });
  const up = await fetch(putUrl, { method: 'PUT', body: 'uploaded by URL' });
  assert.equal(up.status, 200, await up.clone().text());
  const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'shared', Key: 'up.txt' }), { expiresIn: 60 });
  const r = await fetch(url);
  assert.equal(r.status, 200);
  assert.equal(await r.text(), 'uploaded by URL');
  // response-* parameters name the download
  const named = await fetch(await getSignedUrl(s3, new GetObjectCommand({
    Bucket: 'shared', Key: 'up.txt', ResponseContentDisposition: 'attachment; filename="report.txt"', ResponseCacheControl: 'no-store',
  }), { expiresIn: 60 }));
  assert.equal(named.headers.get('content-disposition'), 'attachment; filename="report.txt"');
  assert.equal(named.headers.get('cache-control'), 'no-store');
  assert.equal(await named.text(), 'uploaded by URL');
  const tampered = new URL(url);
  tampered.pathname = tampered.pathname.replace('up.txt', 'other.txt');
  const bad = await fetch(tampered);
  assert.equal(bad.status, 403);
  const xml = await bad.text();
  assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>SignatureDoesNotMatch<\/Code><Message>[^<]+<\/Message>/);
  const expired = new URL(await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'shared', Key: 'up.txt' }), { expiresIn: 1, signingDate: new Date(Date.now() - 10_000) }));
  const old = await fetch(expired);
  assert.equal(old.status, 403);
  assert.match(await old.text(), /<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/);
  // unsigned requests are refused
  const anon = await fetch(`${endpoint(a)}/shared/up.txt`);
  assert.equal(anon.status, 403);
  assert.match(await anon.text(), /<Code>AccessDenied<\/Code>/);
});
