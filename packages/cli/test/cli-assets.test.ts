// The CLI's deploy commands as a user runs them, against the test fleet: assets deploy (--spa, --prune), list, rm.
// A file of its own: each CLI call is a process start, and a file must finish within the runner's timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testEnv } from '@basalt/testkit';
import { basalt } from './run-cli.js';

const env = testEnv();

test('assets deploy publishes a built site (with --spa and --prune), list and rm', async () => {
  const p = JSON.parse(basalt('projects', 'create', 'cli site', '--json').out);
  const dist = mkdtempSync(join(tmpdir(), 'basalt-cli-site-'));
  try {
    mkdirSync(join(dist, 'assets'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html><div id=root></div>');
    writeFileSync(join(dist, 'assets/index-8f3a2b1c.js'), 'console.log(1)');
    writeFileSync(join(dist, 'old.txt'), 'old');
    writeFileSync(join(dist, '.env'), 'SECRET=1');
    const first = basalt('assets', 'deploy', p.ref, dist, '--json');
    assert.equal(first.code, 0, first.err);
    assert.deepEqual(JSON.parse(first.out).files.map((f: { path: string }) => f.path).sort(), ['assets/index-8f3a2b1c.js', 'index.html', 'old.txt']);
    rmSync(join(dist, 'old.txt'));
    const second = basalt('assets', 'deploy', p.ref, dist, '--spa', '--prune');
    assert.equal(second.code, 0, second.err);
    assert.match(second.out, /published 2 file\(s\)\nlive at http/);
    const site = `${env.gatewayUrl}/project/${p.ref}/assets/v1`;
    assert.equal(await (await fetch(`${site}/some/client/route`)).text(), '<!doctype html><div id=root></div>');
    assert.equal((await fetch(`${site}/old.txt`)).status, 404);
    assert.equal((await fetch(`${site}/.env`)).status, 404);
    assert.match(basalt('assets', 'list', p.ref).out, /^PATH\s+SIZE/m);
    assert.equal(basalt('assets', 'rm', p.ref, 'assets/index-8f3a2b1c.js').code, 0);
    assert.deepEqual(JSON.parse(basalt('assets', 'list', p.ref, '--json').out).map((f: { path: string }) => f.path), ['index.html']);
    assert.equal(basalt('assets', 'deploy', p.ref, join(dist, 'nope')).code, 1);
  } finally {
    basalt('projects', 'delete', p.ref, '--yes');
    rmSync(dist, { recursive: true, force: true });
  }
});
