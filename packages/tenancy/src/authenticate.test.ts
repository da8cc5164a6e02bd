// authenticate's per-project cache of verified tokens: a token seen again is not verified again, but it still
// expires, and another project object (rotated keys) verifies afresh.
import { createSecretKey } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signJwt } from '@basalt/jwt';
import { authenticate, verifiedClaims } from './authenticate.js';
import type { Project } from './registry.js';

test('a verified token is not verified again, but still expires; rotated keys verify afresh', () => {
  const secret = createSecretKey(Buffer.from('a-test-secret-of-sufficient-length-0123456789'));
  const project = { ref: 'abcdefghijklmnopqrst', jwtKey: secret } as unknown as Project;
  const now = Math.floor(Date.now() / 1000);
  const token = signJwt({ ref: project.ref, role: 'authenticated', sub: 'u1', exp: now + 60 }, secret);
  const first = authenticate(project, token);
  assert.equal(first.role, 'authenticated');
  assert.equal(authenticate(project, token).claims, first.claims, 'served from the cache');
  assert.throws(() => ((first.claims as Record<string, unknown>).sub = 'someone else'), TypeError, 'cached claims are frozen');
  assert.throws(() => authenticate(project, `${token.slice(0, -2)}xx`), { name: 'AuthError' });
  const rotated = { ...project, jwtKey: createSecretKey(Buffer.from('another-secret-of-sufficient-length-0123456789')) } as unknown as Project;
  assert.throws(() => authenticate(rotated, token), { name: 'AuthError', reason: 'invalid' });
  const realNow = Date.now;
  Date.now = () => realNow() + 3600_000;
  try {
    assert.throws(() => authenticate(project, token), { name: 'AuthError', reason: 'expired' });
  } finally {
    Date.now = realNow;
  }
  assert.throws(() => authenticate(project, null), { name: 'AuthError', reason: 'missing' });
  // expired 10 s ago: within the default 30 s of clock skew, and cached so; refused where none is allowed
  const recent = signJwt({ ref: project.ref, role: 'authenticated', sub: 'u1', exp: now - 10 }, secret);
  assert.equal(verifiedClaims(project, recent).sub, 'u1');
  assert.throws(() => verifiedClaims(project, recent, 0), { name: 'AuthError', reason: 'expired' });
  assert.throws(() => authenticate(project, signJwt({ ref: 'otherprojectrefxxxxx', role: 'anon' }, secret)), { name: 'AuthError', reason: 'wrong_project' });
});
