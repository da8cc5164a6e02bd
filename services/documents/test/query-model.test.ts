// Query operators against a model of MongoDB's matching rules, on random documents: fields that are missing, null,
// numbers (integers and doubles), strings, booleans or arrays of those, and filters of $eq, $ne, $gt, $gte, $lt,
// $lte, $in, $nin and $exists on them, alone or under $and, $or and $nor. The rules the model keeps
// (https://www.mongodb.com/docs/manual/reference/operator/query/): a condition on an array field holds when it
// holds for any element; comparisons only match values of the query value's own type (type bracketing: 1 is not
// $lt 'a', true is not $gt 0); null equals null and a missing field; $ne and $nin are the negations of $eq and $in,
// so they match a missing field and an array without the value; $exists holds for a present null. (Sorting by such
// fields is not modelled: across types the database's JSONB order holds, as the README says.)
// 300 cases a run; MODEL_RUNS=5000 looks further.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { engineDb, ej, type EngineDb } from './db.js';

let db: EngineDb;
before(async () => {
  db = await engineDb('docs-query-model');
});
after(() => db?.close());

type Scalar = null | number | string | boolean;
type Value = Scalar | Scalar[];
type Doc = { a?: Value; b?: Value };
type Op = '$eq' | '$ne' | '$gt' | '$gte' | '$lt' | '$lte' | '$in' | '$nin' | '$exists';
type Leaf = { field: 'a' | 'b'; op: Op; q: unknown };
type Filter = { leaf: Leaf } | { join: '$and' | '$or' | '$nor'; of: Leaf[] };

const kind = (x: Scalar) => (x === null ? 'null' : typeof x);

/** a scalar's equality with a query scalar: numbers by value (1 and 1.0 alike), everything else by type and value */
const same = (x: Scalar, q: Scalar) => x === q;

function eqField(doc: Doc, field: 'a' | 'b', q: Scalar): boolean {
  if (!(field in doc)) return q === null;
  const v = doc[field]!;
  return Array.isArray(v) ? v.some((e) => same(e, q)) : same(v, q);
}

function compare(x: Scalar, q: Scalar, op: Op): boolean {
  if (kind(x) !== kind(q) || x === null || q === null) return false;
  const [l, r] = [x as number | string | boolean, q as number | string | boolean];
  return op === '$gt' ? l > r : op === '$gte' ? l >= r : op === '$lt' ? l < r : l <= r;
}

function leafHolds(doc: Doc, { field, op, q }: Leaf): boolean {
  switch (op) {
    case '$eq': return eqField(doc, field, q as Scalar);
    case '$ne': return !eqField(doc, field, q as Scalar);
    case '$in': return (q as Scalar[]).some((x) => eqField(doc, field, x));
    case '$nin': return !(q as Scalar[]).some((x) => eqField(doc, field, x));
    case '$exists': return (field in doc) === q;
    default: {
      if (!(field in doc)) return false;
      const v = doc[field]!;
      return (Array.isArray(v) ? v : [v]).some((e) => compare(e, q as Scalar, op));
    }
  }
}

function holds(doc: Doc, f: Filter): boolean {
  if ('leaf' in f) return leafHolds(doc, f.leaf);
  const each = f.of.map((leaf) => leafHolds(doc, leaf));
  return f.join === '$and' ? each.every(Boolean) : f.join === '$or' ? each.some(Boolean) : !each.some(Boolean);
}

const asMongo = (f: Filter): unknown => {
  const leaf = ({ field, op, q }: Leaf) => ({ [field]: { [op]: q } });
  return 'leaf' in f ? leaf(f.leaf) : { [f.join]: f.of.map(leaf) };
};

const queryScalar = fc.constantFrom<Scalar>(-1, 0, 1, 2.5, 'a', 'b', '', true, false);
const scalar = fc.oneof(queryScalar, fc.constant(null));
const value: fc.Arbitrary<Value> = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }));
const doc: fc.Arbitrary<Doc> = fc.record({ a: value, b: value }, { requiredKeys: [] });
const leafArb: fc.Arbitrary<Leaf> = fc.tuple(
  fc.constantFrom<'a' | 'b'>('a', 'b'),
  fc.oneof(
    fc.tuple(fc.constantFrom<Op>('$eq', '$ne'), scalar),
    fc.tuple(fc.constantFrom<Op>('$gt', '$gte', '$lt', '$lte'), queryScalar),
    fc.tuple(fc.constantFrom<Op>('$in', '$nin'), fc.array(scalar, { minLength: 1, maxLength: 3 })),
    fc.tuple(fc.constant<Op>('$exists'), fc.boolean()),
  ),
).map(([field, [op, q]]) => ({ field, op, q }));
const filterArb: fc.Arbitrary<Filter> = fc.oneof(
  leafArb.map((leaf) => ({ leaf })),
  fc.tuple(fc.constantFrom<'$and' | '$or' | '$nor'>('$and', '$or', '$nor'), fc.array(leafArb, { minLength: 1, maxLength: 3 })).map(([join, of]) => ({ join, of })),
);

let collections = 0;

test('find returns exactly the documents a model of MongoDB matching says match', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(doc, { minLength: 1, maxLength: 8 }), fc.array(filterArb, { minLength: 1, maxLength: 4 }), async (docs, filters) => {
      const collection = `q${++collections}`;
      await db.docs.insert({ collection, documents: ej(docs.map((d, _id) => ({ _id, ...d }))) }, true);
      for (const f of filters) {
        const found = (await db.docs.find({ collection, filter: ej(asMongo(f)), sort: { _id: 1 } })).map((d) => d._id as number);
        const expected = docs.flatMap((d, i) => (holds(d, f) ? [i] : []));
        assert.deepEqual(found, expected, `${JSON.stringify(asMongo(f))} over ${JSON.stringify(docs)}`);
      }
    }),
    { numRuns: Number(process.env.MODEL_RUNS ?? 300) },
  );
});
