// link (.basalt-project.json): later commands need no ref, from subfolders too; --project-ref; unlink.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { basaltIn, cliProject } from './run-cli.js';

// a folder not linked yet: these tests run `basalt link` themselves
const project = cliProject('cli link', { linked: false });

test('link writes .basalt-project.json; commands in the folder and below need no ref; unlink removes it', () => {
  const linked = project.cli('link', project.ref, '--json');
  assert.equal(linked.code, 0, linked.err);
  assert.deepEqual(JSON.parse(readFileSync(join(project.dir, '.basalt-project.json'), 'utf8')).ref, project.ref);
  const sub = join(project.dir, 'src', 'deep');
  mkdirSync(sub, { recursive: true });
  const keys = basaltIn(sub, 'projects', 'keys', '--json');
  assert.equal(keys.code, 0, keys.err);
  assert.deepEqual(JSON.parse(keys.out).map((k: { name: string }) => k.name), ['anon', 'service_role']);
  assert.deepEqual(JSON.parse(basaltIn(sub, 'sql', 'select 41 + 1 as answer', '--json').out), [{ answer: 42 }]);
  assert.equal(JSON.parse(basaltIn(sub, 'link', '--show', '--json').out).ref, project.ref);
  assert.equal(project.cli('unlink').code, 0);
  assert.equal(existsSync(join(project.dir, '.basalt-project.json')), false);
});
