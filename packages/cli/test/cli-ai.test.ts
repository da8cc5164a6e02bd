// ai keys create, list, revoke and ai usage.
// Through the binary in a linked temporary folder (no ref typed), each a success and a failure with its exit code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testEnv } from '@basalt/testkit';
import { cliProject } from './run-cli.js';

const env = testEnv();
const { cli, json } = cliProject();

test('ai keys create, list, revoke and usage', (t) => {
  if (!env.services['ai-gateway']) return t.skip('ai-gateway is not running');
  const key = json('ai', 'keys', 'create', 'app', '--rpm', '60', '--models', 'gpt-*,fast');
  assert.match(key.key, /^bsk_/);
  assert.deepEqual(key.limits, { requests_per_minute: 60, allowed_models: ['gpt-*', 'fast'] });
  const listed = cli('ai', 'keys', 'list');
  assert.match(listed.out, /^ID\s+NAME\s+PREFIX/m);
  assert.ok(!listed.out.includes(key.key), 'the secret is shown once');
  assert.equal(cli('ai', 'keys', 'revoke', key.id).code, 0);
  assert.equal(cli('ai', 'keys', 'revoke', '00000000-0000-0000-0000-000000000000').code, 1);
  assert.deepEqual(json('ai', 'usage', '--group-by', 'model').data, []);
  assert.equal(cli('ai', 'usage', '--group-by', 'week').code, 2);
  assert.equal(cli('ai', 'keys', 'create', 'x', '--rpm', 'many').code, 2);
  assert.equal(cli('ai', 'keys').code, 2);
});
