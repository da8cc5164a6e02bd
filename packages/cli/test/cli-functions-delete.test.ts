// functions delete, the failures of deploy, invoke and logs; secrets set and list.
// Through the binary in a linked temporary folder (no ref typed), each a success and a failure with its exit code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testEnv } from '@basalt/testkit';
import { cliProject } from './run-cli.js';

const env = testEnv();
const project = cliProject();
const { cli, json } = project;

test('functions delete and its failures; secrets', (t) => {
  if (!env.services.functions) return t.skip('functions is not running');
  mkdirSync(join(project.dir, 'functions', 'alpha'), { recursive: true });
  writeFileSync(join(project.dir, 'functions', 'alpha', 'index.ts'), 'Deno.serve(() => new Response("a"));');
  assert.equal(json('functions', 'deploy', 'alpha').slug, 'alpha', 'one named slug prints that function');
  assert.deepEqual(json('functions', 'delete', 'alpha'), { slug: 'alpha', deleted: true });
  assert.equal(cli('functions', 'delete', 'alpha').code, 1, 'already gone');
  assert.equal(cli('functions', 'invoke', 'alpha').code, 1);
  assert.equal(cli('functions', 'deploy', 'bad/slug').code, 2);
  assert.equal(cli('functions', 'logs', 'alpha', '--limit', 'lots').code, 2);
  assert.equal(cli('secrets', 'set', 'MODE=test').code, 0);
  assert.deepEqual(json('secrets', 'list').map((s: { name: string }) => s.name), ['MODE']);
});
