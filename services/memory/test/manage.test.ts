// The project-wide reset (two steps) and bad input: each a clear 4xx in mem0's {detail} shape, nothing written.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { memProject, type MemProject } from './setup.js';

let p: MemProject;
let other: MemProject;
before(async () => {
  [p, other] = await Promise.all([memProject('mem-manage', { models: 'none' }), memProject('mem-manage-2', { models: 'none' })]);
});
after(async () => {
  await p?.close();
  await other?.close();
});

const count = async (m: MemProject) => Number((await m.project.sql<{ n: string }>('select count(*) as n from memory.memories'))[0].n);

test('reset needs the token from a first call, of this project, and only the service may ask', async () => {
  await p.client().add([{ role: 'user', content: 'to be wiped' }], { userId: 'r', infer: false });
  await other.client().add([{ role: 'user', content: 'kept elsewhere' }], { userId: 'r', infer: false });
  const first = await p.raw('/v1/memories/reset/', { json: {} });
  assert.equal(first.status, 202);
  assert.ok(first.body.confirm_token);
  assert.equal(await count(p), 1, 'the first call deletes nothing');

  const forged = await p.raw('/v1/memories/reset/', { json: { confirm: `${Math.floor(Date.now() / 1000) + 60}.AAAA` } });
  assert.equal(forged.status, 400);
  const otherToken = (await other.raw('/v1/memories/reset/', { json: {} })).body.confirm_token;
  assert.equal((await p.raw('/v1/memories/reset/', { json: { confirm: otherToken } })).status, 400, "another project's token");
  const user = await p.raw('/v1/memories/reset/', { json: {}, key: p.project.token({ sub: 'r' }) });
  assert.equal(user.status, 403);

  const done = await p.raw('/v1/memories/reset/', { json: { confirm: first.body.confirm_token } });
  assert.equal(done.status, 200);
  assert.equal(done.body.deleted, 1);
  assert.equal(await count(p), 0);
  assert.equal(await count(other), 1);
});

test('bad input is a 400/404/413 with a detail, and nothing is half-written', async () => {
  const before = await count(p);
  const cases: [string, string, unknown, number, RegExp][] = [
    ['POST', '/v3/memories/add/', { messages: [], user_id: 'u', infer: false }, 400, /at least one message/],
    ['POST', '/v3/memories/add/', { messages: [{ role: 'user', content: '   ' }], user_id: 'u', infer: false }, 400, /at least one message/],
    ['POST', '/v3/memories/add/', { messages: [{ role: 'user', content: 'no scope' }], infer: false }, 400, /user_id, agent_id/],
    ['POST', '/v3/memories/add/', { messages: [{ role: 'user', content: 'ok' }, { role: 'user', content: 'x'.repeat(20_001) }], user_id: 'u', infer: false }, 413, /at most 20000 characters/],
    ['POST', '/v3/memories/add/', { messages: 'hello', user_id: 'u', infer: 'yes' }, 400, /infer/],
    ['POST', '/v3/memories/add/', { user_id: 'u' }, 400, /messages/],
    ['POST', '/v3/memories/', { filters: { user_id: { between: [1, 2] } } }, 400, /"between"/],
    ['PUT', '/v1/memories/not-a-uuid/', { text: 'x' }, 404, /not found/],
    ['PUT', '/v1/memories/00000000-0000-0000-0000-000000000000/', {}, 400, /at least one of text/],
    ['GET', '/v1/memories/00000000-0000-0000-0000-000000000000/', undefined, 404, /not found/],
    ['DELETE', '/v2/entities/planet/mars/', undefined, 400, /Unknown entity type "planet"/],
    ['DELETE', '/v1/memories/', undefined, 400, /user_id, agent_id/],
    ['PUT', '/v1/batch/', { memories: [] }, 400, /memories/],
  ];
  for (const [method, path, json, status, detail] of cases) {
    const r = await p.raw(path, { method, json });
    assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(json)?.slice(0, 80)}: ${JSON.stringify(r.body)}`);
    assert.match(r.body.detail, detail, `${method} ${path}`);
  }
  const gateway = (await import('@basalt/testkit')).testEnv().gatewayUrl;
  const broken = await fetch(`${gateway}/project/${p.project.ref}/v3/memories/add/`, {
    method: 'POST', headers: { authorization: `Token ${p.project.serviceKey}`, 'content-type': 'application/json' }, body: '{"messages": [',
  });
  assert.equal(broken.status, 400);
  const huge = await p.raw('/v3/memories/add/', { json: { messages: [{ role: 'user', content: 'y'.repeat(3 * 1024 * 1024) }], user_id: 'u', infer: false } });
  assert.equal(huge.status, 413);
  assert.equal(await count(p), before);
  await assert.rejects(p.client().add([], { userId: 'u' }), /empty messages/);
});
