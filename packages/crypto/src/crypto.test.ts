import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { hashToken, randomRef, randomToken, safeEqual, SecretBox } from './index.js';

const box = new SecretBox(randomBytes(32).toString('hex'));

test('sealed secrets round-trip and never repeat', () => {
  const a = box.encrypt('project secret');
  const b = box.encrypt('project secret');
  assert.notEqual(a, b, 'fresh IV per call');
  assert.equal(box.decrypt(a), 'project secret');
  assert.equal(box.decrypt(box.encrypt('')), '');
});

test('a tampered, truncated or foreign ciphertext is refused', () => {
  const sealed = box.encrypt('x'.repeat(40));
  const [v, iv, tag, ct] = sealed.split('.');
  const flip = (s: string) => Buffer.from(Buffer.from(s, 'base64url').map((b, i) => (i === 0 ? b ^ 1 : b))).toString('base64url');
  for (const bad of [`${v}.${iv}.${tag}.${flip(ct)}`, `${v}.${iv}.${flip(tag)}.${ct}`, `${v}.${flip(iv)}.${tag}.${ct}`, `${v}.${iv}.${tag}`, `v9.${iv}.${tag}.${ct}`]) {
    assert.throws(() => box.decrypt(bad));
  }
  assert.throws(() => new SecretBox(randomBytes(32).toString('hex')).decrypt(sealed), 'another master key');
  assert.throws(() => new SecretBox('abcd'), /32 bytes/);
});

test('tokens, refs and hashes have their shapes', () => {
  assert.match(randomToken('bsp_'), /^bsp_[A-Za-z0-9]{40}$/);
  assert.match(randomRef(), /^[a-z]{20}$/);
  assert.equal(hashToken('a'), hashToken('a'));
  assert.notEqual(hashToken('a'), hashToken('b'));
  assert.equal(safeEqual('abc', 'abc'), true);
  assert.equal(safeEqual('abc', 'abd'), false);
  assert.equal(safeEqual('abc', 'abcd'), false);
});
