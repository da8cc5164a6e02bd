// cron: create (edge and db function targets), list, pause, resume, runs, delete; logs cron.
// Through the binary in a linked temporary folder (no ref typed), each a success and a failure with its exit code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testEnv } from '@basalt/testkit';
import { cliProject } from './run-cli.js';

const env = testEnv();
const { json } = cliProject();

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
