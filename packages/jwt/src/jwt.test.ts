import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { decodeUnverified, hmacKey, JwtError, signApiKey, signJwt, verifyJwt } from './index.js';

const key = hmacKey('a-very-long-project-secret-of-at-least-32-chars');
const other = hmacKey('another-projects-secret-that-is-also-long-enough');
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const reason = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as JwtError).reason;
  }
  return 'accepted';
};

test('round-trips claims', () => {
  const token = signApiKey(key, 'abc', 'anon');
  const claims = verifyJwt(token, key);
  assert.equal(claims.role, 'anon');
  assert.equal(claims.ref, 'abc');
  assert.equal(decodeUnverified(token)?.ref, 'abc');
});

const cases: [string, () => string, string][] = [
  ['another secret', () => signJwt({ role: 'anon' }, other), 'signature'],
  ['alg none', () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ role: 'service_role' })}.`, 'algorithm'],
  ['alg HS512', () => {
    const body = `${b64({ alg: 'HS512' })}.${b64({ role: 'service_role' })}`;
    return `${body}.${createHmac('sha512', key).update(body).digest('base64url')}`;
  }, 'algorithm'],
  ['expired', () => signJwt({ role: 'anon', exp: Math.floor(Date.now() / 1000) - 120 }, key), 'expired'],
  ['not yet valid', () => signJwt({ role: 'anon', nbf: Math.floor(Date.now() / 1000) + 600 }, key), 'not_yet_valid'],
  ['tampered claims', () => {
    const [h, , s] = signJwt({ role: 'anon' }, key).split('.');
    return `${h}.${b64({ role: 'service_role' })}.${s}`;
  }, 'signature'],
  ['garbage', () => 'not.a.jwt!', 'malformed'],
  ['two segments', () => 'abc.def', 'malformed'],
  ['array payload', () => {
    const body = `${b64({ alg: 'HS256' })}.${b64([1])}`;
    return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
  }, 'malformed'],
  ['string exp', () => signJwt({ role: 'anon', exp: '9999999999' as unknown as number }, key), 'expired'],
];

for (const [name, make, expected] of cases) {
  test(`refuses a token with ${name}`, () => assert.equal(reason(() => verifyJwt(make(), key)), expected));
}
