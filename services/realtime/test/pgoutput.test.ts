// The pgoutput decoder on hand-built messages: a tuple's NULL ('n') and unchanged TOAST ('u') columns carry no
// length, so they must not shift the columns after them; old tuples of updates and deletes; frames.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFrame, parseMessage, standbyStatus, type Relation } from '../src/changes/pgoutput.js';

const u8 = (n: number) => Buffer.from([n]);
const i16 = (n: number) => { const b = Buffer.alloc(2); b.writeInt16BE(n); return b; };
const i32 = (n: number) => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b; };
const u64 = (n: bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(n); return b; };
const str = (s: string) => Buffer.concat([Buffer.from(s, 'utf8'), u8(0)]);
const tag = (c: string) => u8(c.charCodeAt(0));

type Col = string | null | 'unchanged';
/** TupleData: 'n' null, 'u' unchanged TOAST, 't' text with its length */
const tuple = (cols: Col[]) => Buffer.concat([i16(cols.length), ...cols.map((v) => {
  if (v === null) return tag('n');
  if (v === 'unchanged') return tag('u');
  const bytes = Buffer.from(v, 'utf8');
  return Buffer.concat([tag('t'), i32(bytes.length), bytes]);
})]);

const REL_ID = 16_384;
const COLUMNS = [
  { name: 'id', key: true, typeOid: 23 }, { name: 'body', key: false, typeOid: 25 }, { name: 'n', key: false, typeOid: 23 },
  { name: 'tags', key: false, typeOid: 1009 }, { name: 'meta', key: false, typeOid: 3802 }, { name: 'at', key: false, typeOid: 1184 },
  { name: 'visible', key: false, typeOid: 16 },
];
const relationMessage = Buffer.concat([
  tag('R'), i32(REL_ID), str('public'), str('items'), u8(0x64), i16(COLUMNS.length),
  ...COLUMNS.map((c) => Buffer.concat([u8(c.key ? 1 : 0), str(c.name), i32(c.typeOid), i32(-1)])),
]);

function relations(): Map<number, Relation> {
  const m = parseMessage(relationMessage, new Map());
  assert.equal(m.tag, 'relation');
  return new Map([[REL_ID, (m as { relation: Relation }).relation]]);
}

describe('pgoutput decoding', () => {
  it('decodes a relation: schema, table, columns with key flags and types', () => {
    const rel = relations().get(REL_ID)!;
    assert.deepEqual(rel, { id: REL_ID, schema: 'public', table: 'items', columns: COLUMNS });
  });

  it('keeps the columns after NULLs in place (an insert of a row with NULLs in the middle)', () => {
    const rels = relations();
    const body = Buffer.concat([tag('I'), i32(REL_ID), tag('N'), tuple(['2', 'two', '2', null, null, null, 't'])]);
    assert.deepEqual(parseMessage(body, rels), {
      tag: 'insert', relId: REL_ID, next: { id: '2', body: 'two', n: '2', tags: null, meta: null, at: null, visible: 't' },
    });
    // NULLs first and last, multi-byte text between
    const other = Buffer.concat([tag('I'), i32(REL_ID), tag('N'), tuple(['3', null, null, '{a,"b c"}', '{"k": "é"}', '2024-05-06 07:08:09+00', null])]);
    assert.deepEqual((parseMessage(other, rels) as { next: unknown }).next,
      { id: '3', body: null, n: null, tags: '{a,"b c"}', meta: '{"k": "é"}', at: '2024-05-06 07:08:09+00', visible: null });
  });

  it('leaves an unchanged TOASTed value out, without shifting the rest', () => {
    const rels = relations();
    const body = Buffer.concat([tag('U'), i32(REL_ID), tag('N'), tuple(['1', 'unchanged', '10', null, 'unchanged', null, 'f'])]);
    assert.deepEqual(parseMessage(body, rels), {
      tag: 'update', relId: REL_ID, prev: null, next: { id: '1', n: '10', tags: null, at: null, visible: 'f' },
    });
  });

  it('reads the old tuple of an update (key or whole row) and of a delete', () => {
    const rels = relations();
    const keyOnly = Buffer.concat([tag('U'), i32(REL_ID), tag('K'), tuple(['1', null, null, null, null, null, null]),
      tag('N'), tuple(['9', 'moved', null, null, null, null, 't'])]);
    assert.deepEqual(parseMessage(keyOnly, rels), {
      tag: 'update', relId: REL_ID,
      prev: { id: '1', body: null, n: null, tags: null, meta: null, at: null, visible: null },
      next: { id: '9', body: 'moved', n: null, tags: null, meta: null, at: null, visible: 't' },
    });
    const full = Buffer.concat([tag('U'), i32(REL_ID), tag('O'), tuple(['1', 'before', null, null, null, null, 't']),
      tag('N'), tuple(['1', 'after', null, null, null, null, 't'])]);
    const m = parseMessage(full, rels) as { prev: Record<string, unknown>; next: Record<string, unknown> };
    assert.deepEqual([m.prev.body, m.next.body], ['before', 'after']);
    const del = Buffer.concat([tag('D'), i32(REL_ID), tag('K'), tuple(['2', null, null, null, null, null, null])]);
    assert.deepEqual(parseMessage(del, rels), {
      tag: 'delete', relId: REL_ID, prev: { id: '2', body: null, n: null, tags: null, meta: null, at: null, visible: null },
    });
  });

  it('decodes begin and commit, skips other messages, refuses a row of an unknown relation', () => {
    const commitUs = 767_836_800_000_000n; // 2024-05-01T00:00:00Z in microseconds since 2000-01-01
    const begin = Buffer.concat([tag('B'), u64(0x100n), u64(commitUs), i32(7)]);
    assert.deepEqual(parseMessage(begin, new Map()), { tag: 'begin', commitMs: Date.UTC(2024, 4, 1) });
    const commit = Buffer.concat([tag('C'), u8(0), u64(0x100n), u64(0x180n), u64(commitUs)]);
    assert.deepEqual(parseMessage(commit, new Map()), { tag: 'commit', end: 0x180n });
    assert.deepEqual(parseMessage(Buffer.concat([tag('Y'), i32(1)]), new Map()), { tag: 'other' });
    assert.throws(() => parseMessage(Buffer.concat([tag('I'), i32(1), tag('N'), tuple(['1'])]), new Map()), /unknown relation 1/);
  });

  it('parses XLogData and keepalive frames and writes a standby status update', () => {
    const data = Buffer.concat([u8(0x77), u64(1n), u64(2n), u64(3n), Buffer.from('body')]);
    assert.deepEqual(parseFrame(data), { kind: 'data', end: 2n, body: Buffer.from('body') });
    const keepalive = Buffer.concat([u8(0x6b), u64(5n), u64(0n), u8(1)]);
    assert.deepEqual(parseFrame(keepalive), { kind: 'keepalive', end: 5n, replyNow: true });
    assert.equal(parseFrame(Buffer.from('x')), null);
    const status = standbyStatus(0x42n);
    assert.equal(status.length, 34);
    assert.equal(status[0], 0x72);
    assert.deepEqual([status.readBigUInt64BE(1), status.readBigUInt64BE(9), status.readBigUInt64BE(17)], [0x42n, 0x42n, 0x42n]);
  });
});
