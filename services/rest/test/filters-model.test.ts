// Filters against a model of SQL's rules, through supabase-js: random rows with NULLs, and random conjunctions of
// eq, neq, gt, gte, lt, lte, in, is (null, true, false), like, ilike and their not. forms, compared with what the
// rows say under three-valued logic: a comparison with NULL is unknown, so the row is left out, and so is its
// negation (not.eq leaves a NULL out too), while is.null, not.is.null and not.is.true decide NULL themselves.
// String values carry PostgREST's reserved characters (, ( ) and spaces), which supabase-js quotes in in-lists,
// and conditions also come in or=(…) groups (any condition true: true; else any unknown: unknown), in PostgREST's
// own syntax with its double quotes.
// 200 cases a run; MODEL_RUNS=3000 looks further.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { SupabaseClient } from '@supabase/supabase-js';
import { serviceProject } from './helpers.js';

let db: SupabaseClient;
before(async () => {
  ({ db } = await serviceProject('rest-filters-model', 'create table public.items (id int primary key, n int, s text, b boolean)'));
});

type Row = { id: number; n: number | null; s: string | null; b: boolean | null };
type Column = 'n' | 's' | 'b';
type Op = 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'is' | 'like' | 'ilike';
type Cond = { column: Column; op: Op; value: unknown; not: boolean };
type Group = Cond | { or: Cond[] };

const NUMBERS = [-1, 0, 1, 2, 10];
const STRINGS = ['a', 'b', 'B', 'ab', 'a,b', 'x y', '(p)', 'é', ''];
const PATTERNS = ['a%', '%b', '%', 'a_', '_', '%,%', '% %', '(%'];

/** SQL's three values: true, false and null (unknown) */
type Truth = boolean | null;
const not = (t: Truth): Truth => (t === null ? null : !t);

/** LIKE (ILIKE with `fold`): % any run, _ any one character, nothing escaped here */
function like(s: string, pattern: string, fold: boolean): boolean {
  const re = pattern.split('').map((c) => (c === '%' ? '.*' : c === '_' ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${re}$`, fold ? 'si' : 's').test(s);
}

function truth(row: Row, { column, op, value }: Cond): Truth {
  const v = row[column];
  if (op === 'is') return value === null ? v === null : v === value;
  if (v === null) return null;
  switch (op) {
    case 'eq': return v === value;
    case 'neq': return v !== value;
    case 'gt': return (v as number | string) > (value as number | string);
    case 'gte': return (v as number | string) >= (value as number | string);
    case 'lt': return (v as number | string) < (value as number | string);
    case 'lte': return (v as number | string) <= (value as number | string);
    case 'in': return (value as unknown[]).includes(v);
    case 'like': return like(v as string, value as string, false);
    case 'ilike': return like(v as string, value as string, true);
  }
}

const leafTruth = (row: Row, c: Cond): Truth => (c.not ? not(truth(row, c)) : truth(row, c));
function groupTruth(row: Row, g: Group): Truth {
  if (!('or' in g)) return leafTruth(row, g);
  const each = g.or.map((c) => leafTruth(row, c));
  return each.includes(true) ? true : each.includes(null) ? null : false;
}
const kept = (row: Row, groups: Group[]) => groups.every((g) => groupTruth(row, g) === true);

const nullable = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null, freq: 3 });
const rowsArb = fc.array(fc.record({ n: nullable(fc.constantFrom(...NUMBERS)), s: nullable(fc.constantFrom(...STRINGS)), b: nullable(fc.boolean()) }), { maxLength: 10 });
const cmp = fc.constantFrom<Op>('eq', 'neq', 'gt', 'gte', 'lt', 'lte');
const condArb: fc.Arbitrary<Cond> = fc.tuple(
  fc.oneof(
    fc.tuple(fc.constant<Column>('n'), cmp, fc.constantFrom(...NUMBERS)),
    fc.tuple(fc.constant<Column>('s'), cmp, fc.constantFrom(...STRINGS)),
    fc.tuple(fc.constant<Column>('b'), fc.constantFrom<Op>('eq', 'neq'), fc.boolean()),
    fc.tuple(fc.constant<Column>('n'), fc.constant<Op>('in'), fc.uniqueArray(fc.constantFrom(...NUMBERS), { minLength: 1, maxLength: 3 })),
    // not '' in a list: supabase-js sends it unquoted, and PostgREST reads in.() as the empty list
    fc.tuple(fc.constant<Column>('s'), fc.constant<Op>('in'), fc.uniqueArray(fc.constantFrom(...STRINGS.filter(Boolean)), { minLength: 1, maxLength: 3 })),
    fc.tuple(fc.constantFrom<Column>('n', 's', 'b'), fc.constant<Op>('is'), fc.constant(null)),
    fc.tuple(fc.constant<Column>('b'), fc.constant<Op>('is'), fc.boolean()),
    fc.tuple(fc.constant<Column>('s'), fc.constantFrom<Op>('like', 'ilike'), fc.constantFrom(...PATTERNS)),
  ),
  fc.boolean(),
).map(([[column, op, value], negated]) => ({ column, op, value, not: negated }));

const groupArb: fc.Arbitrary<Group> = fc.oneof(
  { arbitrary: condArb, weight: 3 },
  fc.array(condArb, { minLength: 2, maxLength: 3 }).map((or) => ({ or })),
);

/** a value in PostgREST's logic-tree syntax: double-quoted when it holds a reserved character or is empty */
const quoted = (v: unknown) => (typeof v === 'string' && (v === '' || /[,.:()]/.test(v)) ? `"${v}"` : String(v));
const inText = (c: Cond) => `(${(c.value as unknown[]).map(quoted).join(',')})`;
const orText = (c: Cond) => `${c.column}.${c.not ? 'not.' : ''}${c.op}.${c.op === 'in' ? inText(c) : quoted(c.value)}`;

/** the group as supabase-js sends it: .in() quotes reserved characters, .not() and .or() take PostgREST's own text */
function applied(q: any, g: Group): any {
  if ('or' in g) return q.or(g.or.map(orText).join(','));
  const c = g;
  if (!c.not) return c.op === 'in' ? q.in(c.column, c.value) : c.op === 'is' ? q.is(c.column, c.value) : q[c.op](c.column, c.value);
  if (c.op === 'in') return q.not(c.column, 'in', inText(c));
  return q.not(c.column, c.op, c.value);
}

const showCond = (c: Cond) => `${c.not ? 'not.' : ''}${c.column} ${c.op} ${JSON.stringify(c.value)}`;
const show = (g: Group) => ('or' in g ? `(${g.or.map(showCond).join(' or ')})` : showCond(g));

test('REST filters keep exactly the rows a model of SQL three-valued logic keeps', async () => {
  await fc.assert(
    fc.asyncProperty(rowsArb, fc.array(fc.array(groupArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 }), async (rows, queries) => {
      const table: Row[] = rows.map((r, id) => ({ id, ...r }));
      assert.equal((await db.from('items').delete().gte('id', 0)).error, null);
      if (table.length) assert.equal((await db.from('items').insert(table)).error, null);
      for (const conds of queries) {
        const { data, error } = await conds.reduce(applied, db.from('items').select('id')).order('id');
        assert.equal(error, null, `${conds.map(show).join(' and ')}: ${JSON.stringify(error)}`);
        const expected = table.filter((r) => kept(r, conds)).map((r) => r.id);
        assert.deepEqual(data!.map((r: { id: number }) => r.id), expected, `${conds.map(show).join(' and ')} over ${JSON.stringify(table)}`);
      }
    }),
    { numRuns: Number(process.env.MODEL_RUNS ?? 200) },
  );
});
