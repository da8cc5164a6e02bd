// `gen types typescript` fills CompositeTypes from the project's CREATE TYPE … AS (…) types, as Supabase's
// postgres-meta does (every attribute `| null`), and columns, arrays and function results of those types point
// into Database[schema]["CompositeTypes"]. The output must type-check and type a composite value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { createProject, platform } from '@basalt/testkit';

const p = await createProject('typegen-composite'); // testkit deletes it after the file

const compile = (source: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'basalt-typegen-'));
  try {
    const file = join(dir, 'check.ts');
    writeFileSync(file, source);
    const program = ts.createProgram([file], { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, types: [] });
    return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

test('composite types: their attributes, columns, arrays, nesting and function results', async () => {
  await p.sql(`
    create type mood as enum ('happy', 'sad');
    create type address as (street text, zip int4, tags text[], mood mood);
    create type contact as (name text, home address);
    create table people (id int primary key, home address, contacts contact[]);
    create function make_address(street text) returns address language sql as $$ select row(street, 0, '{}', 'happy')::address $$;`);
  const { types } = await platform<{ types: string }>(`/projects/${p.ref}/types/typescript?included_schemas=public`);
  const composites = /CompositeTypes: \{([\s\S]*?)\n {4}\}/.exec(types)?.[1] ?? '';
  assert.match(composites, /address: \{\s*street: string \| null\s*zip: number \| null\s*tags: string\[\] \| null\s*mood: Database\["public"\]\["Enums"\]\["mood"\] \| null\s*\}/);
  assert.match(composites, /contact: \{\s*name: string \| null\s*home: Database\["public"\]\["CompositeTypes"\]\["address"\] \| null\s*\}/);
  assert.match(types, /people: \{\s*Row: \{\s*id: number\s*home: Database\["public"\]\["CompositeTypes"\]\["address"\] \| null\s*contacts: Database\["public"\]\["CompositeTypes"\]\["contact"\]\[\] \| null/);
  assert.match(types, /make_address: \{[\s\S]*?Returns: Database\["public"\]\["CompositeTypes"\]\["address"\]/);
  assert.doesNotMatch(composites, /people/, 'a table row type is not a composite type');

  const errors = compile(`${types}
const a: CompositeTypes<'address'> = { street: 'Main St', zip: 1, tags: ['x'], mood: 'happy' };
const row: Tables<'people'> = { id: 1, home: a, contacts: [{ name: 'Ann', home: null }] };
// @ts-expect-error an attribute of the wrong type
const bad: CompositeTypes<'address'> = { street: 1, zip: null, tags: null, mood: null };
export { row, bad };
`);
  assert.deepEqual(errors, []);
});

test('a schema without composite types keeps the empty shape', async () => {
  const { types } = await platform<{ types: string }>(`/projects/${p.ref}/types/typescript?included_schemas=auth`);
  assert.match(types, /CompositeTypes: \{\s*\[_ in never\]: never\s*\}/);
});
