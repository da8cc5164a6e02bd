import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractSignature, parseQuery, SigError, verifySignature } from './sigv4.js';

// AWS's documented SigV4 examples for S3 (examplebucket, 2013-05-24)
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const NOW = Date.UTC(2013, 4, 24, 0, 1);
const host = 'examplebucket.s3.amazonaws.com';

test('header signatures: AWS\'s GET Object example verifies; another path, header or secret does not', () => {
  const headers = {
    authorization: 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    range: 'bytes=0-9', 'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'x-amz-date': '20130524T000000Z',
  };
  const sig = extractSignature(headers, [])!;
  assert.equal(sig.accessKeyId, 'AKIAIOSFODNN7EXAMPLE');
  const req = { method: 'GET', paths: ['/test.txt'], query: '', headers, host };
  assert.ok(verifySignature(sig, SECRET, req, NOW));
  // the public path is tried first, the service's own path after it
  assert.ok(verifySignature(sig, SECRET, { ...req, paths: ['/project/x/test.txt', '/test.txt'] }, NOW));
  for (const bad of [{ ...req, paths: ['/other.txt'] }, { ...req, headers: { ...headers, range: 'bytes=0-10' } }, { ...req, host: 'evil.example' }]) {
    assert.throws(() => verifySignature(sig, SECRET, bad, NOW), (e: SigError) => e.code === 'SignatureDoesNotMatch');
  }
  assert.throws(() => verifySignature(sig, 'x', req, NOW), (e: SigError) => e.code === 'SignatureDoesNotMatch');
  assert.throws(() => verifySignature(sig, SECRET, req, NOW + 3600_000), (e: SigError) => e.code === 'RequestTimeTooSkewed');
});

test('presigned URLs: AWS\'s example verifies until it expires; its signature never signs itself', () => {
  const query = 'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';
  const sig = extractSignature({}, parseQuery(query))!;
  assert.equal(sig.presigned, true);
  const req = { method: 'GET', paths: ['/test.txt'], query, headers: {}, host };
  assert.ok(verifySignature(sig, SECRET, req, NOW));
  assert.throws(() => verifySignature(sig, SECRET, req, NOW + 86400_000), (e: SigError) => e.code === 'AccessDenied' && e.message === 'Request has expired');
  assert.throws(() => verifySignature(sig, SECRET, { ...req, method: 'PUT' }, NOW), (e: SigError) => e.code === 'SignatureDoesNotMatch');
  assert.throws(() => extractSignature({}, parseQuery(query.replace('86400', '604801'))), (e: SigError) => e.code === 'AuthorizationQueryParametersError');
  assert.throws(() => extractSignature({ authorization: 'AWS AKID:sig' }, []), (e: SigError) => e.code === 'AuthorizationHeaderMalformed');
  assert.equal(extractSignature({}, []), null);
});
