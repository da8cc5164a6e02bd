import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { decodeUnverified, generateSigningKey, hmacKey, JwtError, keySet, signApiKey, signJwt, verifyJwt } from './index.js';

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

test('asymmetric keys: ES256, RS256 and EdDSA sign with the key in use and verify by kid', () => {
  const hmac = hmacKey('shared-secret-for-the-test-0123456789');
  for (const alg of ['ES256', 'RS256', 'EdDSA'] as const) {
    const a = generateSigningKey(alg, `kid-${alg}-a`);
    const b = generateSigningKey(alg, `kid-${alg}-b`);
    const current = keySet(hmac, [{ kid: `kid-${alg}-a`, alg, publicJwk: a.publicJwk, privateJwk: a.privateJwk, current: true }, { kid: `kid-${alg}-b`, alg, publicJwk: b.publicJwk }]);
    const token = signJwt({ sub: 'u1', exp: Math.floor(Date.now() / 1000) + 60 }, current, { asymmetric: true });
    const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
    assert.deepEqual(header, { alg, kid: `kid-${alg}-a`, typ: 'JWT' });
    assert.equal(verifyJwt(token, current).sub, 'u1');
    // without asymmetric: the shared secret, which still verifies
    assert.equal(JSON.parse(Buffer.from(signJwt({ sub: 'u2' }, current).split('.')[0], 'base64url').toString()).alg, 'HS256');
    assert.equal(verifyJwt(signJwt({ sub: 'u2' }, current), current).sub, 'u2');
    // a set without that kid (revoked), a bare HMAC key, a tampered payload, an alg that does not match the key
    const revoked = keySet(hmac, [{ kid: `kid-${alg}-b`, alg, publicJwk: b.publicJwk }]);
    assert.throws(() => verifyJwt(token, revoked), (e: JwtError) => e.reason === 'signature');
    assert.throws(() => verifyJwt(token, hmac), (e: JwtError) => e.reason === 'signature');
    const [h, , sig] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ sub: 'admin' })).toString('base64url')}.${sig}`;
    assert.throws(() => verifyJwt(forged, current), (e: JwtError) => e.reason === 'signature');
    const wrongAlg = `${Buffer.from(JSON.stringify({ alg: alg === 'RS256' ? 'ES256' : 'RS256', kid: `kid-${alg}-a` })).toString('base64url')}.${token.split('.')[1]}.${sig}`;
    assert.throws(() => verifyJwt(wrongAlg, current), (e: JwtError) => e.reason === 'algorithm');
  }
  // an HS256 token signed with the public key's bytes as the secret (the classic confusion) is refused
  const ec = generateSigningKey('ES256', 'k');
  const set = keySet(hmac, [{ kid: 'k', alg: 'ES256', publicJwk: ec.publicJwk }]);
  const confused = signJwt({ sub: 'x' }, hmacKey(JSON.stringify(ec.publicJwk)));
  assert.throws(() => verifyJwt(confused, set), (e: JwtError) => e.reason === 'signature');
});

test('a validly signed token nested deeper than 64 is malformed; brackets inside strings do not count', () => {
  const key = hmacKey('nesting-secret-nesting-secret-nesting-secret');
  const deep = (n: number) => JSON.parse(`${'['.repeat(n)}${']'.repeat(n)}`);
  assert.throws(() => verifyJwt(signJwt({ sub: 'u', x: deep(3_000) }, key), key), (e: JwtError) => e instanceof JwtError && e.reason === 'malformed');
  assert.throws(() => verifyJwt(signJwt({ sub: 'u', x: deep(64) }, key), key), JwtError, 'the claims object itself is a level');
  assert.equal(verifyJwt(signJwt({ sub: 'u', x: deep(63) }, key), key).sub, 'u');
  assert.equal(verifyJwt(signJwt({ sub: 'u', s: '[[[[{{{{"\\\\'.repeat(100) }, key), key).sub, 'u');
  assert.equal(decodeUnverified(signJwt({ sub: 'u', x: deep(3_000) }, key)), null);
});
