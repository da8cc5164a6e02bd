// The pipeline's messages byte for byte as node-pg's own serializer (pg-protocol) writes them, for every kind of
// parameter node-pg accepts: what the server reads must not depend on which of the two wrote it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import pg from 'pg';
import { WireWriter } from './wire.js';

const { serialize } = createRequire(createRequire(import.meta.url).resolve('pg'))('pg-protocol') as {
  serialize: {
    parse: (q: { name?: string; text: string }) => Buffer;
    bind: (c: { statement?: string; values: unknown[]; valueMapper: unknown }) => Buffer;
    describe: (c: { type: string; name?: string }) => Buffer;
    execute: (c?: object) => Buffer;
    sync: () => Buffer;
  };
};
const valueMapper = (pg as unknown as { utils: { prepareValue: unknown } }).utils.prepareValue;

test('Parse, Bind, Describe, Execute and Sync are what node-pg would send', () => {
  const w = new WireWriter();
  const long = 'x'.repeat(70);
  const values: unknown[] = [
    'anon', '', null, undefined, 'ünïcödé', `${long}é`, long, '日本語', Buffer.from([0, 1, 2, 255]), new Uint8Array([7, 8]), 42, 4.5, 10n,
    true, new Date(Date.UTC(2024, 0, 2, 3, 4, 5)), [1, 'a', null], { a: [1, { b: 'c' }] }, 'x'.repeat(20_000),
  ];
  w.parse('rest_abc', 'select $1::text, /* é */ $2');
  w.bind('rest_abc', values);
  w.describePortal();
  w.execute();
  w.parse('', 'commit');
  w.bind('', []);
  w.execute();
  w.sync();
  const expected = Buffer.concat([
    serialize.parse({ name: 'rest_abc', text: 'select $1::text, /* é */ $2' }),
    serialize.bind({ statement: 'rest_abc', values, valueMapper }),
    serialize.describe({ type: 'P' }),
    serialize.execute({}),
    serialize.parse({ text: 'commit' }),
    serialize.bind({ values: [], valueMapper }),
    serialize.execute({}),
    serialize.sync(),
  ]);
  assert.deepEqual(w.take(), expected);
  // the scratch space is reused: the next take holds only what came after
  w.sync();
  assert.deepEqual(w.take(), serialize.sync());
});

test('a value that cannot be encoded throws; reset drops what was written of the message', () => {
  const w = new WireWriter();
  const circular: Record<string, unknown> = { toPostgres: () => circular };
  assert.throws(() => w.bind('s', ['fine', circular]));
  w.reset();
  w.sync();
  assert.deepEqual(w.take(), serialize.sync());
});
