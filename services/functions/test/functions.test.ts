// Edge functions through the gateway with supabase-js: deploy (TypeScript, several files), invoke, secrets,
// versions and rollback, verify_jwt, errors, timeouts, no host environment, isolation, limits (egress: egress.test.ts).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FunctionsHttpError, FunctionsRelayError } from '@supabase/supabase-js';
import { createProject, platform, supabaseClient, type TestProject } from '@basalt/testkit';

let a: TestProject;
let b: TestProject;

before(async () => {
  [a, b] = await Promise.all([createProject('fn-a'), createProject('fn-b')]);
});

const supabase = (p: TestProject, key = p.anonKey) => supabaseClient(p, { key });
const deploy = (p: TestProject, body: Record<string, unknown>) => platform(`/projects/${p.ref}/functions`, { method: 'POST', json: body });
const raw = async (p: TestProject, slug: string, init: RequestInit = {}) => {
  const r = await fetch(`${p.url}/functions/v1/${slug}`, init);
  return { status: r.status, headers: r.headers, body: await r.text() };
};

test('a TypeScript function written for Deno.serve deploys and answers supabase-js', async () => {
  const fn = await deploy(a, {
    slug: 'hello',
    source: `interface Body { name: string }
      Deno.serve(async (req: Request): Promise<Response> => {
        const { name } = (await req.json()) as Body;
        console.log('greeting', name);
        return Response.json({ hello: name, method: req.method, url: Deno.env.get('SUPABASE_URL'), anon: Deno.env.get('SUPABASE_ANON_KEY') !== undefined });
      });`,
  });
  assert.equal(fn.version, 1);
  assert.equal(fn.verify_jwt, true);
  const { data, error } = await supabase(a).functions.invoke('hello', { body: { name: 'basalt' } });
  assert.equal(error, null);
  assert.deepEqual(data, { hello: 'basalt', method: 'POST', url: data.url, anon: true });
  assert.match(data.url, new RegExp(`/project/${a.ref}$`), 'SUPABASE_URL is the project URL');
  const logs = await platform(`/projects/${a.ref}/functions/hello/logs`);
  assert.equal(logs[0].status, 200);
  assert.match(logs[0].logs, /\[log\] greeting basalt/);
});

test('several files with relative imports, an import map, and the module fetch-handler style', async () => {
  await deploy(a, {
    slug: 'multi',
    entrypoint: 'main.ts',
    files: {
      'main.ts': `import { shout } from './lib/text.ts'; import { VERSION } from 'config';
        export default { async fetch(req: Request) { const u = new URL(req.url); return new Response(shout(u.pathname) + ' ' + VERSION + ' ' + u.search); } };`,
      'lib/text.ts': `export const shout = (s: string): string => s.toUpperCase();`,
      'config.ts': `export const VERSION = 'v1';`,
    },
    import_map: { config: './config.ts' },
  });
  const r = await raw(a, 'multi/sub/path?x=1', { method: 'GET', headers: { authorization: `Bearer ${a.anonKey}` } });
  assert.equal(r.status, 200);
  assert.equal(r.body, '/MULTI/SUB/PATH v1 ?x=1', 'the function sees /<slug>/… as on Supabase');
});

test('a bad deploy is a 400 with the compiler message, and nothing is deployed', async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ slug: 'broken', source: 'export default {{{' }, /index.ts:1/],
    [{ slug: 'broken', source: "import x from 'left-pad'; export default x" }, /cannot resolve .*left-pad/],
    [{ slug: 'broken', files: { 'a.ts': 'x' }, entrypoint: 'b.ts' }, /entrypoint/],
    [{ slug: 'bad slug!', source: 'x' }, /slug/],
    [{ slug: 'broken', files: { '../escape.ts': 'x' }, entrypoint: '../escape.ts' }, /\.\./],
  ];
  for (const [body, message] of cases) {
    await assert.rejects(deploy(a, body), (e: Error) => /→ 400/.test(e.message) && message.test(e.message));
  }
  await assert.rejects(platform(`/projects/${a.ref}/functions/broken`), /404/);
});

test('secrets reach the function, change without a redeploy, and are never returned', async () => {
  await platform(`/projects/${a.ref}/secrets`, { method: 'POST', json: [{ name: 'GREETING', value: 'hi' }] });
  await deploy(a, { slug: 'secret', source: `Deno.serve(() => new Response(Deno.env.get('GREETING') ?? 'none'))` });
  const first = await supabase(a).functions.invoke('secret');
  assert.equal(first.data, 'hi');
  await platform(`/projects/${a.ref}/secrets`, { method: 'POST', json: [{ name: 'GREETING', value: 'hello again' }] });
  assert.equal((await supabase(a).functions.invoke('secret')).data, 'hello again');
  const listed = await platform(`/projects/${a.ref}/secrets`);
  assert.deepEqual(listed.map((s: { name: string }) => s.name), ['GREETING']);
  assert.ok(!JSON.stringify(listed).includes('hello again'));
  await assert.rejects(platform(`/projects/${a.ref}/secrets`, { method: 'POST', json: [{ name: 'SUPABASE_URL', value: 'x' }] }), /400/);
  await platform(`/projects/${a.ref}/secrets`, { method: 'DELETE', json: ['GREETING'] });
  assert.equal((await supabase(a).functions.invoke('secret')).data, 'none');
  assert.equal((await supabase(b).functions.invoke('secret')).error?.constructor, FunctionsHttpError, "B has no function named secret");
});

test('every deploy is a version; rollback activates an older one', async () => {
  await deploy(a, { slug: 'versioned', source: `Deno.serve(() => new Response('one'))` });
  const v2 = await deploy(a, { slug: 'versioned', source: `Deno.serve(() => new Response('two'))` });
  assert.equal(v2.version, 2);
  assert.equal((await supabase(a).functions.invoke('versioned')).data, 'two');
  await platform(`/projects/${a.ref}/functions/versioned/rollback`, { method: 'POST', json: { version: 1 } });
  assert.equal((await supabase(a).functions.invoke('versioned')).data, 'one');
  const got = await platform(`/projects/${a.ref}/functions/versioned`);
  assert.deepEqual(got.versions.map((v: { version: number }) => v.version), [1, 2]);
  await assert.rejects(platform(`/projects/${a.ref}/functions/versioned/rollback`, { method: 'POST', json: { version: 9 } }), /404/);
  await platform(`/projects/${a.ref}/functions/versioned`, { method: 'DELETE' });
  assert.equal((await raw(a, 'versioned', { headers: { authorization: `Bearer ${a.anonKey}` } })).status, 404);
});

test('verify_jwt: on by default (anon key qualifies, other projects do not), off when deployed so', async () => {
  await deploy(a, { slug: 'guarded', source: `Deno.serve(() => new Response('in'))` });
  await deploy(a, { slug: 'open', source: `Deno.serve(() => new Response('open'))`, verify_jwt: false });
  const none = await raw(a, 'guarded', { method: 'POST' });
  assert.equal(none.status, 401);
  assert.match(none.body, /Missing authorization header/);
  const forged = await raw(a, 'guarded', { method: 'POST', headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.' } });
  assert.equal(forged.status, 401);
  const foreign = await raw(a, 'guarded', { method: 'POST', headers: { authorization: `Bearer ${b.anonKey}` } });
  assert.equal(foreign.status, 401);
  assert.equal((await raw(a, 'guarded', { method: 'POST', headers: { authorization: `Bearer ${a.token({ sub: crypto.randomUUID() })}` } })).body, 'in');
  assert.equal((await raw(a, 'open', { method: 'GET' })).body, 'open');
});

test('a thrown error is a JSON 500 that supabase-js reports, logged with the console output', async () => {
  await deploy(a, { slug: 'thrower', source: `Deno.serve(() => { console.error('about to fail'); throw new Error('kaboom'); })` });
  const { error } = await supabase(a).functions.invoke('thrower');
  assert.ok(error instanceof FunctionsHttpError);
  const body = await (error.context as Response).json();
  assert.deepEqual(body, { code: 'function_error', message: 'kaboom' });
  const [last] = await platform(`/projects/${a.ref}/functions/thrower/logs`);
  assert.equal(last.status, 500);
  assert.match(last.logs, /about to fail/);
  assert.match(last.logs, /kaboom/);
});

test('the wall-time limit answers a relay error, and the next call gets a fresh isolate', async () => {
  await deploy(a, { slug: 'sleepy', timeout_ms: 400, source: `let calls = 0; Deno.serve(async (req) => { calls++; if ((await req.json()).sleep) await new Promise((r) => setTimeout(r, 5000)); return new Response('calls=' + calls); })` });
  const started = Date.now();
  const { error } = await supabase(a).functions.invoke('sleepy', { body: { sleep: true } });
  assert.ok(error instanceof FunctionsRelayError, String(error));
  assert.ok(Date.now() - started < 4500, "answered at the wall-time limit, not after the 5 s sleep");
  assert.equal((error.context as Response).status, 504);
  const again = await supabase(a).functions.invoke('sleepy', { body: { sleep: false } });
  assert.equal(again.data, 'calls=1', `a fresh isolate, not the stuck one: ${again.error && (await (again.error.context as Response).text())}`);
});

test('no host environment or filesystem is visible', async () => {
  await deploy(a, {
    slug: 'snoop',
    source: `Deno.serve(async () => {
      const env = Deno.env.toObject();
      let fsRead = 'blocked';
      try { const fs = await import('node:fs'); fs.readFileSync('/etc/passwd'); fsRead = 'read'; } catch {}
      return Response.json({ keys: Object.keys(env).sort(), path: (globalThis as any).process?.env?.PATH ?? null, database: (globalThis as any).process?.env?.DATABASE_URL ?? null, fsRead });
    })`,
  });
  const { data } = await supabase(a).functions.invoke('snoop');
  assert.deepEqual(data.keys, ['BASALT_PROJECT_REF', 'BASALT_URL', 'SUPABASE_ANON_KEY', 'SUPABASE_URL']);
  assert.equal(data.path, null);
  assert.equal(data.database, null);
  assert.equal(data.fsRead, 'blocked');
});

test('the service_role key is injected only when the function opts in', async () => {
  const src = `Deno.serve(() => Response.json({ service: Deno.env.get('SUPABASE_SERVICE_ROLE_KEY') ?? null }))`;
  await deploy(a, { slug: 'plain', source: src });
  await deploy(a, { slug: 'admin', source: src, allow_service_role: true });
  assert.equal((await supabase(a).functions.invoke('plain')).data.service, null);
  assert.equal((await supabase(a).functions.invoke('admin')).data.service, a.serviceKey);
});

test('per-function rate limit answers 429', async () => {
  await platform(`/projects/${b.ref}`, { method: 'PATCH', json: { settings: { functions: { function_rps: 3 } } } });
  await deploy(b, { slug: 'limited', source: `Deno.serve(() => new Response('ok'))`, verify_jwt: false });
  await raw(b, 'limited'); // boot the isolate outside the measured second
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
  const statuses = await Promise.all(Array.from({ length: 8 }, () => raw(b, 'limited').then((r) => r.status)));
  assert.ok(statuses.filter((s) => s === 200).length <= 3, statuses.join(','));
  assert.ok(statuses.includes(429), statuses.join(','));
});

test('a function whose isolate grows past the memory limit is killed and answered with 546', async () => {
  await deploy(b, {
    slug: 'hog',
    verify_jwt: false,
    timeout_ms: 20_000,
    source: `const keep: Uint8Array[] = [];
      Deno.serve(async () => { for (let i = 0; i < 80; i++) { const a = new Uint8Array(8 * 1024 * 1024); a.fill(1); keep.push(a); await new Promise((r) => setTimeout(r, 20)); } await new Promise((r) => setTimeout(r, 3000)); return new Response('survived'); })`,
  });
  const r = await raw(b, 'hog', { method: 'POST' });
  assert.equal(r.status, 546, r.body);
  assert.match(r.body, /memory limit/);
  assert.equal(r.headers.get('x-relay-error'), 'true');
});
