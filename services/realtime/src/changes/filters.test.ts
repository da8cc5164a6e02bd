// The postgres_changes filter grammar and binding ids.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FilterError, MAX_BINDINGS, matches, parseBindings, parseFilter, replyBindings } from './filters.js';

describe('postgres_changes filters', () => {
  const row = { id: 5, name: 'bob', score: 2.5, tag: null, ok: true };
  const cases: [string, boolean][] = [
    ['id=eq.5', true], ['id=eq.6', false], ['id=neq.6', true], ['id=lt.6', true], ['id=lte.5', true], ['id=gt.5', false],
    ['id=gte.5', true], ['name=eq.bob', true], ['name=in.(al,bob)', true], ['name=in.("al","carl")', false], ['id=in.(4,5)', true],
    ['score=gt.2', true], ['ok=eq.true', true], ['tag=eq.null', true], ['id=not.eq.5', false], ['id=gt.1,name=eq.bob', true],
    ['id=gt.1,name=eq.al', false], ['', true],
  ];
  for (const [filter, expected] of cases) {
    it(`${filter || '(none)'} → ${expected}`, () => {
      const [b] = parseBindings([{ event: '*', schema: 'public', table: 't', filter }]);
      assert.equal(matches(b, 'INSERT', 'public', 't', row), expected);
    });
  }

  it('matches events, schemas and tables; * covers every table', () => {
    const [ins, all] = parseBindings([{ event: 'INSERT', schema: 'public', table: 't' }, { event: '*', schema: 'public' }]);
    assert.equal(matches(ins, 'UPDATE', 'public', 't', row), false);
    assert.equal(matches(ins, 'INSERT', 'other', 't', row), false);
    assert.equal(matches(all, 'DELETE', 'public', 'anything', row), true);
  });

  it('echoes bindings with stable ids, identical bindings sharing one', () => {
    const sent = [{ event: '*', schema: 'public', table: 't', filter: 'id=eq.1' }, { event: '*', schema: 'public', table: 't', filter: 'id=eq.1' }, { event: 'INSERT', schema: 'public' }];
    const reply = replyBindings(parseBindings(sent));
    assert.deepEqual(reply.map(({ id: _, ...rest }) => rest), sent);
    assert.equal(reply[0].id, reply[1].id);
    assert.notEqual(reply[0].id, reply[2].id);
    assert.ok(Number.isInteger(reply[0].id) && reply[0].id > 0);
  });

  it('refuses what it cannot parse', () => {
    for (const f of ['id', 'id=like.5', 'id=in.5']) assert.throws(() => parseFilter(f), FilterError, f);
    assert.throws(() => parseBindings([{ event: 'TRUNCATE', schema: 'public' }]), FilterError);
    assert.throws(() => parseBindings('x'), FilterError);
  });

  it('splits a filter in one pass, however many commas it has', () => {
    assert.deepEqual(parseFilter('a=in.(1,2),b=eq.x').map((c) => c.column), ['a', 'b']);
    const started = Date.now();
    assert.throws(() => parseFilter(','.repeat(200_000)), FilterError);
    assert.ok(Date.now() - started < 500, `took ${Date.now() - started} ms`);
  });
});

it('a join carries at most MAX_BINDINGS postgres_changes entries', () => {
  const entry = { event: '*', schema: 'public' };
  assert.equal(parseBindings(Array.from({ length: MAX_BINDINGS }, () => entry)).length, MAX_BINDINGS);
  assert.throws(() => parseBindings(Array.from({ length: MAX_BINDINGS + 1 }, () => entry)), FilterError);
});
