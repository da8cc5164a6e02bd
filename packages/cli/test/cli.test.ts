// The CLI as a user runs it, against the test fleet: human output, --json, -f files, errors and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '@basalt/fleet';
import { basalt } from './run-cli.js';

test('projects create, list, sql (inline and -f), keys, delete', () => {
  const created = basalt('projects', 'create', 'cli app', '--json');
  assert.equal(created.code, 0, created.err);
  const p = JSON.parse(created.out);
  assert.match(p.ref, /^[a-z]{20}$/);
  try {
    const list = basalt('projects', 'list');
    assert.equal(list.code, 0);
    assert.match(list.out, /^REF\s+NAME/m);
    assert.ok(list.out.includes(p.ref));

    const dir = mkdtempSync(join(tmpdir(), 'basalt-cli-'));
    writeFileSync(join(dir, 'schema.sql'), 'create table items (id int primary key, name text); insert into items values (1, $$one$$);');
    assert.equal(basalt('sql', p.ref, '-f', join(dir, 'schema.sql')).code, 0);
    const rows = basalt('sql', p.ref, 'select id, name from items', '--json');
    assert.deepEqual(JSON.parse(rows.out), [{ id: 1, name: 'one' }]);
    const table = basalt('sql', p.ref, 'select id, name from items');
    assert.match(table.out, /ID\s+NAME\n1\s+one/);

    const bad = basalt('sql', p.ref, 'select * from missing');
    assert.equal(bad.code, 1);
    assert.match(bad.err, /relation "missing" does not exist/);

    const keys = JSON.parse(basalt('keys', p.ref, '--json').out);
    assert.deepEqual(keys.map((k: { name: string }) => k.name), ['anon', 'service_role']);
  } finally {
    assert.equal(basalt('projects', 'delete', p.ref).code, 2, 'delete without --yes is a usage error');
    assert.equal(basalt('projects', 'delete', p.ref, '--yes').code, 0);
  }
});

test('tokens create, list, revoke', () => {
  const t = JSON.parse(basalt('tokens', 'create', 'cli-token', '--json').out);
  assert.match(t.token, /^bsp_/);
  assert.ok(basalt('tokens', 'list').out.includes('cli-token'));
  assert.equal(basalt('tokens', 'revoke', t.id).code, 0);
  assert.ok(!basalt('tokens', 'list').out.includes(t.id));
});

test('usage errors exit 2, unreachable servers and bad tokens exit 1 with a clear message', () => {
  assert.equal(basalt('nope').code, 2);
  assert.equal(basalt('projects').code, 2);
  const down = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'packages/cli/src/main.ts'), 'projects', 'list', '--url', 'http://127.0.0.1:9', '--token', 'bsp_x'], { encoding: 'utf8' });
  assert.equal(down.status, 1);
  assert.match(down.stderr, /cannot reach/);
  const denied = basalt('projects', 'list', '--token', 'bsp_wrongwrongwrongwrongwrong');
  assert.equal(denied.code, 1);
  assert.match(denied.err, /401/);
});
