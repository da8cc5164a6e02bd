// The supervisor on real processes: a crashed child comes back after a backoff; one that keeps crashing is
// given up on with its name, its exit and its last output; a released one is left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Supervisor, type RestartPolicy } from './supervisor.js';

const fast: RestartPolicy = { initialDelayMs: 20, maxDelayMs: 200, maxCrashes: 3, windowMs: 10_000 };
const node = (code: string) => () => spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
const until = async (cond: () => boolean, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('a killed process is started again, with doubling delays', async () => {
  const delays: number[] = [];
  const pids = new Set<number>();
  const s = new Supervisor('sleeper', node('setTimeout(() => {}, 60_000)'), fast, {
    onRestart: (i) => delays.push(i.delayMs),
    onSpawn: (c) => pids.add(c.pid!),
  });
  for (let i = 0; i < 2; i++) {
    const before = s.child;
    before.kill('SIGKILL');
    await until(() => s.child !== before && s.child.pid !== undefined);
  }
  assert.deepEqual(delays, [20, 40]);
  assert.equal(pids.size, 3);
  s.release();
  s.child.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(pids.size, 3, 'a released process is not restarted');
});

test('a crash loop is given up on, saying which process and why', async () => {
  let reason = '';
  const s = new Supervisor('broken', node('process.exit(3)'), fast, { onGiveUp: (i) => void (reason = i.reason) }, () => 'Error: BASALT_MASTER_KEY: must be 32 bytes\n');
  await until(() => reason !== '');
  assert.ok(s.givenUp);
  assert.match(reason, /^broken exited with code 3 and crashed 4 times in 10 s; not restarting it/);
  assert.match(reason, /BASALT_MASTER_KEY: must be 32 bytes/);
});

test('a process that exits with EX_CONFIG (78) is not restarted at all', async () => {
  let reason = '';
  let spawned = 0;
  new Supervisor('platform', node('process.exit(78)'), fast, { onGiveUp: (i) => void (reason = i.reason), onSpawn: () => void spawned++ });
  await until(() => reason !== '');
  assert.equal(spawned, 1);
  assert.match(reason, /^platform exited with code 78 because of its configuration; not restarting it/);
});
