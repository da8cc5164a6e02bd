import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { notModified } from './shared-cache.js';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

test('conditional requests: If-None-Match (weak, lists, *) wins over If-Modified-Since', () => {
  const modified = new Date('2026-01-02T03:04:05.678Z');
  assert.equal(notModified(req({ 'if-none-match': '"abc"' }), '"abc"', modified), true);
  assert.equal(notModified(req({ 'if-none-match': 'W/"abc", "x"' }), '"abc"', modified), true);
  assert.equal(notModified(req({ 'if-none-match': '*' }), '"abc"', modified), true);
  assert.equal(notModified(req({ 'if-none-match': '"x"', 'if-modified-since': modified.toUTCString() }), '"abc"', modified), false);
  assert.equal(notModified(req({ 'if-modified-since': modified.toUTCString() }), '"abc"', modified), true);
  assert.equal(notModified(req({ 'if-modified-since': 'Thu, 01 Jan 2026 00:00:00 GMT' }), '"abc"', modified), false);
  assert.equal(notModified(req({ 'if-modified-since': 'garbage' }), '"abc"', modified), false);
  assert.equal(notModified(req({}), '"abc"', modified), false);
});
