// Aggregation stages with the sample data and results of MongoDB's $group, $unwind, $lookup, $facet and $count
// reference pages; createIndex as expression indexes the planner uses (EXPLAIN), unique and TTL indexes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Collection } from '../src/engine/collection.js';
import { sweepTtl } from '../src/engine/indexes.js';
import { Documents } from '../src/domain/documents.js';
import { serviceGuard } from '../src/domain/guard.js';
import { engineDb, ej, plain, type EngineDb } from './db.js';

let db: EngineDb;
before(async () => {
  db = await engineDb('docs-engine-agg');
  await db.docs.insert({ collection: 'sales', documents: ej([
    { _id: 1, item: 'abc', price: 10, quantity: 2, date: { $date: '2014-03-01T08:00:00Z' } },
    { _id: 2, item: 'jkl', price: 20, quantity: 1, date: { $date: '2014-03-01T09:00:00Z' } },
    { _id: 3, item: 'xyz', price: 5, quantity: 10, date: { $date: '2014-03-15T09:00:00Z' } },
    { _id: 4, item: 'xyz', price: 5, quantity: 20, date: { $date: '2014-04-04T11:21:39.736Z' } },
    { _id: 5, item: 'abc', price: 10, quantity: 10, date: { $date: '2014-04-04T21:23:13.331Z' } },
    { _id: 6, item: 'def', price: 7.5, quantity: 5, date: { $date: '2015-06-04T05:08:13Z' } },
    { _id: 7, item: 'def', price: 7.5, quantity: 10, date: { $date: '2015-09-10T08:43:00Z' } },
    { _id: 8, item: 'abc', price: 10, quantity: 5, date: { $date: '2016-02-06T20:20:13Z' } },
  ]) }, true);
  await db.docs.insert({ collection: 'orders', documents: [{ _id: 1, item: 'almonds', price: 12, quantity: 2 }, { _id: 2, item: 'pecans', price: 20, quantity: 1 }, { _id: 3 }] }, true);
  await db.docs.insert({ collection: 'inventory', documents: [
    { _id: 1, sku: 'almonds', description: 'product 1', instock: 120 }, { _id: 2, sku: 'bread', description: 'product 2', instock: 80 },
    { _id: 3, sku: 'cashews', description: 'product 3', instock: 60 }, { _id: 4, sku: 'pecans', description: 'product 4', instock: 70 },
    { _id: 5, sku: null, description: 'Incomplete' }, { _id: 6 },
  ] }, true);
  await db.docs.insert({ collection: 'clothing', documents: [{ _id: 1, item: 'ABC1', sizes: ['S', 'M', 'L'] }, { _id: 2, item: 'EFG', sizes: [] }, { _id: 3, item: 'IJK', sizes: 'M' }, { _id: 4, item: 'LMN' }] }, true);
});
after(() => db?.close());

const agg = async (collection: string, pipeline: unknown[]) => plain(await db.docs.aggregate({ collection, pipeline: ej(pipeline) }));
const byId = (docs: any[]) => docs.sort((a, b) => (String(a._id) < String(b._id) ? -1 : 1));

test('$group by item with $sum of a field (computed in SQL)', async () => {
  assert.deepEqual(byId(await agg('sales', [{ $group: { _id: '$item', totalQty: { $sum: '$quantity' } } }])),
    [{ _id: 'abc', totalQty: 17 }, { _id: 'def', totalQty: 15 }, { _id: 'jkl', totalQty: 1 }, { _id: 'xyz', totalQty: 30 }]);
});

test('$group with an expression, then $match on the result (JS)', async () => {
  assert.deepEqual(byId(await agg('sales', [
    { $group: { _id: '$item', totalSaleAmount: { $sum: { $multiply: ['$price', '$quantity'] } } } },
    { $match: { totalSaleAmount: { $gte: 100 } } },
  ])), [{ _id: 'abc', totalSaleAmount: 170 }, { _id: 'def', totalSaleAmount: 112.5 }, { _id: 'xyz', totalSaleAmount: 150 }]);
});

test('$group _id null: $count, $avg, $min, $max; $match + $sort first', async () => {
  assert.deepEqual(await agg('sales', [{ $group: { _id: null, count: { $count: {} }, avgQty: { $avg: '$quantity' }, minP: { $min: '$price' }, maxP: { $max: '$price' } } }]),
    [{ _id: null, count: 8, avgQty: 7.875, minP: 5, maxP: 20 }]);
  assert.deepEqual(await agg('sales', [{ $match: { item: 'abc' } }, { $sort: { date: -1 } }, { $group: { _id: '$item', firstQty: { $first: '$quantity' }, qtys: { $push: '$quantity' }, prices: { $addToSet: '$price' } } }]),
    [{ _id: 'abc', firstQty: 5, qtys: [5, 10, 2], prices: [10] }]);
});

test('$unwind past the scan bound is refused as it grows; nested fields and a nested array index come out whole', async () => {
  await db.docs.insert({ collection: 'unwound', documents: [{ _id: 1, meta: { tag: 'a', deep: { v: 1 } }, xs: Array.from({ length: 20 }, (_, i) => i) }] }, true);
  const small = new Documents(db.client, serviceGuard, { maxPage: 1000, maxScan: 10 });
  await assert.rejects(small.aggregate({ collection: 'unwound', pipeline: [{ $unwind: '$xs' }] }), /more than 10 documents/);
  const two = await agg('unwound', [{ $unwind: { path: '$xs', includeArrayIndex: 'at.i' } }, { $limit: 2 }, { $set: { 'meta.deep.v': '$xs' } }]);
  assert.deepEqual(two, [
    { _id: 1, meta: { tag: 'a', deep: { v: 0 } }, xs: 0, at: { i: 0 } },
    { _id: 1, meta: { tag: 'a', deep: { v: 1 } }, xs: 1, at: { i: 1 } },
  ]);
  const meta = await agg('unwound', [{ $unwind: '$meta.deep' }]);
  assert.deepEqual(meta.map((d: any) => d.meta), [{ tag: 'a', deep: { v: 1 } }]);
});

test('$unwind, with and without preserveNullAndEmptyArrays', async () => {
  assert.deepEqual((await agg('clothing', [{ $unwind: '$sizes' }])).map((d: any) => `${d._id}:${d.sizes}`), ['1:S', '1:M', '1:L', '3:M']);
  assert.deepEqual((await agg('clothing', [{ $unwind: { path: '$sizes', preserveNullAndEmptyArrays: true, includeArrayIndex: 'i' } }])).map((d: any) => `${d._id}:${d.sizes}:${d.i}`),
    ['1:S:0', '1:M:1', '1:L:2', '2:undefined:null', '3:M:null', '4:undefined:null']);
});

test('$lookup joins equal values, null matching null and missing', async () => {
  const out = await agg('orders', [{ $lookup: { from: 'inventory', localField: 'item', foreignField: 'sku', as: 'inventory_docs' } }, { $sort: { _id: 1 } }]);
  assert.deepEqual(out.map((o: any) => [o._id, o.inventory_docs.map((i: any) => i._id)]), [[1, [1]], [2, [4]], [3, [5, 6]]]);
});

test('$project, $addFields, $unset, $skip, $limit, $count, $facet', async () => {
  assert.deepEqual(await agg('sales', [{ $match: { _id: { $lte: 2 } } }, { $project: { item: 1, total: { $multiply: ['$price', '$quantity'] } } }, { $sort: { _id: 1 } }]),
    [{ _id: 1, item: 'abc', total: 20 }, { _id: 2, item: 'jkl', total: 20 }]);
  assert.deepEqual(await agg('sales', [{ $sort: { _id: 1 } }, { $skip: 6 }, { $addFields: { big: { $gt: ['$quantity', 6] } } }, { $unset: ['date', 'price'] }]),
    [{ _id: 7, item: 'def', quantity: 10, big: true }, { _id: 8, item: 'abc', quantity: 5, big: false }]);
  assert.deepEqual(await agg('sales', [{ $match: { price: { $lt: 10 } } }, { $count: 'cheap' }]), [{ cheap: 4 }]);
  assert.deepEqual(await agg('sales', [{ $facet: { n: [{ $count: 'n' }], top: [{ $sort: { quantity: -1 } }, { $limit: 1 }, { $project: { _id: 1 } }] } }]),
    [{ n: [{ n: 8 }], top: [{ _id: 4 }] }]);
});

test('unknown stages and operators are errors naming them', async () => {
  await assert.rejects(agg('sales', [{ $out: 'x' }]), /unknown pipeline stage operator: \$out/);
  await assert.rejects(agg('sales', [{ $group: { _id: null, x: { $stdDevPop: '$price' } } }]), /unknown group accumulator operator: \$stdDevPop/);
  await assert.rejects(agg('sales', [{ $project: { x: { $function: { body: 'x' } } } }]), /\$function \(server-side JavaScript\) is not allowed/);
  await assert.rejects(agg('sales', [{ $project: { x: { $sqrt: '$price' } } }]), /unknown expression operator: \$sqrt/);
});

const explain = async (collection: string, filter: unknown, sort?: unknown) => {
  const c = new Collection(db.client, collection);
  await c.load();
  const { SqlParams } = await import('@basalt/db');
  const { sortSql, parseSort } = await import('../src/engine/sort.js');
  const p = new SqlParams();
  await db.client.query('set enable_seqscan = off');
  try {
    const { rows } = await db.client.query(`explain select doc from ${c.table} where ${c.where(filter as any, p)}${sortSql(parseSort(sort))}`, p.values);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  } finally {
    await db.client.query('set enable_seqscan = on');
  }
};

test('createIndex: single, compound and unique indexes the planner uses; multikey paths stay correct', async () => {
  const docs = Array.from({ length: 300 }, (_, i) => ({ _id: i, email: `u${i}@x.io`, age: i % 50, city: ['a', 'b', 'c'][i % 3] }));
  await db.docs.insert({ collection: 'people', documents: docs }, true);
  await db.docs.createIndex({ collection: 'people', index: { key: { age: 1 } } });
  await db.docs.createIndex({ collection: 'people', index: { key: { city: 1, age: -1 }, name: 'city_age' } });
  await db.docs.createIndex({ collection: 'people', index: { key: { email: 1 }, unique: true } });
  assert.match(await explain('people', { age: 30 }), /Index (Only )?Scan using ix_|Bitmap Index Scan on ix_/);
  assert.match(await explain('people', { age: { $gte: 45 } }), /Index (Only )?Scan using ix_|Bitmap Index Scan on ix_/);
  assert.match(await explain('people', { city: 'b' }, { city: 1, age: -1 }), /Index Scan using ix_|Bitmap Index Scan on ix_/);
  assert.match(await explain('people', { email: { $in: ['u1@x.io', 'u2@x.io'] } }), /Index (Only )?Scan using ix_|Bitmap Index Scan on ix_/);
  assert.equal(await db.docs.count({ collection: 'people', filter: { age: 30 } }), 6);
  await assert.rejects(db.docs.insert({ collection: 'people', document: { email: 'u1@x.io' } }, false), (e: any) => e.details.code === 11000 && /dup key/.test(e.message));
  // an array under an indexed path turns the index multikey: element matches are still found
  await db.docs.insert({ collection: 'people', document: { _id: 'arr', age: [30, 31], email: 'arr@x.io' } }, false);
  assert.equal(await db.docs.count({ collection: 'people', filter: { age: 30 } }), 7);
  const list = await db.docs.listIndexes({ collection: 'people' });
  assert.deepEqual(list.map((i) => i.name), ['_id_', 'age_1', 'city_age', 'email_1']);
  await assert.rejects(db.docs.createIndex({ collection: 'people', index: { key: { bio: 'text' } } }), /index type "text" on "bio" is not supported/);
});

test('TTL index: the sweeper deletes documents past expireAfterSeconds', async () => {
  await db.docs.insert({ collection: 'sessions', documents: [{ _id: 'old', at: new Date(Date.now() - 3_600_000) }, { _id: 'new', at: new Date() }, { _id: 'nodate', at: 'x' }] }, true);
  await db.docs.createIndex({ collection: 'sessions', index: { key: { at: 1 }, expireAfterSeconds: 60 } });
  assert.equal(await sweepTtl(db.client), 1);
  assert.deepEqual((await db.docs.find({ collection: 'sessions', sort: { _id: 1 } })).map((d) => d._id), ['new', 'nodate']);
});
