import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { newRequestId, requestIdOf } from './request-id.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('new ids are version 4 UUIDs, all different, past a refill of the random pool', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2_000; i++) {
    const id = newRequestId();
    assert.match(id, UUID_V4);
    seen.add(id);
  }
  assert.equal(seen.size, 2_000);
});

test('a sane x-request-id is kept; a missing, repeated or odd one is replaced', () => {
  const req = (v: unknown) => ({ headers: { 'x-request-id': v } }) as unknown as IncomingMessage;
  assert.equal(requestIdOf(req('abc-123:x.y_z')), 'abc-123:x.y_z');
  for (const v of [undefined, ['a', 'b'], '', 'a b', 'x'.repeat(129), 'é']) assert.match(requestIdOf(req(v)), UUID_V4, String(v));
});
