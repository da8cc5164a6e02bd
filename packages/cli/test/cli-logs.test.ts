// logs of migrations and auth (functions and cron: cli-functions-ops, cli-cron).
// Through the binary in a linked temporary folder (no ref typed), each a success and a failure with its exit code.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createProject, testEnv, type TestProject } from '@basalt/testkit';
import { basaltIn, linkedDir } from './run-cli.js';

const env = testEnv();
let dir: string;
const cli = (...args: string[]) => basaltIn(dir, ...args);
const json = (...args: string[]) => {
  const r = cli(...args, '--json');
  assert.equal(r.code, 0, `basalt ${args.join(' ')}: ${r.err}${r.out}`);
  return JSON.parse(r.out);
};
let project: TestProject;
let ref: string;

before(async () => {
  project = await createProject('cli ops');
  ref = project.ref;
  dir = linkedDir(ref);
});
after(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('logs of migrations and auth; an unknown service is a usage error', (t) => {
  mkdirSync(join(dir, 'migrations'), { recursive: true });
  writeFileSync(join(dir, 'migrations', '20260101000000_notes.sql'), 'create table notes (id int primary key);');
  assert.equal(cli('db', 'push').code, 0);
  assert.deepEqual(json('logs', 'migrations').entries.map((m: { name: string }) => m.name), ['20260101000000_notes']);
  if (env.services.auth) assert.deepEqual(json('logs', 'auth', '--limit', '5'), { service: 'auth', entries: [] });
  else t.diagnostic('auth is not running: logs auth not checked');
  assert.equal(cli('logs', 'kernel').code, 2);
  assert.equal(cli('logs', 'migrations', '--limit', '0').code, 2);
});
