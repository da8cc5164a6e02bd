// cron's failures: no target or bad JSON (2), a schedule or job the scheduler refuses (1).
// Through the binary in a linked temporary folder (no ref typed), each a success and a failure with its exit code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testEnv } from '@basalt/testkit';
import { cliProject } from './run-cli.js';

const env = testEnv();
const { cli, json } = cliProject();

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
