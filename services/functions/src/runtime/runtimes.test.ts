// The runtime on its own (no HTTP service, no fleet): a real workerd process, specs counted as they are handed over.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { bundle } from '../domain/bundle.js';
import { Runtimes, RuntimeError, type Dispatch, type RuntimeOptions } from './runtimes.js';

/** a runtime of one shard process, closed after the test; its events are collected */
async function runtime(t: TestContext, cpuMs = 5000, more: Partial<RuntimeOptions> = {}): Promise<{ rt: Runtimes; events: string[] }> {
  const events: string[] = [];
  const rt = new Runtimes({
    processes: 1, maxIsolates: 50, memoryMb: 256, cpuMs, subrequests: 5,
    egress: { allowOrigins: [], allowList: '' } as never, onEvent: (e) => events.push(e), ...more,
  });
  t.after(() => rt.close());
  await rt.start();
  return { rt, events };
}

test('a version proven on probation is loaded into its shard before its calls move there: no second cold start', async (t) => {
  const { rt } = await runtime(t);
  // each isolate names itself at its first request (no randomness at global scope in workerd)
  const code = await bundle({ files: { 'index.ts': `let name; Deno.serve(() => new Response(name ??= crypto.randomUUID()))` }, entrypoint: 'index.ts' }, 1_000_000);
  let handedOver = 0;
  const d: Dispatch = {
    isolate: 'refabc/hello/1/0#0', version: 'refabc/hello/1/0', ref: 'refabc', url: 'http://localhost/hello', method: 'GET', headers: {}, body: null,
    spec: async () => (handedOver++, { code, env: {} }),
  };
  const call = async () => {
    const r = await rt.dispatch(d, AbortSignal.timeout(15_000));
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

test('the supervisor ticks at its busy rate only while a process has work, and a loop after an idle spell still dies', async (t) => {
  const { rt, events } = await runtime(t, 300, { probationIdleMs: 500, tailMs: 500 });
  assert.equal(rt.watching, false, 'idle from the start');
  const fine = await bundle({ files: { 'index.ts': `Deno.serve(() => new Response('ok'))` }, entrypoint: 'index.ts' }, 1_000_000);
  const looping = await bundle({ files: { 'index.ts': `Deno.serve(() => { while (true) {} })` }, entrypoint: 'index.ts' }, 1_000_000);
  const dispatch = (version: string, code: string) => rt.dispatch({
    isolate: `${version}#0`, version, ref: 'refidle', url: 'http://localhost/f', method: 'GET', headers: {}, body: null,
    spec: async () => ({ code, env: {} }),
  }, AbortSignal.timeout(15_000));
  const idle = async () => {
    // an answer's tail (500 ms) and a probation process (stopped after 500 ms without calls) keep it busy a while
    for (let i = 0; i < 100 && rt.watching; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(rt.watching, false, 'back to the idle rate once no process has work');
  };
  assert.equal((await dispatch('refidle/fine/1/0', fine)).status, 200);
  for (let i = 0; i < 100 && rt.stats().find((s) => s.process === 'shard-0')?.isolates !== 1; i++) await new Promise((r) => setTimeout(r, 50));
  await idle();
  // proven and loaded in its running shard: sent at once, and watched from then on
  const again = dispatch('refidle/fine/1/0', fine);
  assert.equal(rt.watching, true, 'busy as soon as an invocation is sent');
  assert.equal((await again).status, 200);
  await idle();
  const started = performance.now();
  await assert.rejects(dispatch('refidle/loop/1/0', looping), (e) => e instanceof RuntimeError && e.reason === 'cpu');
  assert.ok(events.includes('workerd stuck'), String(events));
  assert.ok(performance.now() - started < 5_000, 'killed within its budget');
});

test('a version whose load brings its shard down is quarantined, not loaded there again', async (t) => {
  const { rt, events } = await runtime(t, 300);
  const good = await bundle({ files: { 'index.ts': `Deno.serve(() => new Response('ok'))` }, entrypoint: 'index.ts' }, 1_000_000);
  // what runs fine on probation loops forever at start the second time it is handed over: in the shard
  const looping = await bundle({ files: { 'index.ts': `while (true) {} Deno.serve(() => new Response('never'))` }, entrypoint: 'index.ts' }, 1_000_000);
  let handedOver = 0;
  const d: Dispatch = {
    isolate: 'refxyz/f/1/0#0', version: 'refxyz/f/1/0', ref: 'refxyz', url: 'http://localhost/f', method: 'GET', headers: {}, body: null,
    spec: async () => ({ code: ++handedOver === 2 ? looping : good, env: {} }),
  };
  const call = async () => (await rt.dispatch(d, AbortSignal.timeout(15_000))).status;
  assert.equal(await call(), 200);
  for (let i = 0; i < 100 && !events.includes('workerd exited'); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(events.includes('workerd stuck'), `the shard was killed for the loop: ${events}`);
  // calls go on answering, from probation and then quarantine, never from the shard again
  for (let i = 0; i < 5; i++) assert.equal(await call(), 200);
  for (let i = 0; i < 50 && !rt.stats().some((s) => s.process === 'quarantine'); i++) {
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await call(), 200);
  }
  // the shard, killed for the loop, is started again at once: on a busy machine it may not be listening yet
  for (let i = 0; i < 100 && !rt.stats().some((s) => s.process === 'shard-0'); i++) await new Promise((r) => setTimeout(r, 50));
  const where = Object.fromEntries(rt.stats().map((s) => [s.process, s.isolates]));
  assert.equal(where.quarantine, 1, JSON.stringify(where));
  assert.equal(where['shard-0'], 0, JSON.stringify(where));
  assert.equal(events.filter((e) => e === 'workerd stuck').length, 1, 'the shard went down once');
});

test('a call after workerd has closed its idle connections (5 s) goes out on a live one, body and all', async (t) => {
  const { rt, events } = await runtime(t);
  const code = await bundle({ files: { 'index.ts': `Deno.serve(async (req) => new Response(await req.text()))` }, entrypoint: 'index.ts' }, 1_000_000);
  const post = async (text: string) => {
    const r = await rt.dispatch({
      isolate: 'refidl/echo/1/0#0', version: 'refidl/echo/1/0', ref: 'refidl', url: 'http://localhost/echo', method: 'POST',
      headers: { 'content-length': String(text.length) }, body: Readable.from([Buffer.from(text)]), spec: async () => ({ code, env: {} }),
    }, AbortSignal.timeout(15_000));
    return r.whole!.toString();
  };
  assert.equal(await post('first'), 'first');
  await new Promise((r) => setTimeout(r, 5_500));
  assert.equal(await post('after the idle timeout'), 'after the idle timeout');
  assert.ok(!events.includes('invocation replayed'), 'sent once: the closed socket was not handed out');
});

test('an answer whose head cannot be read (past 64 KB) fails once: the function is not run again', async (t) => {
  const { rt, events } = await runtime(t);
  // 2,000 headers of ~40 bytes: a head of ~80 KB, which arrives over several reads
  const code = await bundle({ files: { 'index.ts': `let runs = 0; Deno.serve((req) => {
    if (new URL(req.url).pathname === '/runs') return new Response(String(runs));
    runs++;
    const h = new Headers();
    for (let i = 0; i < 2000; i++) h.set('x-h' + i, 'v'.repeat(32));
    return new Response('big', { headers: h });
  })` }, entrypoint: 'index.ts' }, 1_000_000);
  const d = (path: string): Dispatch => ({
    isolate: 'refbig/h/1/0#0', version: 'refbig/h/1/0', ref: 'refbig', url: `http://localhost${path}`, method: 'GET', headers: {}, body: null,
    spec: async () => ({ code, env: {} }),
  });
  await assert.rejects(rt.dispatch(d('/big'), AbortSignal.timeout(15_000)), /response head too large/);
  assert.ok(!events.includes('invocation replayed'), `sent once: ${events}`);
  assert.equal((await rt.dispatch(d('/runs'), AbortSignal.timeout(15_000))).whole!.toString(), '1');
});

test('a busy function leaves its process no bigger: 20,000 calls, resident memory within 30 MB; gc() hidden from its code', async (t) => {
  const { rt, events } = await runtime(t);
  const code = await bundle({ files: { 'index.ts': `Deno.serve((req) => Response.json({ gc: typeof globalThis.gc, q: new URL(req.url).search }))` }, entrypoint: 'index.ts' }, 1_000_000);
  const d: Dispatch = {
    isolate: 'refmem/busy/1/0#0', version: 'refmem/busy/1/0', ref: 'refmem', url: 'http://localhost/busy', method: 'GET',
    headers: { 'user-agent': 'test', accept: 'application/json', authorization: `Bearer ${'x'.repeat(200)}` }, body: null,
    spec: async () => ({ code, env: {} }),
  };
  const call = async () => {
    const r = await rt.dispatch({ ...d, headers: { ...d.headers } }, AbortSignal.timeout(15_000));
    assert.equal(r.status, 200);
    return JSON.parse(r.whole!.toString()) as { gc: string };
  };
  assert.equal((await call()).gc, 'undefined', 'function code cannot run the collector');
  // past probation and warm in the shard
  for (let i = 0; i < 50 && !rt.stats().some((s) => s.process === 'shard-0' && s.isolates === 1); i++) await call();
  const shard = () => rt.stats().find((s) => s.process === 'shard-0')!;
  const run = async (n: number) => {
    let left = n;
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (left-- > 0) await call();
    }));
  };
  await run(2_000);
  const before = shard().rss_mb;
  await run(20_000);
  const after = shard().rss_mb;
  assert.ok(after - before < 30, `resident memory grew from ${before} to ${after} MB`);
  assert.ok(!events.includes('workerd over memory'), events.join(', '));
});
