// link's failures: not a ref (2), no such project (1); an unlinked folder needs a ref (2) or --project-ref.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basaltIn, cliProject } from './run-cli.js';

// a folder not linked yet: these tests run `basalt link` themselves
const project = cliProject('cli link', { linked: false });

test('link refuses a non-ref and an unknown project; an unlinked folder asks for a ref', () => {
  assert.equal(project.cli('link', 'not-a-ref').code, 2);
  assert.equal(project.cli('link', 'abcdefghijklmnopqrst').code, 1, 'a project that does not exist');
  assert.equal(existsSync(join(project.dir, '.basalt-project.json')), false, 'a failed link writes nothing');

  const elsewhere = mkdtempSync(join(tmpdir(), 'basalt-cli-unlinked-'));
  try {
    const none = basaltIn(elsewhere, 'projects', 'keys');
    assert.equal(none.code, 2);
    assert.match(none.err, /basalt link/);
    assert.equal(basaltIn(elsewhere, 'projects', 'keys', '--project-ref', project.ref).code, 0);
  } finally {
    rmSync(elsewhere, { recursive: true, force: true });
  }
});
