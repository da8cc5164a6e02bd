// Containment: every kind of poison deployed in project A (unsupported dynamic imports, `cloudflare:` modules,
// top-level throws, syntax the runtime rejects, a huge bundle, loops at module init and per request, memory
// blow-ups) is a 5xx with x-relay-error (or the function's own error) for that function alone, with a log row,
// while project B's function keeps answering; and a workerd process killed from outside comes back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProject, eventually, platform, testEnv, type TestProject } from '@basalt/testkit';

let a: TestProject;
let b: TestProject;
let canary: http.Server;
let canaryPort = 0;
let canaryHits = 0;

before(async () => {
  [a, b] = await Promise.all([createProject('fn-poison'), createProject('fn-steady')]);
  // B is called back to back for the whole file: no rate limit in the way
  await platform(`/projects/${b.ref}`, { method: 'PATCH', json: { settings: { rate_limit_rps: 100_000, functions: { rps: 100_000, function_rps: 100_000 } } } });
  await platform(`/projects/${b.ref}/functions`, { method: 'POST', json: { slug: 'steady', verify_jwt: false, source: `let n = 0; Deno.serve(() => new Response('steady ' + ++n))` } });
  assert.match(await (await fetch(`${b.url}/functions/v1/steady`)).text(), /^steady \d+$/);
  canary = http.createServer((_req, res) => {
    canaryHits++;
    res.end('reached');
  });
  await new Promise<void>((r) => canary.listen(0, '127.0.0.1', r));
  canaryPort = (canary.address() as AddressInfo).port;
});
after(() => new Promise((r) => canary.close(r)));

const deploy = (slug: string, source: string) =>
  // a wall time long enough that the CPU watchdog (546) always acts first, even where a loaded machine gives the
  // looping process a tenth of a core
  platform(`/projects/${a.ref}/functions`, { method: 'POST', json: { slug, source, verify_jwt: false, timeout_ms: 90_000 } });

/** B's function called back to back while `during` runs: every status it answered. */
async function steadyWhile<T>(during: () => Promise<T>): Promise<{ result: T; statuses: number[]; relay: number }> {
  let done = false;
  const statuses: number[] = [];
  let relay = 0;
  const loop = (async () => {
    while (!done) {
      const r = await fetch(`${b.url}/functions/v1/steady`);
      const body = await r.text();
      statuses.push(r.status);
      if (r.status !== 200 && r.headers.get('x-relay-error') !== 'true') console.log('B answered', r.status, body);
      if (r.status === 200) assert.match(body, /^steady \d+$/);
      else if (r.headers.get('x-relay-error') === 'true') relay++;
    }
  })();
  try {
    const result = await during();
    done = true;
    await loop;
    return { result, statuses, relay };
  } finally {
    done = true;
    await loop;
  }
}

async function call(slug: string, body?: unknown) {
  const r = await fetch(`${a.url}/functions/v1/${slug}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: r.status, relay: r.headers.get('x-relay-error'), body: await r.text() };
}

async function lastLog(slug: string): Promise<{ status: number; error: string | null }> {
  return eventually(async () => {
    const [row] = await platform(`/projects/${a.ref}/functions/${slug}/logs`);
    return row;
  }, 5000);
}

const poisons: { slug: string; source: string; expect: (r: { status: number; relay: string | null; body: string }) => void }[] = [
  {
    slug: 'dyn-import',
    source: `Deno.serve(async () => { const name = ['https://esm.sh', 'left-pad'].join('/'); await import(name); return new Response('imported'); })`,
    expect: (r) => {
      assert.equal(r.status, 500, r.body);
      assert.equal(JSON.parse(r.body).code, 'function_error', 'the function\'s own error');
    },
  },
  {
    slug: 'dyn-import-top',
    source: `const name = ['node', 'definitely_not_a_module'].join(':'); await import(name); Deno.serve(() => new Response('x'))`,
    expect: (r) => {
      assert.equal(r.status, 503, r.body);
      assert.equal(r.relay, 'true');
      assert.equal(JSON.parse(r.body).code, 'function_boot_failed');
    },
  },
  {
    slug: 'cloudflare-sockets',
    source: `Deno.serve(async () => {
      const { connect } = await import(['cloudflare', 'sockets'].join(':'));
      const socket = connect({ hostname: '127.0.0.1', port: ${'${PORT}'} });
      const w = socket.writable.getWriter(); await w.write(new TextEncoder().encode('GET / HTTP/1.0\\r\\n\\r\\n'));
      const { value } = await socket.readable.getReader().read();
      return new Response(new TextDecoder().decode(value));
    })`,
    expect: (r) => {
      assert.ok(r.status >= 500, r.body);
      assert.doesNotMatch(r.body, /reached/);
    },
  },
  {
    slug: 'top-throw',
    source: `throw new Error('poisoned at load'); Deno.serve(() => new Response('never'))`,
    expect: (r) => {
      assert.equal(r.status, 503, r.body);
      assert.equal(r.relay, 'true');
      assert.match(JSON.parse(r.body).message, /poisoned at load/);
    },
  },
  {
    // esbuild passes regular expression bodies through; V8 refuses this one when it parses the module
    slug: 'bad-syntax',
    source: `const re = /(?<a>x)\\k<b>/u; Deno.serve(() => new Response(String(re)))`,
    expect: (r) => {
      assert.equal(r.status, 503, r.body);
      assert.equal(r.relay, 'true');
      assert.match(JSON.parse(r.body).message, /SyntaxError|regular expression/i);
    },
  },
  {
    slug: 'eval-at-load',
    source: `const f = new Function('return 1'); Deno.serve(() => new Response(String(f())))`,
    expect: (r) => {
      assert.equal(r.status, 503, r.body);
      assert.equal(r.relay, 'true');
      assert.match(JSON.parse(r.body).message, /Code generation from strings disallowed/);
    },
  },
  {
    slug: 'init-loop',
    source: `while (true) {} Deno.serve(() => new Response('never'))`,
    expect: (r) => {
      assert.equal(r.status, 546, r.body);
      assert.equal(r.relay, 'true');
      assert.match(r.body, /CPU time limit/);
    },
  },
  {
    slug: 'request-loop',
    source: `Deno.serve(() => { while (true) {} })`,
    expect: (r) => {
      assert.equal(r.status, 546, r.body);
      assert.equal(r.relay, 'true');
    },
  },
  {
    slug: 'heap-blowup',
    source: `Deno.serve(async () => { const keep = []; for (let i = 0; ; i++) { const a = new Array(1 << 20); for (let j = 0; j < a.length; j++) a[j] = { i, j }; keep.push(a); if (i % 4 === 0) await new Promise((r) => setTimeout(r, 1)); } })`,
    expect: (r) => {
      assert.ok(r.status === 546 || r.status === 503, `${r.status} ${r.body}`);
      assert.equal(r.relay, 'true');
    },
  },
];

for (const p of poisons) {
  test(`poison in A (${p.slug}): a 5xx for that function only, with a log row; B keeps answering`, async () => {
    await deploy(p.slug, p.source.replace('${PORT}', String(canaryPort)));
    const { result, statuses } = await steadyWhile(() => call(p.slug));
    p.expect(result);
    assert.ok(statuses.length > 0 && statuses.every((s) => s === 200), `B answered ${statuses.join(',')}`);
    const log = await lastLog(p.slug);
    assert.equal(log.status, result.status);
    assert.ok(result.status === 500 || (log.error ?? '').length > 0, 'the log row says why');
    // the same poison again: still its own error, B still unharmed
    const again = await steadyWhile(() => call(p.slug));
    p.expect(again.result);
    assert.ok(again.statuses.every((s) => s === 200), `B answered ${again.statuses.join(',')}`);
  });
}

test('a static cloudflare: import is refused at deploy', async () => {
  await assert.rejects(deploy('cf-static', `import { connect } from 'cloudflare:sockets'; Deno.serve(() => new Response(String(connect)))`), /400/);
  assert.equal(canaryHits, 0, 'no poison reached the loopback server');
});

test('a huge bundle loads (or fails cleanly) without stopping B', async () => {
  // three files of 4 MB (a deploy's file may hold 5 MB): a 12 MB bundle
  const part = 'x'.repeat(4 * 1024 * 1024);
  const r = await platform(`/projects/${a.ref}/functions`, {
    method: 'POST',
    json: {
      slug: 'huge', verify_jwt: false,
      files: {
        'index.ts': `import { p1 } from './p1.ts'; import { p2 } from './p2.ts'; import { p3 } from './p3.ts'; Deno.serve(() => new Response(String(p1.length + p2.length + p3.length)))`,
        'p1.ts': `export const p1 = '${part}';`, 'p2.ts': `export const p2 = '${part}';`, 'p3.ts': `export const p3 = '${part}';`,
      },
    },
  });
  const big = { length: 3 * part.length };
  assert.equal(r.version, 1);
  const { result, statuses } = await steadyWhile(() => call('huge'));
  assert.equal(result.status, 200, result.body.slice(0, 300));
  assert.equal(result.body, String(big.length));
  assert.ok(statuses.every((s) => s === 200), `B answered ${statuses.join(',')}`);
});

test('a function that proved itself and then loops is killed; its repeats run in probation, then quarantine, away from B', async () => {
  await deploy('late-loop', `Deno.serve(async (req) => { const { spin } = await req.json(); if (spin) while (true) {} return new Response('fine'); })`);
  assert.equal((await call('late-loop', { spin: false })).body, 'fine');
  // In its shard, which B may share: B's calls sent while the loop held the thread never ran and are sent
  // again; one sent before the process stopped answering cannot be told apart from the loop and fails with it.
  const first = await steadyWhile(() => call('late-loop', { spin: true }));
  assert.equal(first.result.status, 546, first.result.body);
  assert.equal(first.result.relay, 'true');
  assert.ok(first.statuses.every((s) => s === 200 || s === 503 || s === 546), first.statuses.join(','));
  assert.equal(first.statuses.filter((s) => s !== 200).length, first.relay, `every failure is a relay error: ${first.statuses.join(',')}`);
  assert.equal((await fetch(`${b.url}/functions/v1/steady`)).status, 200);
  // back on probation, then quarantined: B is not touched at all
  for (const where of ['probation', 'quarantine']) {
    const again = await steadyWhile(() => call('late-loop', { spin: true }));
    assert.equal(again.result.status, 546, `${where}: ${again.result.body}`);
    assert.ok(again.statuses.every((s) => s === 200), `${where}: ${again.statuses.join(',')}`);
  }
  assert.equal((await call('late-loop', { spin: false })).body, 'fine', 'it still answers, from quarantine');
});

async function workerdPids(): Promise<Map<string, number>> {
  const text = await (await fetch(`${testEnv().services.functions}/metrics`)).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^functions_workerd_isolates\{([^}]*)\}/gm)) {
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    out.set(labels.process, Number(labels.pid));
  }
  return out;
}

// Only the quarantine process is killed here: the shards and probation serve other test files' projects too.
test('a workerd process killed from outside is started again at once, and its functions answer', async () => {
  const before = await workerdPids();
  assert.ok([...before.keys()].some((k) => k.startsWith('shard-')), JSON.stringify([...before]));
  const pid = before.get('quarantine');
  assert.ok(pid, 'the late-loop test put a version in quarantine');
  process.kill(pid, 'SIGKILL');
  await eventually(async () => {
    const now = await workerdPids();
    return now.has('quarantine') && now.get('quarantine') !== pid ? now : null;
  }, 10_000, 100);
  assert.equal((await call('late-loop', { spin: false })).body, 'fine');
  const r = await fetch(`${b.url}/functions/v1/steady`);
  assert.equal(r.status, 200);
});

test('a loop left running after the answer (waitUntil) is killed and blamed on its function, not on the next call', async () => {
  await deploy('tail-loop', `Deno.serve(() => { EdgeRuntime.waitUntil((async () => { await new Promise((r) => setTimeout(r, 50)); while (true) {} })()); return new Response('answered'); })`);
  await deploy('tail-next', `Deno.serve(() => new Response('next'))`);
  const left = await call('tail-loop');
  assert.equal(left.status, 200, left.body);
  assert.equal(left.body, 'answered');
  // the loop now holds the thread of A's process, with no invocation of its own in flight
  await new Promise((r) => setTimeout(r, 500));
  const next = await call('tail-next');
  assert.equal(next.status, 200, `another function of A pays for the loop: ${next.status} ${next.body}`);
  assert.equal(next.body, 'next');
  assert.equal((await lastLog('tail-next')).status, 200);
});
