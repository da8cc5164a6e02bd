// The plan's memory_count through the gateway with the real mem0ai client: adds fill the project up to its plan,
// the next add (verbatim or inferred) is a 402 in mem0's {detail, code} shape naming the quota and writes nothing;
// deleting makes room; a plan change applies without a restart.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { eventually, platform, testEnv } from '@basalt/testkit';
import { memProject, type MemProject } from './setup.js';

const env = testEnv();
const plan = `t-mem-${randomBytes(4).toString('hex')}`;
let m: MemProject;

before(async () => {
  m = await memProject('mem-quota', { models: 'none' });
  await platform(`/plans/${plan}`, { method: 'PUT', json: { quotas: { memory_count: 3 } } });
  await platform(`/projects/${m.project.ref}`, { method: 'PATCH', json: { plan } });
});

after(async () => {
  await platform(`/projects/${m.project.ref}`, { method: 'PATCH', json: { plan: 'unlimited' } }).catch(() => undefined);
  await fetch(`${env.gatewayUrl}/platform/v1/plans/${plan}`, { method: 'DELETE', headers: { authorization: `Bearer ${env.platformToken}` } });
  await m?.close();
});

const add = (text: string, userId = 'quota-user') => m.client().add([{ role: 'user', content: text }], { userId, infer: false });

test('memory_count: adds up to the plan, then 402 naming the quota in mem0\'s shape; nothing is written', async () => {
  await add('fact one');
  await add('fact two', 'someone-else'); // the quota is the project's, over every user
  await add('fact three');
  await assert.rejects(add('fact four'), (e: Error) => /memory_count/.test(e.message));
  const raw = await m.raw('/v3/memories/add/', { json: { messages: [{ role: 'user', content: 'fact four' }], user_id: 'quota-user', infer: false } });
  assert.equal(raw.status, 402);
  assert.equal(raw.body.code, 'memory_count');
  assert.match(raw.body.detail, /3 memories/);
  const all = await m.client().getAll({ filters: { user_id: 'quota-user' } }) as unknown as { results: { id: string; memory: string }[] };
  const list = all.results;
  assert.deepEqual(list.map((x) => x.memory).sort(), ['fact one', 'fact three']);

  // deleting one makes room for one
  await m.client().delete(list.find((x) => x.memory === 'fact one')!.id);
  await add('fact four');
});

test('a plan change lifts memory_count at once', async () => {
  await platform(`/projects/${m.project.ref}`, { method: 'PATCH', json: { plan: 'unlimited' } });
  await eventually(async () => {
    await add(`fact ${randomBytes(3).toString('hex')}`);
    return true;
  }, 20_000, 200);
});
