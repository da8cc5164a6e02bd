// The runtime on its own (no HTTP service, no fleet): a real workerd process, specs counted as they are handed over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bundle } from '../domain/bundle.js';
import { Runtimes, type Dispatch } from './runtimes.js';

test('a version proven on probation is loaded into its shard before its calls move there: no second cold start', async (t) => {
  const rt = new Runtimes({
    processes: 1, maxIsolates: 50, memoryMb: 256, cpuMs: 5000, subrequests: 5,
    egress: { allowOrigins: [], allowList: '' } as never, onEvent: () => undefined,
  });
  t.after(() => rt.close());
  await rt.start();
  // each isolate names itself at its first request (no randomness at global scope in workerd)
  const code = await bundle({ files: { 'index.ts': `let name; Deno.serve(() => new Response(name ??= crypto.randomUUID()))` }, entrypoint: 'index.ts' }, 1_000_000);
  let handedOver = 0;
  const d: Dispatch = {
    isolate: 'refabc/hello/1/0#0', version: 'refabc/hello/1/0', ref: 'refabc', url: 'http://localhost/hello', method: 'GET', headers: {}, body: null,
    spec: async () => (handedOver++, { code, env: {} }),
  };
  const call = async () => {
    const r = await rt.dispatch(d, new AbortController().signal);
    assert.equal(r.status, 200);
    return r.whole!.toString();
  };
  const onProbation = await call();
  assert.equal(handedOver, 1);
  assert.deepEqual(rt.stats().map((s) => [s.process, s.isolates]).sort(), [['probation:refabc', 1], ['shard-0', 0]]);
  // until the shard has it, calls stay where the version is warm
  for (let i = 0; i < 50 && rt.stats().find((s) => s.process === 'shard-0')!.isolates === 0; i++) {
    assert.equal(await call(), onProbation);
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(rt.stats().find((s) => s.process === 'shard-0')!.isolates, 1, 'loaded into the shard');
  assert.equal(handedOver, 2, 'the shard was handed the code once, before any call reached it');
  const inShard = await call();
  assert.notEqual(inShard, onProbation, 'now answered by the shard');
  assert.equal(await call(), inShard);
  assert.equal(handedOver, 2, 'the first call in the shard loaded nothing');
});
