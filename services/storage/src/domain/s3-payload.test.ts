import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { s3Payload } from './s3-payload.js';
import { signingKey, type ClientSignature } from './sigv4.js';

const collect = async (r: Readable) => {
  const out: Buffer[] = [];
  for await (const c of r as AsyncIterable<Buffer>) out.push(c);
  return Buffer.concat(out);
};

// AWS's documented STREAMING-AWS4-HMAC-SHA256-PAYLOAD example (66,560 bytes of "a" in chunks of 64 KiB and 1 KiB)
const sig: ClientSignature = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE', scope: '20130524/us-east-1/s3/aws4_request', date: '20130524', region: 'us-east-1',
  signedHeaders: [], signature: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9', amzDate: '20130524T000000Z', presigned: false,
};
const key = signingKey('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', sig.date, sig.region);
const chunk = (size: number, signature: string) => Buffer.concat([Buffer.from(`${size.toString(16)};chunk-signature=${signature}\r\n`), Buffer.alloc(size, 'a'), Buffer.from('\r\n')]);
const body = () => [
  chunk(65536, 'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648'),
  chunk(1024, '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497'),
  chunk(0, 'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9'),
];
const headers = { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'x-amz-decoded-content-length': '66560' };

test('signed aws-chunked bodies decode with every chunk signature checked (AWS example), split anywhere', async () => {
  const whole = Buffer.concat(body());
  for (const step of [whole.length, 7, 4096]) {
    const pieces: Buffer[] = [];
    for (let i = 0; i < whole.length; i += step) pieces.push(whole.subarray(i, i + step));
    const p = s3Payload(Readable.from(pieces), headers, sig, key);
    assert.equal(p.length, 66560);
    assert.ok((await collect(p.stream)).equals(Buffer.alloc(66560, 'a')), `step ${step}`);
  }
  const tampered = body();
  tampered[1] = chunk(1024, '0'.repeat(64));
  await assert.rejects(collect(s3Payload(Readable.from(tampered), headers, sig, key).stream), { code: 'SignatureDoesNotMatch' });
  await assert.rejects(collect(s3Payload(Readable.from(body().slice(0, 2)), headers, sig, key).stream), { code: 'IncompleteBody' });
});

test('unsigned aws-chunked bodies with trailers, and hex payload hashes checked as the bytes pass', async () => {
  const framed = Buffer.from('5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n');
  const p = s3Payload(Readable.from([framed]), { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' }, null, null);
  assert.equal((await collect(p.stream)).toString(), 'hello world');
  const sha = createHash('sha256').update('abc').digest('hex');
  assert.equal((await collect(s3Payload(Readable.from([Buffer.from('abc')]), { 'x-amz-content-sha256': sha }, null, null).stream)).toString(), 'abc');
  await assert.rejects(collect(s3Payload(Readable.from([Buffer.from('abd')]), { 'x-amz-content-sha256': sha }, null, null).stream), { code: 'XAmzContentSHA256Mismatch' });
  await assert.rejects(collect(s3Payload(Readable.from([Buffer.from('zz\r\n')]), { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD' }, null, null).stream), { code: 'IncompleteBody' });
});
