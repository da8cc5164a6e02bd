// The Data API with real users signed up through the auth service: per-collection rules let a user read and
// write only their own documents, default deny, service_role bypasses, rules validated when saved, and project
// A's keys never reach project B.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createProject, supabaseClient, testEnv, type TestProject } from '@basalt/testkit';
import { action, manageRaw, putRules, service } from './http-setup.js';

let a: TestProject;
let b: TestProject;
const users: Record<string, { id: string; token: string }> = {};

before(async () => {
  [a, b] = await Promise.all([createProject('docs-http-a'), createProject('docs-http-b')]);
  for (const name of ['alice', 'bob']) {
    const { data, error } = await supabaseClient(a).auth.signUp({ email: `${name}-${randomUUID()}@example.com`, password: 'doc-pass-123' });
    assert.ifError(error);
    users[name] = { id: data.user!.id, token: data.session!.access_token };
  }
  await putRules(a, 'notes', {
    read: { owner: '${auth.uid}' },
    insert: { filter: { owner: '${auth.uid}' }, fields: ['owner', 'text', 'tags'] },
    update: { filter: { owner: '${auth.uid}' }, fields: ['text', 'tags'] },
    delete: { owner: '${auth.uid}' },
  });
});
after(() => undefined);

const as = (name: string, act: string, body: unknown) => action(a, act, body, { token: users[name].token });

test('rules are validated when saved; only the owner may manage them', async () => {
  const bad: [unknown, RegExp][] = [
    [{ read: { a: { $foo: 1 } } }, /unknown query operator: \$foo/],
    [{ read: { owner: '${auth.nope}' } }, /unknown variable \$\{auth.nope\}/],
    [{ bogus: true }, /unknown rule "bogus"/],
    [{ read: { filter: { a: 1 }, fields: ['a'] } }, /fields apply to insert and update only/],
    [{ insert: { fields: 'text' } }, /fields must be an array/],
    [{ read: { $where: 'x' } }, /\$where \(server-side JavaScript\) is not allowed/],
  ];
  for (const [rules, re] of bad) {
    const r = await manageRaw(a, '/rules/notes2', { method: 'PUT', json: rules, token: testEnv().platformToken });
    assert.equal(r.status, 400, JSON.stringify(rules));
    assert.match(r.body.message, re);
  }
  assert.equal((await manageRaw(a, '/rules/notes', { method: 'PUT', json: { read: true } })).status, 401);
  assert.equal((await manageRaw(a, '/rules/notes', { method: 'PUT', json: { read: true }, token: a.anonKey })).status, 403);
  assert.equal((await manageRaw(a, '/rules/notes', { method: 'PUT', json: { read: true }, token: b.serviceKey })).status, 401, "B's service key is not A's");
  const probe = (json: unknown) => manageRaw(a, '/rules/notes/test', { method: 'POST', json, token: a.serviceKey });
  const asAlice = await probe({ action: 'insert', auth: { uid: users.alice.id }, document: { owner: users.alice.id, text: 'x' } });
  assert.deepEqual(asAlice.body, { allowed: true, filter: { owner: users.alice.id }, fields: ['owner', 'text', 'tags'], document_allowed: true });
  const forging = await probe({ action: 'insert', auth: { uid: users.alice.id }, document: { owner: users.bob.id, text: 'x' } });
  assert.equal(forging.body.document_allowed, false);
  const extraField = await probe({ action: 'update', auth: { uid: users.alice.id }, document: { owner: users.alice.id, secret: 1 } });
  assert.deepEqual([extraField.body.document_allowed, extraField.body.refused_field], [false, 'owner']);
  assert.deepEqual((await probe({ action: 'read', auth: {} })).body, { allowed: false });
  const got = await manageRaw(a, '/rules/notes', { token: a.serviceKey });
  assert.equal(got.status, 200);
  assert.deepEqual(got.body.read, { owner: '${auth.uid}' });
});

test('a user writes only documents they own, only allowed fields, and nothing half-written', async () => {
  const ok = await as('alice', 'insertOne', { collection: 'notes', document: { owner: users.alice.id, text: 'alice 1', tags: ['x'] } });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.match(ok.body.insertedId.$oid, /^[0-9a-f]{24}$/);
  assert.equal((await as('alice', 'insertMany', { collection: 'notes', documents: [{ owner: users.alice.id, text: 'alice 2' }, { owner: users.alice.id, text: 'alice 3' }] })).status, 200);
  assert.equal((await as('bob', 'insertOne', { collection: 'notes', document: { owner: users.bob.id, text: 'bob 1' } })).status, 200);

  const forged = await as('alice', 'insertMany', { collection: 'notes', documents: [{ owner: users.alice.id, text: 'fine' }, { owner: users.bob.id, text: 'forged' }] });
  assert.equal(forged.status, 403);
  assert.match(forged.body.error, /insert rule of collection "notes" refuses/);
  const extra = await as('alice', 'insertOne', { collection: 'notes', document: { owner: users.alice.id, text: 't', admin: true } });
  assert.equal(extra.status, 403);
  assert.match(extra.body.error, /does not allow writing field "admin"/);
  const all = await service(a, 'countDocuments', { collection: 'notes', filter: {} });
  assert.equal(all.body.count, 4, 'neither refused batch left a document behind');
});

test('a user reads only their own documents', async () => {
  const mine = await as('alice', 'find', { collection: 'notes', filter: {}, sort: { text: 1 } });
  assert.deepEqual(mine.body.documents.map((d: any) => d.text), ['alice 1', 'alice 2', 'alice 3']);
  assert.deepEqual((await as('alice', 'find', { collection: 'notes', filter: { owner: users.bob.id } })).body.documents, []);
  assert.equal((await as('bob', 'countDocuments', { collection: 'notes' })).body.count, 1);
  assert.equal((await as('bob', 'findOne', { collection: 'notes', filter: { text: 'alice 1' } })).body.document, null);
  const agg = await as('alice', 'aggregate', { collection: 'notes', pipeline: [{ $group: { _id: null, n: { $sum: 1 } } }] });
  assert.deepEqual(agg.body.documents, [{ _id: null, n: 3 }]);
  assert.deepEqual((await as('bob', 'distinct', { collection: 'notes', key: 'text' })).body.values, ['bob 1']);
});

test('updates and deletes reach only the caller\'s documents and may not move them to another owner', async () => {
  const up = await as('alice', 'updateMany', { collection: 'notes', filter: {}, update: { $set: { tags: ['edited'] } } });
  assert.deepEqual(up.body, { matchedCount: 3, modifiedCount: 3 });
  const steal = await as('bob', 'updateOne', { collection: 'notes', filter: { text: 'alice 1' }, update: { $set: { text: 'mine now' } } });
  assert.deepEqual(steal.body, { matchedCount: 0, modifiedCount: 0 });
  const move = await as('alice', 'updateOne', { collection: 'notes', filter: { text: 'alice 1' }, update: { $set: { owner: users.bob.id } } });
  assert.equal(move.status, 403);
  const rep = await as('alice', 'replaceOne', { collection: 'notes', filter: { text: 'alice 3' }, replacement: { text: 'replaced' } });
  assert.equal(rep.status, 403, 'a replacement without owner is a field outside the update allow-list or fails the rule');
  const del = await as('bob', 'deleteMany', { collection: 'notes', filter: {} });
  assert.deepEqual(del.body, { deletedCount: 1 });
  assert.equal((await service(a, 'countDocuments', { collection: 'notes' })).body.count, 3);
});

test('default deny: anon callers and collections without rules; service_role bypasses', async () => {
  const anon = await action(a, 'find', { collection: 'notes' });
  assert.equal(anon.status, 403, 'the rule needs auth.uid, which anon lacks');
  const norules = await as('alice', 'insertOne', { collection: 'private', document: { x: 1 } });
  assert.equal(norules.status, 403);
  assert.match(norules.body.error, /no rule allows insert on collection "private"/);
  assert.equal((await service(a, 'insertOne', { collection: 'private', document: { x: 1 } })).status, 200);
  assert.equal((await as('alice', 'createIndex', { collection: 'notes', index: { key: { owner: 1 } } })).status, 403);
  assert.equal((await service(a, 'createIndex', { collection: 'notes', index: { key: { owner: 1 } } })).body.name, 'owner_1');
});

test('project A never reaches project B', async () => {
  await service(b, 'insertOne', { collection: 'notes', document: { owner: 'b-owner', text: 'in B' } });
  const bDocs = await service(b, 'find', { collection: 'notes' });
  assert.deepEqual(bDocs.body.documents.map((d: any) => d.text), ['in B']);
  // A's service key on B's URL: the token names A's project
  const cross = await fetch(`${b.url}/mongo/v1/action/find`, { method: 'POST', headers: { 'content-type': 'application/json', apikey: a.serviceKey }, body: JSON.stringify({ collection: 'notes' }) });
  assert.ok(cross.status === 401 || cross.status === 403, `status ${cross.status}`);
  const bobInB = await action(b, 'find', { collection: 'notes' }, { token: users.bob.token });
  assert.ok(bobInB.status === 401 || bobInB.status === 403, 'a user token of A is not valid in B');
  assert.equal((await service(a, 'countDocuments', { collection: 'notes', filter: { text: 'in B' } })).body.count, 0);
});

test('EJSON: relaxed by default, canonical with Accept: application/ejson; typed values round-trip', async () => {
  const doc = { _id: { $oid: '65a1b2c3d4e5f60718293a4b' }, at: { $date: '2024-01-02T03:04:05.000Z' }, n: { $numberLong: '9007199254740993' }, d: { $numberDecimal: '1.10' }, i: 5, bin: { $binary: { base64: 'aGk=', subType: '00' } } };
  assert.equal((await service(a, 'insertOne', { collection: 'typed', document: doc })).status, 200);
  const relaxed = await service(a, 'findOne', { collection: 'typed', filter: { _id: { $oid: '65a1b2c3d4e5f60718293a4b' } } });
  assert.deepEqual(relaxed.body.document, { _id: { $oid: '65a1b2c3d4e5f60718293a4b' }, at: { $date: '2024-01-02T03:04:05Z' }, n: Number('9007199254740993'), d: { $numberDecimal: '1.10' }, i: 5, bin: { $binary: { base64: 'aGk=', subType: '00' } } });
  const canonical = await service(a, 'findOne', { collection: 'typed', filter: { at: { $gte: { $date: '2024-01-01T00:00:00Z' } } } }, 'application/ejson');
  assert.match(canonical.type!, /application\/ejson/);
  assert.deepEqual(canonical.body.document.n, { $numberLong: '9007199254740993' });
  assert.deepEqual(canonical.body.document.i, { $numberInt: '5' });
  assert.deepEqual(canonical.body.document.at, { $date: { $numberLong: String(Date.parse('2024-01-02T03:04:05Z')) } });
});

test('bad input: clear 4xx in the Data API shape', async () => {
  const cases: [string, unknown, number, RegExp][] = [
    ['find', { collection: 'typed', filter: { $where: 'sleep(1000)' } }, 400, /\$where \(server-side JavaScript\) is not allowed/],
    ['find', { collection: 'typed', filter: { a: { $near: [1, 2] } } }, 400, /unknown query operator: \$near/],
    ['find', { collection: 'typed', limit: 100000 }, 400, /maximum page size/],
    ['find', { filter: {} }, 400, /collection is required/],
    ['find', { collection: 'bad$name' }, 400, /invalid collection name/],
    ['insertOne', { collection: 'typed', document: { $set: 1 } }, 400, /may not start with '\$'/],
    ['insertOne', { collection: 'typed', document: { _id: { $oid: '65a1b2c3d4e5f60718293a4b' } } }, 409, /E11000 duplicate key/],
    ['updateOne', { collection: 'typed', filter: {}, update: { x: 1 } }, 400, /requires atomic operators/],
    ['aggregate', { collection: 'typed', pipeline: [{ $merge: 'x' }] }, 400, /unknown pipeline stage operator: \$merge/],
    ['findOne', { collection: 'typed', filter: { at: { $date: 'not a date' } } }, 400, /Extended JSON|invalid/i],
    ['explode', { collection: 'typed' }, 404, /unknown action "explode"/],
  ];
  for (const [act, body, status, re] of cases) {
    const r = await service(a, act, body);
    assert.equal(r.status, status, `${act} ${JSON.stringify(body)} → ${JSON.stringify(r.body)}`);
    assert.match(r.body.error, re);
    assert.equal(typeof r.body.error_code, 'string');
  }
  let deep: any = { x: 1 };
  for (let i = 0; i < 150; i++) deep = { a: deep };
  const tooDeep = await service(a, 'insertOne', { collection: 'typed', document: deep });
  assert.equal(tooDeep.status, 400);
  const big = await service(a, 'insertOne', { collection: 'typed', document: { blob: 'x'.repeat(17 * 1024 * 1024) } });
  assert.ok(big.status === 400 || big.status === 413, `status ${big.status}`);
  assert.equal((await service(a, 'countDocuments', { collection: 'typed' })).body.count, 1, 'nothing half-written');
});

test('concurrent first inserts into a new collection all land (the table is created once)', async () => {
  const rs = await Promise.all(Array.from({ length: 8 }, (_, i) => service(a, i % 2 ? 'insertOne' : 'updateOne',
    i % 2 ? { collection: 'race', document: { i } } : { collection: 'race', filter: { i }, update: { $set: { i } }, upsert: true })));
  assert.deepEqual(rs.map((r) => r.status), Array(8).fill(200), JSON.stringify(rs.map((r) => r.body)));
  assert.equal((await service(a, 'countDocuments', { collection: 'race' })).body.count, 8);
});
