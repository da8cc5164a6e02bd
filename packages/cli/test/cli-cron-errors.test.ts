// cron's failures: no target or bad JSON (2), a schedule or job the scheduler refuses (1).
// Through the binary in a linked temporary folder (no ref typed), each a success and a failure with its exit code.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
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

test('cron create without a target, with bad JSON or a bad schedule; runs of no job', (t) => {
  if (!env.services.scheduler) return t.skip('scheduler is not running');
  assert.equal(cli('cron', 'create', 'x', '* * * * *').code, 2, 'no target');
  assert.equal(cli('cron', 'create', 'x', '* * * * *', '--function', 'beta', '--body', '{oops').code, 2);
  const bad = cli('cron', 'create', 'x', 'every blue moon', '--function', 'beta');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /Invalid crontab/);
  assert.equal(cli('cron', 'runs', 'no-such-job').code, 1);
  assert.deepEqual(json('cron', 'list'), [], 'nothing was created');
});
