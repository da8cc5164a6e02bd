// The find path's shortcuts give exactly what the general path gives: stored rows rendered as relaxed EJSON
// text without building BSON values, request bodies that need no EJSON reading, named prepared statements.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Binary, Decimal128, EJSON, Long, ObjectId } from 'bson';
import { parseEjson } from '../src/routes/ejson.js';
import { loadDoc, relaxedJson, type StoredRow } from '../src/engine/values.js';
import { MAX_PREPARED_PER_CONNECTION } from '@basalt/db';
import { preparedName, runPrepared } from '../src/engine/statements.js';
import { engineDb, ej, type EngineDb } from './db.js';

let db: EngineDb;
before(async () => {
  db = await engineDb('docs-fast-paths');
});
after(() => db?.close());

const DOCS: Record<string, unknown>[] = [
  { _id: new ObjectId(), sku: 'sku-1', price: 42, tags: ['a', 'b'] },
  { _id: 1, b: 1.5, a: -0, big: 1e21, tiny: 1e-7, neg: Number('-12345678901234567890'), s: 'é "q" \\ \n', t: true, n: null },
  { _id: 'x', nested: { z: 1, y: { x: [1, { w: 2, v: 3 }], u: 'u' } }, arr: [[1, 2], [], {}], empty: {} },
  { _id: 2, at: new Date('2024-01-01T00:00:00Z'), ms: new Date('2024-01-01T00:00:00.123Z'), old: new Date(-5), far: new Date(253402300800000), dates: [new Date(0), { d: new Date(1) }] },
  { _id: 3, l: Long.fromString('9007199254740993') },
  { _id: 4, d: Decimal128.fromString('1.10') },
  { _id: 5, bin: new Binary(Buffer.from('hi')), inf: Infinity, nan: NaN },
  { _id: 6, oids: [new ObjectId(), { o: new ObjectId() }], '10': 'ten', '2': 'two', k: 'v' },
  { _id: 7, longer_key: 1, k: 2, kk: { bbb: 1, a: 2 } },
  // a date out of ISO range met before a value only the long way renders: nothing half-rewritten
  { _id: 8, ol: new Date(-5), at: [new Date(7)], bin: new Binary(Buffer.from('x')) },
  { _id: 9, nested: [{ when: new Date(Date.UTC(2030, 0, 2, 3, 4, 5, 6)), where: { lat: 1.25 } }], order: { z: new Date(1e12), a: 1 } },
];

test('stored rows render as relaxed EJSON exactly as the BSON values would', async () => {
  await db.docs.insert({ collection: 'shapes', documents: DOCS.map((d) => ({ ...d })) }, true);
  const { rows } = await db.client.query<StoredRow>('select doc, types from documents.shapes order by id');
  assert.equal(rows.length, DOCS.length);
  for (const r of rows) {
    const expected = EJSON.stringify(loadDoc(structuredClone(r)), { relaxed: true });
    assert.equal(relaxedJson(structuredClone(r)), expected);
  }
  // and through Documents: find's text answer is the relaxed rendering of find's documents
  const texts = await db.docs.findRelaxed({ collection: 'shapes', sort: { _id: 1 } });
  const docs = await db.docs.find({ collection: 'shapes', sort: { _id: 1 } });
  assert.deepEqual(texts, docs.map((d) => EJSON.stringify(d, { relaxed: true })));
  const projected = await db.docs.findRelaxed({ collection: 'shapes', filter: { _id: 1 }, projection: { b: 1 } });
  assert.deepEqual(projected, ['{"_id":1,"b":1.5}']);
});

test('bodies without numbers or $ fields are taken as they are; others are read as canonical EJSON', () => {
  const bodies: Record<string, unknown>[] = [
    { collection: 'c', filter: { sku: 'sku-4242' } },
    { collection: 'c', filter: { a: [true, null, 'x', { b: 'y' }] } },
    { collection: 'c', filter: { n: 5 } },
    { collection: 'c', filter: { at: { $date: '2024-01-01T00:00:00Z' } } },
    { collection: 'c', filter: { n: { $gt: 1.5 } } },
    { collection: 'c', filter: JSON.parse('{"__proto__": {"x": "y"}}') },
  ];
  for (const b of bodies) {
    const expected = EJSON.deserialize(JSON.parse(JSON.stringify(b)), { relaxed: false });
    assert.deepEqual(parseEjson(JSON.parse(JSON.stringify(b))), expected);
  }
  assert.throws(() => parseEjson(JSON.parse('{"collection": "c", "filter": {"a\\u0000b": "x"}}')), /null bytes/);
  // nesting: an object or array deeper than 105 levels is refused, plain or not
  const nest = (n: number, leaf: unknown) => {
    let v = leaf;
    for (let i = 0; i < n; i++) v = i % 2 ? [v] : { a: v };
    return v;
  };
  for (const leaf of ['x', 1]) {
    assert.doesNotThrow(() => parseEjson({ collection: 'c', filter: nest(105, leaf) }));
    assert.throws(() => parseEjson({ collection: 'c', filter: nest(106, leaf) }), /nests deeper than 100/);
  }
});

test('reads run as named statements, one per statement text, at most MAX_PREPARED_PER_CONNECTION per connection', async () => {
  const a = preparedName(db.client, 'select 1 as x');
  assert.ok(a && a === preparedName(db.client, 'select 1 as x'));
  assert.notEqual(preparedName(db.client, 'select 2 as x'), a);
  for (let i = 0; i < MAX_PREPARED_PER_CONNECTION; i++) preparedName(db.client, `select ${i + 3}`);
  assert.equal(preparedName(db.client, 'select -1'), undefined);
  assert.equal(preparedName(db.client, 'select 1 as x'), a);
  // run: named, unnamed past the limit, and errors as errors
  assert.deepEqual((await runPrepared(db.client, 'select 1 as x', [])).rows, [{ x: 1 }]);
  assert.deepEqual((await runPrepared(db.client, 'select 1 as x', [])).rows, [{ x: 1 }]);
  assert.deepEqual((await runPrepared(db.client, 'select $1::int as y', [7])).rows, [{ y: 7 }]);
  await assert.rejects(runPrepared(db.client, 'select * from documents.nothing_here', []), { code: '42P01' });
  assert.deepEqual((await runPrepared(db.client, 'select 2 as x', [])).rows, [{ x: 2 }]);
  // the same filter shape is the same statement, $elemMatch included
  await db.docs.insert({ collection: 'survey', documents: ej([{ _id: 1, results: [{ product: 'abc', score: 10 }] }, { _id: 2, results: [{ product: 'xyz', score: 5 }] }]) }, true);
  const q = (product: string) => db.docs.find({ collection: 'survey', filter: { results: { $elemMatch: { product, score: { $gte: 1 } } }, $or: [{ results: { $elemMatch: { score: { $gte: 0 } } } }] } });
  assert.deepEqual((await q('abc')).map((d) => d._id), [1]);
  assert.deepEqual((await q('xyz')).map((d) => d._id), [2]);
});
