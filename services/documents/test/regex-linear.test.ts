// Tenants' regular expressions evaluated by the documents process itself (stages after a $unwind or $group, $pull
// conditions) run in V8's linear-time engine, as the fleet starts the service: a pattern that backtracks
// exponentially answers at once instead of holding the thread every tenant shares; backreferences and lookaround,
// which the linear engine does not run (Node 24's runs a plain lookbehind), are refused as MongoDB refuses an invalid
// pattern (51091).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject, type TestProject } from '@basalt/testkit';
import { action, service } from './http-setup.js';

let p: TestProject;
before(async () => {
  p = await createProject('docs-regex');
  const r = await service(p, 'insertOne', { collection: 'words', document: { _id: 1, tags: ['a'.repeat(30) + 'b', 'ok'] } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
});

const unwound = (pattern: string) => service(p, 'aggregate', { collection: 'words', pipeline: [{ $unwind: '$tags' }, { $match: { tags: { $regex: pattern } } }] });

test('a pattern that backtracks exponentially is answered at once, and correctly', async () => {
  const started = performance.now();
  const r = await unwound('^(a+)+$'); // 2^30 steps for a backtracking engine on 30 a's and a b
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.documents, []);
  assert.ok(performance.now() - started < 5_000, `took ${Math.round(performance.now() - started)} ms`);
  // the same engine still matches what it should, flags included
  assert.deepEqual((await unwound('^O')).body.documents, []);
  const flagged = await service(p, 'aggregate', { collection: 'words', pipeline: [{ $unwind: '$tags' }, { $match: { tags: { $regex: '^O', $options: 'i' } } }] });
  assert.deepEqual(flagged.body.documents, [{ _id: 1, tags: 'ok' }], JSON.stringify(flagged.body));
});

test('case-insensitive patterns still match, and in linear time', async () => {
  const r = await service(p, 'aggregate', { collection: 'words', pipeline: [{ $unwind: '$tags' }, { $match: { tags: { $regex: '^(A+)+$', $options: 'i' } } }] });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.documents, []);
  const named = await service(p, 'aggregate', { collection: 'words', pipeline: [{ $unwind: '$tags' }, { $match: { tags: { $regex: '^O[K]$', $options: 'i' } } }] });
  assert.deepEqual(named.body.documents, [{ _id: 1, tags: 'ok' }], JSON.stringify(named.body));
});

const refused = (pattern: string, r: Awaited<ReturnType<typeof unwound>>) => {
  assert.equal(r.status, 400, `${pattern}: ${JSON.stringify(r.body)}`);
  assert.equal(r.body.error_code, 'Location51091', pattern);
  assert.match(r.body.error, /Regular expression is invalid/);
};

test('backreferences and lookaround in a stage evaluated here are an invalid regular expression (51091), not a hang', async () => {
  for (const pattern of ['^(a+)+\\1$', '^(?=(a+)+$)a', '(?<=(a+)+)b']) refused(pattern, await unwound(pattern));
  // a plain lookbehind: Node 20's linear engine refuses it; Node 24's (the images') runs it, in linear time
  const behind = await unwound('(?<=a)b');
  if (behind.status === 400) refused('(?<=a)b', behind);
  else assert.deepEqual(behind.body.documents, [{ _id: 1, tags: 'a'.repeat(30) + 'b' }], JSON.stringify(behind.body));
  // a find's $regex runs in Postgres, which takes them (bounded there by the statement timeout)
  const found = await action(p, 'find', { collection: 'words', filter: { tags: { $regex: '(o)k' } } }, { key: p.serviceKey });
  assert.equal(found.status, 200, JSON.stringify(found.body));
  // and one Postgres cannot compile is the caller's error, as in MongoDB, not an internal one
  const broken = await action(p, 'find', { collection: 'words', filter: { tags: { $regex: 'a(' } } }, { key: p.serviceKey });
  assert.equal(broken.status, 400, JSON.stringify(broken.body));
  assert.equal(broken.body.error_code, 'Location51091');
});
