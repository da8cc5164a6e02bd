// functions deploy (every folder), invoke, list; logs functions.
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

test('functions deploy (every folder), invoke, list; logs functions', (t) => {
  if (!env.services.functions) return t.skip('functions is not running');
  for (const slug of ['alpha', 'beta']) {
    mkdirSync(join(dir, 'functions', slug), { recursive: true });
    writeFileSync(join(dir, 'functions', slug, 'index.ts'), `Deno.serve(() => { console.log('in ${slug}'); return Response.json({ fn: '${slug}' }); });`);
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
