// Query operators checked against the results MongoDB's documentation gives for its sample collections
// (https://www.mongodb.com/docs/manual/tutorial/query-documents/ and the operator reference pages).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { engineDb, ej, type EngineDb } from './db.js';

let db: EngineDb;
before(async () => {
  db = await engineDb('docs-engine-query');
  await db.docs.insert({ collection: 'inventory', documents: ej([
    { item: 'journal', qty: 25, size: { h: 14, w: 21, uom: 'cm' }, status: 'A', tags: ['blank', 'red'], dim_cm: [14, 21] },
    { item: 'notebook', qty: 50, size: { h: 8.5, w: 11, uom: 'in' }, status: 'A', tags: ['red', 'blank'], dim_cm: [14, 21] },
    { item: 'paper', qty: 100, size: { h: 8.5, w: 11, uom: 'in' }, status: 'D', tags: ['red', 'blank', 'plain'], dim_cm: [14, 21] },
    { item: 'planner', qty: 75, size: { h: 22.85, w: 30, uom: 'cm' }, status: 'D', tags: ['blank', 'red'], dim_cm: [22.85, 30] },
    { item: 'postcard', qty: 45, size: { h: 10, w: 15.25, uom: 'cm' }, status: 'A', tags: ['blue'], dim_cm: [10, 15.25] },
  ]) }, true);
  await db.docs.insert({ collection: 'nulls', documents: ej([{ _id: 1, item: null }, { _id: 2 }]) }, true);
  await db.docs.insert({ collection: 'survey', documents: ej([
    { _id: 1, results: [{ product: 'abc', score: 10 }, { product: 'xyz', score: 5 }] },
    { _id: 2, results: [{ product: 'abc', score: 8 }, { product: 'xyz', score: 7 }] },
    { _id: 3, results: [{ product: 'abc', score: 7 }, { product: 'xyz', score: 8 }] },
  ]) }, true);
  await db.docs.insert({ collection: 'scores', documents: ej([{ _id: 1, results: [82, 85, 88] }, { _id: 2, results: [75, 88, 89] }]) }, true);
});
after(() => db?.close());

const items = async (filter: unknown) => (await db.docs.find({ collection: 'inventory', filter: ej(filter), sort: { item: 1 } })).map((d) => d.item);
const ids = async (collection: string, filter: unknown) => (await db.docs.find({ collection, filter: ej(filter), sort: { _id: 1 } })).map((d) => d._id);

const INVENTORY: [string, unknown, string[]][] = [
  ['equality', { status: 'D' }, ['paper', 'planner']],
  ['$in', { status: { $in: ['A', 'D'] } }, ['journal', 'notebook', 'paper', 'planner', 'postcard']],
  ['AND with $lt', { status: 'A', qty: { $lt: 30 } }, ['journal']],
  ['$or', { $or: [{ status: 'A' }, { qty: { $lt: 30 } }] }, ['journal', 'notebook', 'postcard']],
  ['AND + $or + regex', { status: 'A', $or: [{ qty: { $lt: 30 } }, { item: { $regex: '^p' } }] }, ['journal', 'postcard']],
  ['embedded dotted equality', { 'size.uom': 'in' }, ['notebook', 'paper']],
  ['embedded dotted $lt', { 'size.h': { $lt: 15 } }, ['journal', 'notebook', 'paper', 'postcard']],
  ['embedded document equality', { size: { h: 14, w: 21, uom: 'cm' } }, ['journal']],
  ['embedded document equality needs the same field order', { size: { w: 21, h: 14, uom: 'cm' } }, []],
  ['$ne on an embedded document in another order', { size: { $ne: { uom: 'cm', h: 14, w: 21 } } }, ['journal', 'notebook', 'paper', 'planner', 'postcard']],
  ['exact array', { tags: ['red', 'blank'] }, ['notebook']],
  ['$all', { tags: { $all: ['red', 'blank'] } }, ['journal', 'notebook', 'paper', 'planner']],
  ['array contains', { tags: 'red' }, ['journal', 'notebook', 'paper', 'planner']],
  ['array element $gt', { dim_cm: { $gt: 25 } }, ['planner']],
  ['compound conditions on array elements', { dim_cm: { $gt: 15, $lt: 20 } }, ['journal', 'notebook', 'paper', 'postcard']],
  ['$elemMatch on scalars', { dim_cm: { $elemMatch: { $gt: 22, $lt: 30 } } }, ['planner']],
  ['array index path', { 'dim_cm.1': { $gt: 25 } }, ['planner']],
  ['$size', { tags: { $size: 3 } }, ['paper']],
  ['$nin', { qty: { $nin: [25, 50] } }, ['paper', 'planner', 'postcard']],
  ['$ne', { status: { $ne: 'A' } }, ['paper', 'planner']],
  ['$not regex', { item: { $not: { $regularExpression: { pattern: '^p', options: '' } } } }, ['journal', 'notebook']],
  ['$nor', { $nor: [{ status: 'A' }] }, ['paper', 'planner']],
  ['$regex with $options i', { item: { $regex: '^P', $options: 'i' } }, ['paper', 'planner', 'postcard']],
  ['$gte/$lte range', { qty: { $gte: 45, $lte: 75 } }, ['notebook', 'planner', 'postcard']],
  ['$type string', { item: { $type: 'string' } }, ['journal', 'notebook', 'paper', 'planner', 'postcard']],
  ['$type array', { tags: { $type: 'array' } }, ['journal', 'notebook', 'paper', 'planner', 'postcard']],
  ['$type number on an object is false', { size: { $type: 'number' } }, []],
  ['$exists false', { qty: { $exists: false } }, []],
  ['$and', { $and: [{ qty: { $gt: 40 } }, { status: 'A' }] }, ['notebook', 'postcard']],
  ['type brackets: $gt number ignores strings', { item: { $gt: 5 } }, []],
];

for (const [name, filter, expected] of INVENTORY) {
  test(`find inventory: ${name}`, async () => assert.deepEqual(await items(filter), expected));
}

const OTHER: [string, string, unknown, unknown[]][] = [
  ['null matches null and missing', 'nulls', { item: null }, [1, 2]],
  ['$exists false', 'nulls', { item: { $exists: false } }, [2]],
  ['$ne null', 'nulls', { item: { $ne: null } }, []],
  ['$type null', 'nulls', { item: { $type: 'null' } }, [1]],
  ['$elemMatch over objects', 'survey', { results: { $elemMatch: { product: 'xyz', score: { $gte: 8 } } } }, [3]],
  ['without $elemMatch conditions may hit different elements', 'survey', { 'results.product': 'xyz', 'results.score': { $gte: 8 } }, [1, 2, 3]],
  ['$elemMatch range on one element', 'scores', { results: { $elemMatch: { $gte: 80, $lt: 85 } } }, [1]],
];
for (const [name, coll, filter, expected] of OTHER) {
  test(`find ${coll}: ${name}`, async () => assert.deepEqual(await ids(coll, filter), expected));
}

test('unknown and JavaScript operators are errors naming them', async () => {
  await assert.rejects(items({ qty: { $foo: 1 } }), /unknown query operator: \$foo/);
  await assert.rejects(items({ $where: 'this.qty > 1' }), /\$where \(server-side JavaScript\) is not allowed/);
  await assert.rejects(items({ $expr: { $gt: ['$qty', 1] } }), /unknown query operator: \$expr/);
  await assert.rejects(items({ $or: [] }), /\$or must be a nonempty array/);
  await assert.rejects(db.docs.find({ collection: 'inventory', filter: { item: { $regex: 5 } } }), /\$regex has to be a string/);
});

test('projection, sort, skip and limit', async () => {
  const docs = await db.docs.find({ collection: 'inventory', filter: { status: 'A' }, projection: { item: 1, 'size.uom': 1, _id: 0 }, sort: { qty: -1 }, skip: 1, limit: 1 });
  assert.deepEqual(docs, [{ item: 'postcard', size: { uom: 'cm' } }]);
  const excl = await db.docs.find({ collection: 'inventory', filter: { item: 'journal' }, projection: { size: 0, tags: 0, dim_cm: 0, _id: 0 } });
  assert.deepEqual(excl, [{ item: 'journal', qty: 25, status: 'A' }]);
  await assert.rejects(db.docs.find({ collection: 'inventory', projection: { item: 1, qty: 0 } }), /Cannot do exclusion on field qty in inclusion projection/);
  await assert.rejects(db.docs.find({ collection: 'inventory', limit: 5000 }), /over the maximum page size of 1000/);
  assert.equal(await db.docs.count({ collection: 'inventory', filter: { status: 'A' } }), 3);
  assert.deepEqual(await db.docs.distinct({ collection: 'inventory', key: 'tags' }), ['blank', 'blue', 'plain', 'red']);
});

test('documents keep their field order', async () => {
  await db.docs.insert({ collection: 'order', document: { _id: 1, zeta: 1, a: 2, middle: { y: 1, b: 2 } } }, false);
  const [d] = await db.docs.find({ collection: 'order' });
  assert.deepEqual(Object.keys(d), ['_id', 'zeta', 'a', 'middle']);
  assert.deepEqual(Object.keys(d.middle as object), ['y', 'b']);
  assert.equal(await db.docs.count({ collection: 'order', filter: { middle: { y: 1, b: 2 } } }), 1);
  assert.equal(await db.docs.count({ collection: 'order', filter: { middle: { b: 2, y: 1 } } }), 0);
});
