// link (.basalt-project.json): later commands need no ref, from subfolders too; --project-ref; unlink.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProject, type TestProject } from '@basalt/testkit';
import { basaltIn } from './run-cli.js';

const work = mkdtempSync(join(tmpdir(), 'basalt-cli-link-'));
let project: TestProject;

before(async () => {
  project = await createProject('cli link');
});
after(async () => {
  rmSync(work, { recursive: true, force: true });
});

test('link writes .basalt-project.json; commands in the folder and below need no ref; unlink removes it', () => {
  const linked = basaltIn(work, 'link', project.ref, '--json');
  assert.equal(linked.code, 0, linked.err);
  assert.deepEqual(JSON.parse(readFileSync(join(work, '.basalt-project.json'), 'utf8')).ref, project.ref);
  const sub = join(work, 'src', 'deep');
  mkdirSync(sub, { recursive: true });
  const keys = basaltIn(sub, 'projects', 'keys', '--json');
  assert.equal(keys.code, 0, keys.err);
  assert.deepEqual(JSON.parse(keys.out).map((k: { name: string }) => k.name), ['anon', 'service_role']);
  assert.deepEqual(JSON.parse(basaltIn(sub, 'sql', 'select 41 + 1 as answer', '--json').out), [{ answer: 42 }]);
  assert.equal(JSON.parse(basaltIn(sub, 'link', '--show', '--json').out).ref, project.ref);
  assert.equal(basaltIn(work, 'unlink').code, 0);
  assert.equal(existsSync(join(work, '.basalt-project.json')), false);
});
