// functions deploy (every folder), invoke, list; logs functions.
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

test('functions deploy (every folder), invoke, list; logs functions', (t) => {
  if (!env.services.functions) return t.skip('functions is not running');
  for (const slug of ['alpha', 'beta']) {
    mkdirSync(join(project.dir, 'functions', slug), { recursive: true });
    writeFileSync(join(project.dir, 'functions', slug, 'index.ts'), `Deno.serve(() => { console.log('in ${slug}'); return Response.json({ fn: '${slug}' }); });`);
  }
  const deployed = cli('functions', 'deploy', '--json');
  assert.equal(deployed.code, 0, deployed.err);
  assert.deepEqual(JSON.parse(deployed.out).map((f: { slug: string }) => f.slug), ['alpha', 'beta']);
  assert.equal(deployed.err, '', 'no progress bar on a stderr that is not a terminal');
  assert.deepEqual(json('functions', 'invoke', 'beta'), { fn: 'beta' });
  assert.deepEqual(json('functions', 'list').map((f: { slug: string }) => f.slug), ['alpha', 'beta']);
  const logs = json('logs', 'functions');
  assert.equal(logs.service, 'functions');
  assert.equal(logs.entries[0].slug, 'beta');
  assert.match(logs.entries[0].logs, /in beta/);
});
