// Writes against a model, through supabase-js: random sequences of insert (a 409 on any duplicate key, and then
// nothing of the batch is written), upsert (merging or ignoring duplicates), update and delete under a filter (NULLs
// match no comparison), each answered with the rows it wrote, compared with a map of id to row. After every step
// the table holds exactly what the map holds.
// 40 sequences a run; MODEL_RUNS=500 looks further.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { SupabaseClient } from '@supabase/supabase-js';
import { serviceProject } from './helpers.js';

let db: SupabaseClient;
before(async () => {
  ({ db } = await serviceProject('rest-writes-model', 'create table public.items (id int primary key, n int, s text)'));
});

type Row = { id: number; n: number | null; s: string | null };
type Model = Map<number, Row>;
type Filter = { op: 'eq' | 'gt' | 'lt'; n: number };
const matches = (r: Row, f: Filter) => r.n !== null && (f.op === 'eq' ? r.n === f.n : f.op === 'gt' ? r.n > f.n : r.n < f.n);
const byId = (rows: Row[]) => [...rows].sort((a, b) => a.id - b.id);
const where = (q: any, f: Filter) => q[f.op]('n', f.n);

class Insert implements fc.AsyncCommand<Model, object> {
  constructor(readonly rows: Row[]) {}
  check = () => true;
  async run(m: Model): Promise<void> {
    const { data, error } = await db.from('items').insert(this.rows).select();
    if (this.rows.some((r) => m.has(r.id))) {
      assert.equal(error?.code, '23505', `insert over an existing key: ${JSON.stringify(error)}`);
      return;
    }
    assert.equal(error, null, `insert: ${JSON.stringify(error)}`);
    assert.deepEqual(byId(data as Row[]), byId(this.rows));
    for (const r of this.rows) m.set(r.id, r);
  }
  toString = () => `insert(${JSON.stringify(this.rows)})`;
}

class Upsert implements fc.AsyncCommand<Model, object> {
  constructor(readonly rows: Row[], readonly ignoreDuplicates: boolean) {}
  check = () => true;
  async run(m: Model): Promise<void> {
    const { data, error } = await db.from('items').upsert(this.rows, { ignoreDuplicates: this.ignoreDuplicates }).select();
    assert.equal(error, null, `upsert: ${JSON.stringify(error)}`);
    // the rows written come back: all of them merging, only the new ones ignoring duplicates
    const written = this.ignoreDuplicates ? this.rows.filter((r) => !m.has(r.id)) : this.rows;
    assert.deepEqual(byId(data as Row[]), byId(written));
    for (const r of written) m.set(r.id, r);
  }
  toString = () => `upsert(${JSON.stringify(this.rows)}${this.ignoreDuplicates ? ', ignoring duplicates' : ''})`;
}

class Update implements fc.AsyncCommand<Model, object> {
  constructor(readonly filter: Filter, readonly s: string | null) {}
  check = () => true;
  async run(m: Model): Promise<void> {
    const { data, error } = await where(db.from('items').update({ s: this.s }), this.filter).select();
    assert.equal(error, null, `update: ${JSON.stringify(error)}`);
    const changed = [...m.values()].filter((r) => matches(r, this.filter)).map((r) => ({ ...r, s: this.s }));
    assert.deepEqual(byId(data as Row[]), byId(changed));
    for (const r of changed) m.set(r.id, r);
  }
  toString = () => `update(n ${this.filter.op} ${this.filter.n}, s = ${JSON.stringify(this.s)})`;
}

class Delete implements fc.AsyncCommand<Model, object> {
  constructor(readonly filter: Filter) {}
  check = () => true;
  async run(m: Model): Promise<void> {
    const { data, error } = await where(db.from('items').delete(), this.filter).select();
    assert.equal(error, null, `delete: ${JSON.stringify(error)}`);
    const gone = [...m.values()].filter((r) => matches(r, this.filter));
    assert.deepEqual(byId(data as Row[]), byId(gone));
    for (const r of gone) m.delete(r.id);
  }
  toString = () => `delete(n ${this.filter.op} ${this.filter.n})`;
}

class Check implements fc.AsyncCommand<Model, object> {
  check = () => true;
  async run(m: Model): Promise<void> {
    const { data, error } = await db.from('items').select().order('id');
    assert.equal(error, null);
    assert.deepEqual(data, byId([...m.values()]), 'the table holds what the model holds');
  }
  toString = () => 'check';
}

const row: fc.Arbitrary<Row> = fc.record({
  id: fc.integer({ min: 1, max: 8 }),
  n: fc.option(fc.integer({ min: 0, max: 4 }), { nil: null }),
  s: fc.option(fc.constantFrom('a', 'b', 'x,y', 'é', ''), { nil: null }),
}).map(({ id, n, s }) => ({ id, n, s }));
// ids unique within a batch: a batch that names a key twice is an error of its own (21000 or 23505)
const batch = fc.uniqueArray(row, { minLength: 1, maxLength: 4, selector: (r) => r.id });
const filter: fc.Arbitrary<Filter> = fc.record({ op: fc.constantFrom<'eq' | 'gt' | 'lt'>('eq', 'gt', 'lt'), n: fc.integer({ min: 0, max: 4 }) });
const commands = [
  batch.map((rows) => new Insert(rows)),
  fc.tuple(batch, fc.boolean()).map(([rows, ignore]) => new Upsert(rows, ignore)),
  fc.tuple(filter, fc.option(fc.constantFrom('u', 'v,w'), { nil: null })).map(([f, s]) => new Update(f, s)),
  filter.map((f) => new Delete(f)),
  fc.constant(new Check()),
];

test('inserts, upserts, updates and deletes leave the table as a map of id to row says', async () => {
  await fc.assert(
    fc.asyncProperty(fc.commands(commands, { maxCommands: 15 }), async (cmds) => {
      assert.equal((await db.from('items').delete().gte('id', 0)).error, null);
      await fc.asyncModelRun(() => ({ model: new Map(), real: {} }), [...cmds, new Check()]);
    }),
    { numRuns: Number(process.env.MODEL_RUNS ?? 40) },
  );
});
