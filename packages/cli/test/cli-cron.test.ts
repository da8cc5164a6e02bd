// cron: create (edge and db function targets), list, pause, resume, runs, delete; logs cron.
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

test('cron create (edge and db function), list, pause, resume, runs, delete by name', (t) => {
  if (!env.services.scheduler) return t.skip('scheduler is not running');
  // New Year's midnight only, so no run can start while the test runs
  const job = json('cron', 'create', 'nightly', '0 0 1 1 *', '--db-function', 'cleanup', '--args', '{"days":30}');
  assert.deepEqual([job.name, job.target], ['nightly', { type: 'db_function', name: 'cleanup', args: { days: 30 } }]);
  const ping = json('cron', 'create', 'ping', '0 0 1 1 *', '--function', 'beta', '--body', '{"x":1}');
  assert.deepEqual(json('cron', 'list').map((j: { name: string }) => j.name).sort(), ['nightly', 'ping']);
  const paused = json('cron', 'pause', 'nightly');
  assert.deepEqual([paused.paused, paused.next_run_at], [true, null]);
  assert.equal(json('cron', 'resume', job.id).paused, false);
  assert.deepEqual(json('cron', 'runs', 'nightly'), []);
  assert.deepEqual(json('logs', 'cron'), { service: 'cron', entries: [] });
  assert.deepEqual(json('cron', 'delete', 'ping'), { id: ping.id, deleted: true });
  assert.deepEqual(json('cron', 'list').map((j: { name: string }) => j.name), ['nightly']);
});
