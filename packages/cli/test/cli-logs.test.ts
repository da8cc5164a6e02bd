// logs of migrations and auth (functions and cron: cli-functions-ops, cli-cron).
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

test('logs of migrations and auth; an unknown service is a usage error', (t) => {
  mkdirSync(join(project.dir, 'migrations'), { recursive: true });
  writeFileSync(join(project.dir, 'migrations', '20260101000000_notes.sql'), 'create table notes (id int primary key);');
  assert.equal(cli('db', 'push').code, 0);
  assert.deepEqual(json('logs', 'migrations').entries.map((m: { name: string }) => m.name), ['20260101000000_notes']);
  if (env.services.auth) assert.deepEqual(json('logs', 'auth', '--limit', '5'), { service: 'auth', entries: [] });
  else t.diagnostic('auth is not running: logs auth not checked');
  assert.equal(cli('logs', 'kernel').code, 2);
  assert.equal(cli('logs', 'migrations', '--limit', '0').code, 2);
});
