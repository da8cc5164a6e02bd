// The CLI's schema commands as a user runs them, against the test fleet: db push (recorded, idempotent), db
// migrations, gen types typescript, db pull. In a file of its own: each CLI call is a process start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basalt, basaltIn } from './run-cli.js';

test('db push applies migrations/ once each, db migrations lists them, gen types prints the Database type, db pull writes the schema', () => {
  const created = JSON.parse(basalt('projects', 'create', 'cli db', '--json').out);
  const dir = mkdtempSync(join(tmpdir(), 'basalt-db-'));
  try {
    mkdirSync(join(dir, 'migrations'));
    writeFileSync(join(dir, 'migrations', '20260101000000_create_items.sql'), 'create table items (id int primary key, name text not null);');
    writeFileSync(join(dir, 'migrations', '20260102000000_add_price.sql'), 'alter table items add column price numeric;');
    const pushed = basaltIn(dir, 'db', 'push', created.ref, '--json');
    assert.equal(pushed.code, 0, pushed.err);
    assert.deepEqual(JSON.parse(pushed.out).map((r: { applied: boolean }) => r.applied), [true, true]);
    const again = basaltIn(dir, 'db', 'push', created.ref, '--json');
    assert.deepEqual(JSON.parse(again.out).map((r: { applied: boolean }) => r.applied), [false, false], 'a second push applies nothing');
    const listed = JSON.parse(basalt('db', 'migrations', created.ref, '--json').out);
    assert.deepEqual(listed.map((m: { name: string }) => m.name), ['20260101000000_create_items', '20260102000000_add_price']);
    const types = basalt('gen', 'types', 'typescript', created.ref);
    assert.equal(types.code, 0, types.err);
    assert.match(types.out, /items: \{\s*Row: \{[^}]*price: number \| null/);
    const pulled = basaltIn(dir, 'db', 'pull', created.ref, '--dir', 'pulled', '--json');
    assert.equal(pulled.code, 0, pulled.err);
    const file = JSON.parse(pulled.out).file as string;
    assert.match(readFileSync(join(dir, file), 'utf8'), /create table .*items/i);
    assert.equal(basaltIn(dir, 'db', 'push', created.ref, '--dir', 'nowhere').code, 1);
    assert.equal(basalt('db', 'shove', created.ref).code, 2);
  } finally {
    basalt('projects', 'delete', created.ref, '--yes');
    rmSync(dir, { recursive: true, force: true });
  }
});
