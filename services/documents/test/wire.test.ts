// The official mongodb driver against the wire port with per-project SCRAM-SHA-256 credentials: CRUD, cursors
// over several batches, aggregation, indexes, bad credentials refused, and project A's login never reaching B.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Decimal128, Long, MongoClient, MongoServerError, ObjectId } from 'mongodb';
import { createProject, platform, type TestProject } from '@basalt/testkit';
import { service } from './http-setup.js';

let a: TestProject;
let b: TestProject;
let credA: { username: string; password: string; uri: string };
let credB: { username: string; password: string; uri: string };
let client: MongoClient;
const clients: MongoClient[] = [];

const connect = async (uri: string) => {
  const c = new MongoClient(uri, { serverSelectionTimeoutMS: 3000, connectTimeoutMS: 3000 });
  clients.push(c);
  await c.connect();
  return c;
};

before(async () => {
  [a, b] = await Promise.all([createProject('docs-wire-a'), createProject('docs-wire-b')]);
  credA = await platform(`/projects/${a.ref}/documents/credentials`, { method: 'POST' });
  credB = await platform(`/projects/${b.ref}/documents/credentials`, { method: 'POST' });
  client = await connect(credA.uri);
});
after(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
});

test('credentials: uri with the wire port, password shown once, only salted keys listed', async () => {
  assert.match(credA.uri, new RegExp(`^mongodb://${credA.username.replace('.', '\\.')}:[^@]+@[^:]+:\\d+/${a.ref}\\?authSource=admin`));
  const wire = await platform(`/projects/${a.ref}/documents/wire`);
  assert.ok(credA.uri.includes(`:${wire.port}/`));
  const list = await platform(`/projects/${a.ref}/documents/credentials`);
  assert.deepEqual(list.map((c: any) => c.username), [credA.username]);
  assert.ok(!JSON.stringify(list).includes(credA.password));
  assert.deepEqual((await client.db().command({ ping: 1 })).ok, 1);
  const info = await client.db().admin().command({ buildInfo: 1 });
  assert.equal(info.version, '7.0.0');
});

test('CRUD with typed values; updates, upserts and deletes report counts as MongoDB does', async () => {
  const c = client.db().collection('people');
  const id = new ObjectId();
  const ins = await c.insertOne({ _id: id, name: 'Ada', born: new Date('1815-12-10'), n: Long.fromString('9007199254740993'), price: Decimal128.fromString('1.50'), tags: ['math'] });
  assert.ok(ins.insertedId.equals(id));
  const many = await c.insertMany([{ name: 'Alan', age: 41 }, { name: 'Grace', age: 85 }, { name: 'Edsger', age: 72 }]);
  assert.equal(many.insertedCount, 3);
  const ada = await c.findOne({ _id: id });
  assert.equal(ada?.name, 'Ada');
  assert.ok(ada?.born instanceof Date && ada.born.toISOString().startsWith('1815-12-10'));
  assert.ok(ada?.price instanceof Decimal128);
  assert.equal(String(ada?.n), '9007199254740993');
  const up = await c.updateOne({ name: 'Alan' }, { $inc: { age: 1 }, $push: { tags: 'crypto' } } as any);
  assert.deepEqual([up.matchedCount, up.modifiedCount], [1, 1]);
  const upsert = await c.updateOne({ name: 'Barbara' }, { $set: { age: 30 } }, { upsert: true });
  assert.equal(upsert.upsertedCount, 1);
  assert.ok(upsert.upsertedId instanceof ObjectId);
  const rep = await c.replaceOne({ name: 'Barbara' }, { name: 'Barbara', age: 31 });
  assert.equal(rep.modifiedCount, 1);
  const um = await c.updateMany({ age: { $gte: 70 } }, { $set: { senior: true } });
  assert.equal(um.modifiedCount, 2);
  assert.equal(await c.countDocuments({ senior: true }), 2);
  assert.equal(await c.estimatedDocumentCount(), 5);
  assert.deepEqual((await c.distinct('name', { age: { $lt: 50 } })).sort(), ['Alan', 'Barbara']);
  const found = await c.find({ age: { $exists: true } }, { projection: { _id: 0, name: 1 }, sort: { age: -1 }, limit: 2 }).toArray();
  assert.deepEqual(found, [{ name: 'Grace' }, { name: 'Edsger' }]);
  const fam = await c.findOneAndUpdate({ name: 'Grace' }, { $set: { rank: 'admiral' } }, { returnDocument: 'after' });
  assert.equal(fam?.rank, 'admiral');
  assert.equal((await c.deleteOne({ name: 'Barbara' })).deletedCount, 1);
  assert.equal((await c.deleteMany({ senior: true })).deletedCount, 2);
  assert.equal(await c.countDocuments(), 2);
});

test('cursors: find and aggregate over several batches (getMore), an early close (killCursors)', async () => {
  const c = client.db().collection('many');
  await c.insertMany(Array.from({ length: 1000 }, (_, i) => ({ i, g: i % 7 })));
  const all = await c.find({}, { batchSize: 64, sort: { i: 1 } }).toArray();
  assert.equal(all.length, 1000);
  assert.deepEqual(all.slice(0, 3).map((d) => d.i), [0, 1, 2]);
  assert.equal(all[999].i, 999);
  const cursor = c.find({ g: 3 }).batchSize(10);
  let seen = 0;
  for await (const _ of cursor) if (++seen === 15) break; // leaves the cursor open: the driver kills it
  assert.equal(seen, 15);
  const groups = await c.aggregate([{ $match: { i: { $lt: 700 } } }, { $group: { _id: '$g', n: { $sum: 1 } } }, { $sort: { _id: 1 } }], { batchSize: 2 }).toArray();
  assert.deepEqual(groups.map((g) => g.n), [100, 100, 100, 100, 100, 100, 100]);
});

test('indexes: createIndex, listIndexes, unique violations as E11000, dropIndex, listCollections, drop', async () => {
  const c = client.db().collection('users');
  await c.insertOne({ email: 'a@x.io' });
  assert.equal(await c.createIndex({ email: 1 }, { unique: true }), 'email_1');
  await c.createIndex({ 'profile.city': 1, age: -1 });
  const names = (await c.indexes()).map((i) => i.name);
  assert.deepEqual(names, ['_id_', 'email_1', 'profile.city_1_age_-1']);
  await assert.rejects(c.insertOne({ email: 'a@x.io' }), (e: unknown) => e instanceof MongoServerError && e.code === 11000 && /E11000 duplicate key/.test(e.message));
  const bulk = await c.insertMany([{ email: 'b@x.io' }, { email: 'a@x.io' }, { email: 'c@x.io' }]).catch((e) => e);
  assert.equal(bulk.code, 11000);
  assert.equal(await c.countDocuments(), 2, 'ordered insertMany stops at the duplicate');
  await c.dropIndex('profile.city_1_age_-1');
  assert.equal((await c.indexes()).length, 2);
  const colls = (await client.db().listCollections().toArray()).map((x) => x.name);
  assert.ok(colls.includes('users') && colls.includes('people'));
  assert.equal(await c.drop(), true);
  assert.equal(await client.db().collection('never').drop(), false, 'NamespaceNotFound (26), which the driver turns into false');
});

test('bad input over the wire: clear MongoDB errors', async () => {
  const c = client.db().collection('people');
  await assert.rejects(c.find({ $where: 'true' }).toArray(), /\$where \(server-side JavaScript\) is not allowed/);
  await assert.rejects(c.find({ a: { $foo: 1 } }).toArray(), (e: any) => e.code === 2 && /unknown query operator: \$foo/.test(e.message));
  await assert.rejects(c.updateOne({}, { $set: { _id: 1 } }), (e: any) => e.code === 66);
  await assert.rejects(client.db().command({ frobnicate: 1 }), (e: any) => e.code === 59);
  await assert.rejects(c.insertOne({ big: 'x'.repeat(16 * 1024 * 1024) }), /over the 16 MB|too large|BSONObjectTooLarge|exceeds/i);
});

test('a rules-bound login sees and writes only what the collection rules give its user', async () => {
  await platform(`/projects/${a.ref}/documents/rules/notes`, { method: 'PUT', json: { read: { owner: '${auth.uid}' }, insert: { owner: '${auth.uid}' }, update: { owner: '${auth.uid}' }, delete: false } });
  const bound = await platform(`/projects/${a.ref}/documents/credentials`, { method: 'POST', json: { uid: 'user-1', claims: { plan: 'pro' } } });
  assert.equal(bound.role, 'authenticated');
  await client.db().collection('notes').insertMany([{ owner: 'user-1', text: 'mine' }, { owner: 'user-2', text: 'theirs' }]);
  const user = await connect(bound.uri);
  const notes = user.db().collection('notes');
  assert.deepEqual((await notes.find({}, { projection: { _id: 0 } }).toArray()), [{ owner: 'user-1', text: 'mine' }]);
  await notes.insertOne({ owner: 'user-1', text: 'second' });
  await assert.rejects(notes.insertOne({ owner: 'user-2', text: 'forged' }), (e: any) => e.code === 13);
  assert.equal((await notes.updateMany({}, { $set: { seen: true } })).modifiedCount, 2);
  await assert.rejects(notes.deleteOne({}), (e: any) => e.code === 13);
  await assert.rejects(notes.createIndex({ text: 1 }), (e: any) => e.code === 13);
  assert.equal(await client.db().collection('notes').countDocuments({ seen: true }), 2, 'user-2\'s note untouched');
});

test('bad credentials are refused; project A\'s login never reaches project B', async () => {
  const wrong = credA.uri.replace(encodeURIComponent(credA.password), 'not-the-password');
  await assert.rejects(connect(wrong), (e: any) => e.code === 18 || /Authentication failed/.test(e.message));
  const unknown = credA.uri.replace(encodeURIComponent(credA.username), `${b.ref}.000000000000`);
  await assert.rejects(connect(unknown), /Authentication failed/);
  const clientB = await connect(credB.uri);
  assert.deepEqual(await clientB.db().collection('people').find().toArray(), [], "B's login sees none of A's documents");
  await clientB.db().collection('people').insertOne({ name: 'only in B' });
  // whatever database name A's client names, it reaches A's documents only
  assert.equal(await client.db(b.ref).collection('people').countDocuments({ name: 'only in B' }), 0);
  const viaHttp = await service(b, 'find', { collection: 'people' });
  assert.deepEqual(viaHttp.body.documents.map((d: any) => d.name), ['only in B']);
  // an unauthenticated socket may only handshake
  const raw = new MongoClient(credA.uri.replace(/\/\/[^@]+@/, '//'), { serverSelectionTimeoutMS: 3000 });
  clients.push(raw);
  await assert.rejects(raw.db().collection('people').findOne({}), (e: any) => e.code === 13);
});
