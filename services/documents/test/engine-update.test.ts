// Update operators and upserts, with the before/after documents of MongoDB's operator reference pages; EJSON
// types (ObjectId, Date, Decimal128, Int64, Binary) survive a round trip.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Binary, Decimal128, Long, ObjectId } from 'bson';
import { engineDb, ej, plain, type EngineDb } from './db.js';

let db: EngineDb;
before(async () => {
  db = await engineDb('docs-engine-update');
});
after(() => db?.close());

let n = 0;
const CASES: [string, unknown, unknown, unknown][] = [
  ['$inc', { sku: 'abc123', quantity: 10, metrics: { orders: 2, ratings: 3.5 } }, { $inc: { quantity: -2, 'metrics.orders': 1 } }, { sku: 'abc123', quantity: 8, metrics: { orders: 3, ratings: 3.5 } }],
  ['$set nested and new', { a: 1 }, { $set: { 'b.c': 2, a: 5 } }, { a: 5, b: { c: 2 } }],
  ['$unset', { item: 'x', quantity: 1, instock: true }, { $unset: { quantity: '', instock: '' } }, { item: 'x' }],
  ['$mul', { item: 'Hats', price: 10.99, quantity: 25 }, { $mul: { price: 1.25, quantity: 2 } }, { item: 'Hats', price: 13.7375, quantity: 50 }],
  ['$mul on a missing field sets 0', { a: 1 }, { $mul: { b: 5 } }, { a: 1, b: 0 }],
  ['$min lowers', { highScore: 800, lowScore: 200 }, { $min: { lowScore: 150 } }, { highScore: 800, lowScore: 150 }],
  ['$min keeps', { highScore: 800, lowScore: 200 }, { $min: { lowScore: 250 } }, { highScore: 800, lowScore: 200 }],
  ['$max raises', { highScore: 800, lowScore: 200 }, { $max: { highScore: 950 } }, { highScore: 950, lowScore: 200 }],
  ['$rename', { nmae: 'abc', other: 1 }, { $rename: { nmae: 'name' } }, { other: 1, name: 'abc' }],
  ['$push', { scores: [44, 78] }, { $push: { scores: 89 } }, { scores: [44, 78, 89] }],
  ['$push $each $sort $slice', { quizzes: [{ wk: 1, score: 10 }, { wk: 2, score: 8 }, { wk: 3, score: 5 }, { wk: 4, score: 6 }] },
    { $push: { quizzes: { $each: [{ wk: 5, score: 8 }, { wk: 6, score: 7 }, { wk: 7, score: 6 }], $sort: { score: -1 }, $slice: 3 } } },
    { quizzes: [{ wk: 1, score: 10 }, { wk: 2, score: 8 }, { wk: 5, score: 8 }] }],
  ['$push $each $slice negative', { scores: [40, 50, 60] }, { $push: { scores: { $each: [80, 78, 86], $slice: -5 } } }, { scores: [50, 60, 80, 78, 86] }],
  ['$pull $in and value', { fruits: ['apples', 'pears', 'oranges', 'grapes', 'bananas'], vegetables: ['carrots', 'celery', 'squash', 'carrots'] },
    { $pull: { fruits: { $in: ['apples', 'oranges'] }, vegetables: 'carrots' } }, { fruits: ['pears', 'grapes', 'bananas'], vegetables: ['celery', 'squash'] }],
  ['$pull condition', { votes: [3, 5, 6, 7, 7, 8] }, { $pull: { votes: { $gte: 6 } } }, { votes: [3, 5] }],
  ['$pull documents by field', { results: [{ item: 'A', score: 5 }, { item: 'B', score: 8 }] }, { $pull: { results: { score: 8, item: 'B' } } }, { results: [{ item: 'A', score: 5 }] }],
  ['$addToSet new', { letters: ['a', 'b'] }, { $addToSet: { letters: 'c' } }, { letters: ['a', 'b', 'c'] }],
  ['$addToSet existing', { letters: ['a', 'b'] }, { $addToSet: { letters: 'a' } }, { letters: ['a', 'b'] }],
  ['$addToSet array as element', { letters: ['a', 'b'] }, { $addToSet: { letters: ['c', 'd'] } }, { letters: ['a', 'b', ['c', 'd']] }],
  ['$addToSet $each', { tags: ['electronics', 'supplies'] }, { $addToSet: { tags: { $each: ['camera', 'electronics', 'accessories'] } } }, { tags: ['electronics', 'supplies', 'camera', 'accessories'] }],
  ['$pop first', { scores: [8, 9, 10] }, { $pop: { scores: -1 } }, { scores: [9, 10] }],
  ['$pop last', { scores: [9, 10] }, { $pop: { scores: 1 } }, { scores: [9] }],
];

for (const [name, doc, update, expected] of CASES) {
  test(`update: ${name}`, async () => {
    const _id = ++n;
    await db.docs.insert({ collection: 'upd', document: ej({ _id, ...(doc as object) }) }, false);
    const r = await db.docs.update({ collection: 'upd', filter: { _id }, update: ej(update) }, 'one');
    assert.equal(r.matched, 1);
    const [after] = await db.docs.find({ collection: 'upd', filter: { _id } });
    assert.deepEqual(plain(after), { _id, ...(expected as object) });
    assert.equal(r.modified, JSON.stringify(doc) === JSON.stringify(expected) ? 0 : 1);
  });
}

test('$currentDate sets a Date', async () => {
  await db.docs.insert({ collection: 'upd', document: { _id: 'cd', status: 'a' } }, false);
  await db.docs.update({ collection: 'upd', filter: { _id: 'cd' }, update: { $currentDate: { lastModified: true } } }, 'one');
  const [d] = await db.docs.find({ collection: 'upd', filter: { _id: 'cd' } });
  assert.ok(d.lastModified instanceof Date && Math.abs(d.lastModified.getTime() - Date.now()) < 60_000);
});

test('upsert inserts the filter equalities plus the update; updateMany counts', async () => {
  const r = await db.docs.update({ collection: 'ups', filter: { item: 'x', qty: { $gt: 3 } }, update: { $set: { color: 'red' }, $setOnInsert: { created: true } }, upsert: true }, 'one');
  assert.equal(r.matched, 0);
  assert.ok(r.upsertedId instanceof ObjectId);
  const [d] = await db.docs.find({ collection: 'ups', filter: { _id: r.upsertedId } });
  assert.deepEqual({ ...d, _id: 0 }, { _id: 0, item: 'x', color: 'red', created: true });
  await db.docs.insert({ collection: 'ups', documents: [{ item: 'y', n: 1 }, { item: 'y', n: 2 }, { item: 'y', n: 2 }] }, true);
  const many = await db.docs.update({ collection: 'ups', filter: { item: 'y' }, update: { $set: { n: 2 } } }, 'many');
  assert.deepEqual(many, { matched: 3, modified: 1 });
  const rep = await db.docs.update({ collection: 'ups', filter: { item: 'x' }, replacement: { item: 'x2' } }, 'replace');
  assert.deepEqual(rep, { matched: 1, modified: 1 });
  assert.equal(await db.docs.count({ collection: 'ups', filter: { item: 'x2', color: { $exists: false } } }), 1);
  assert.equal(await db.docs.delete({ collection: 'ups', filter: { item: 'y' } }, false), 1);
  assert.equal(await db.docs.delete({ collection: 'ups', filter: { item: 'y' } }, true), 2);
});

test('bad updates are errors and change nothing', async () => {
  await db.docs.insert({ collection: 'bad', document: { _id: 1, a: 'text', arr: [1] } }, false);
  const cases: [unknown, RegExp][] = [
    [{ $inc: { a: 1 } }, /Cannot apply \$inc to a value of non-numeric type/],
    [{ $set: { _id: 2 } }, /immutable field '_id'/],
    [{ $set: { a: 1 }, $unset: { a: '' } }, /would create a conflict/],
    [{ $bogus: { a: 1 } }, /unknown update operator: \$bogus/],
    [{ a: 1 }, /Update document requires atomic operators/],
    [[{ $set: { a: 1 } }], /aggregation pipeline as an update is not supported/],
    [{ $push: { a: 1 } }, /must be an array/],
  ];
  for (const [update, re] of cases) await assert.rejects(db.docs.update({ collection: 'bad', filter: { _id: 1 }, update }, 'one'), re);
  const [d] = await db.docs.find({ collection: 'bad', filter: { _id: 1 } });
  assert.deepEqual(d, { _id: 1, a: 'text', arr: [1] });
});

test('EJSON types round-trip and compare: ObjectId, Date, Decimal128, Int64, Binary', async () => {
  const oid = new ObjectId();
  const doc = {
    _id: oid, when: new Date('2024-05-01T10:00:00Z'), price: Decimal128.fromString('19.99'), big: Long.fromString('9007199254740993'),
    blob: new Binary(Buffer.from('hello'), 0), nested: { l: Long.fromNumber(7) },
  };
  await db.docs.insert({ collection: 'types', documents: [doc, { _id: new ObjectId(), when: new Date('2023-01-01T00:00:00Z'), price: Decimal128.fromString('5.5'), big: Long.fromNumber(1) }] }, true);
  const [back] = await db.docs.find({ collection: 'types', filter: { _id: oid } });
  assert.ok(back._id instanceof ObjectId && back._id.equals(oid));
  assert.equal((back.when as Date).toISOString(), '2024-05-01T10:00:00.000Z');
  assert.ok(back.price instanceof Decimal128 && back.price.toString() === '19.99');
  assert.ok(back.big instanceof Long && back.big.toString() === '9007199254740993');
  assert.ok(back.blob instanceof Binary && Buffer.from(back.blob.buffer).toString() === 'hello');
  assert.ok((back.nested as any).l instanceof Long);
  const later = await db.docs.find({ collection: 'types', filter: { when: { $gt: new Date('2024-01-01') } } });
  assert.deepEqual(later.map((d) => String(d._id)), [String(oid)]);
  assert.equal((await db.docs.find({ collection: 'types', filter: { price: { $gt: 10 } } })).length, 1);
  assert.equal((await db.docs.find({ collection: 'types', filter: { big: { $gt: Long.fromNumber(2) } } })).length, 1);
  assert.equal((await db.docs.find({ collection: 'types', filter: { when: { $type: 'date' }, _id: { $type: 'objectId' } } })).length, 2);
  // $type tells numeric types apart (https://www.mongodb.com/docs/manual/reference/operator/query/type/)
  await db.docs.insert({ collection: 'numtypes', documents: [{ _id: 'i', v: 5 }, { _id: 'd', v: 1.5 }, { _id: 'l', v: Long.fromNumber(5) }, { _id: 'm', v: Decimal128.fromString('5') }, { _id: 's', v: '5' }] }, true);
  const ofType = async (t: unknown) => (await db.docs.find({ collection: 'numtypes', filter: { v: { $type: t } }, sort: { _id: 1 } })).map((d) => d._id);
  assert.deepEqual(await ofType('int'), ['i']);
  assert.deepEqual(await ofType('double'), ['d']);
  assert.deepEqual(await ofType('long'), ['l']);
  assert.deepEqual(await ofType(19), ['m']);
  assert.deepEqual(await ofType('number'), ['d', 'i', 'l', 'm']);
  assert.deepEqual(await ofType(['string', 'double']), ['d', 's']);
  assert.deepEqual((await db.docs.aggregate({ collection: 'numtypes', pipeline: [{ $group: { _id: null, v: { $push: '$v' } } }, { $unwind: '$v' }, { $match: { v: { $type: 'long' } } }] })).length, 1);
  await db.docs.update({ collection: 'types', filter: { _id: oid }, update: { $inc: { big: Long.fromNumber(1) } } }, 'one');
  const [inc] = await db.docs.find({ collection: 'types', filter: { _id: oid } });
  assert.equal(String(inc.big), '9007199254740994');
});
