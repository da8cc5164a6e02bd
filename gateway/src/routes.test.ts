// The routing table: mem0's paths and the model endpoints share /v1 and go apart; delegated platform paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchRoute, studioMatch } from './routes.js';

const service = (path: string) => matchRoute(path, '')?.route.service;

test('mem0 paths go to memory, the model endpoints under /v1 to the AI gateway', () => {
  for (const p of ['/v1/ping/', '/v1/memories/', '/v1/memories/abc/history/', '/v1/entities/', '/v1/batch/', '/v1/event/e1/', '/v2/memories/search/', '/v3/memories/add/', '/v2/entities/user/u1/', '/mem/v1/memories']) {
    assert.equal(service(p), 'memory', p);
  }
  for (const p of ['/v1/chat/completions', '/v1/embeddings', '/v1/models', '/v1/responses', '/v1/messages', '/v1/messages/count_tokens']) {
    assert.equal(service(p), 'ai-gateway', p);
  }
  assert.equal(service('/v1/pingpong'), 'ai-gateway', 'a prefix matches whole segments only');
});

test('platform paths of a project owned by another service are delegated to it', () => {
  const ref = 'abcdefghijklmnopqrst';
  assert.equal(service(`/platform/v1/projects/${ref}/documents/rules/notes`), 'documents');
  assert.equal(service(`/platform/v1/projects/${ref}/memory/settings`), 'memory');
  assert.equal(service(`/platform/v1/projects/${ref}/realtime/stats`), 'realtime');
  assert.equal(service(`/platform/v1/projects/${ref}/ai/keys`), 'ai-gateway');
  assert.equal(service(`/platform/v1/projects/${ref}/storage/s3-keys`), 'storage');
  assert.equal(service(`/platform/v1/projects/${ref}`), 'platform');
  assert.equal(service(`/platform/v1/projects/${ref}/documentsx`), 'platform');
});

test('Studio is /studio and below on the base host, whole segments only', () => {
  assert.equal(studioMatch('/studio', '')?.route.service, 'platform');
  assert.equal(studioMatch('/studio/pages/tables.js', '?v=1')?.path, '/studio/pages/tables.js?v=1');
  assert.equal(studioMatch('/studiox', ''), null);
  assert.equal(matchRoute('/studio', ''), null, 'not in the table every host shares: a project host keeps /studio for its site');
});
