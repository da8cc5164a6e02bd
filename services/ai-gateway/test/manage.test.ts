// The AI management API: who may use it, providers (keys sealed and never returned), the route table's
// validation, and keys shown once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { testEnv } from '@basalt/testkit';
import { aiProject, type AiProject } from './setup.js';

let p: AiProject;
before(async () => {
  p = await aiProject('ai-manage');
});
after(() => p?.close());

test('only a platform token or the project\'s service_role key may manage it', async () => {
  assert.equal((await p.manageRaw('/providers')).status, 401);
  assert.equal((await p.manageRaw('/providers', { token: p.project.anonKey })).status, 403);
  assert.equal((await p.manageRaw('/providers', { token: p.key })).status, 401, 'an AI key is not a management credential');
  const service = await p.manageRaw('/providers', { token: p.project.serviceKey });
  assert.equal(service.status, 200);
  assert.equal(service.body.length, 4);
  assert.equal((await p.manageRaw('/providers', { token: 'bsp_notatoken' })).status, 401);
});

test('providers: created, listed, updated and deleted; api keys sealed at rest and never returned', async () => {
  const created = await p.manageRaw('/providers', { token: p.project.serviceKey, method: 'POST', json: { name: 'local', type: 'openai_compatible', base_url: 'http://127.0.0.77:1/v1', api_key: 'sk-secret-local' } });
  assert.equal(created.status, 201);
  assert.equal(created.body.has_api_key, true);
  assert.ok(!JSON.stringify(created.body).includes('sk-secret-local'));
  assert.equal((await p.manageRaw('/providers', { token: p.project.serviceKey, method: 'POST', json: { name: 'local', type: 'openai', api_key: 'k' } })).status, 409);
  assert.equal((await p.manageRaw('/providers', { token: p.project.serviceKey, method: 'POST', json: { name: 'x', type: 'openai' } })).status, 400, 'openai needs a key');
  assert.equal((await p.manageRaw('/providers', { token: p.project.serviceKey, method: 'POST', json: { name: 'y', type: 'openai_compatible' } })).status, 400, 'compatible needs a url');
  assert.equal((await p.manageRaw('/providers', { token: p.project.serviceKey, method: 'POST', json: { name: 'z', type: 'bogus', api_key: 'k' } })).status, 400);
  const list = await p.manage<any[]>('/providers');
  assert.ok(!JSON.stringify(list).includes('sk-'));
  const updated = await p.manage(`/providers/local`, { method: 'PATCH', json: { timeout_ms: 5000 } });
  assert.equal(updated.timeout_ms, 5000);

  const db = new pg.Client({ connectionString: testEnv().databaseUrl });
  await db.connect();
  const { rows } = await db.query('select api_key_enc from platform.ai_providers where ref = $1 and name = $2', [p.project.ref, 'local']);
  await db.end();
  assert.ok(!rows[0].api_key_enc.includes('sk-secret-local'));

  assert.equal((await p.manageRaw('/providers/oa', { token: p.project.serviceKey, method: 'DELETE' })).status, 409, 'routes still use it');
  assert.equal((await p.manageRaw('/providers/local', { token: p.project.serviceKey, method: 'DELETE' })).status, 204);
  assert.equal((await p.manageRaw('/providers/local', { token: p.project.serviceKey })).status, 404);
});

test('routes: every provider named must exist; the table comes back in order', async () => {
  const bad = await p.manageRaw('/routes', { token: p.project.serviceKey, method: 'PUT', json: { routes: [{ model: 'm', provider: 'nope' }] } });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.code, 'unknown_provider');
  const badFallback = await p.manageRaw('/routes', { token: p.project.serviceKey, method: 'PUT', json: { routes: [{ model: 'm', provider: 'oa', fallbacks: ['ghost/x'] }] } });
  assert.equal(badFallback.status, 400);
  const { routes } = await p.manage<{ routes: any[] }>('/routes');
  assert.equal(routes[0].model, 'gpt-4o-mini');
  assert.equal(routes.at(-1).model, 'claude-*');
});

test('keys: shown once, listed without the secret, revoked', async () => {
  const k = await p.manageRaw('/keys', { token: p.project.serviceKey, method: 'POST', json: { name: 'ci', limits: { requests_per_minute: 10 } } });
  assert.equal(k.status, 201);
  assert.match(k.body.key, /^bsk_[A-Za-z0-9]{40}$/);
  const list = await p.manage<any[]>('/keys');
  assert.ok(!JSON.stringify(list).includes(k.body.key));
  assert.equal(list.find((x) => x.id === k.body.id).limits.requests_per_minute, 10);
  const revoked = await p.manage(`/keys/${k.body.id}`, { method: 'DELETE' });
  assert.ok(revoked.revoked_at);
  assert.equal((await p.manageRaw('/keys/not-a-uuid', { token: p.project.serviceKey, method: 'DELETE' })).status, 404);
  assert.equal((await p.manageRaw('/keys', { token: p.project.serviceKey, method: 'POST', json: { name: 'x', limits: { requests_per_minute: -1 } } })).status, 400);
});
