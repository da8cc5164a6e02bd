// A project whose functions target Cloudflare Workers for Platforms, against a stand-in of Cloudflare's API that
// this file starts on 127.0.0.77 (the test fleet's BASALT_EGRESS_ALLOW): deploys upload the script with its
// bindings, secrets follow, invocations reach the dispatch Worker (the stand-in too: it runs nothing and echoes
// what it got with the script's bindings), removal deletes it, an upstream refusal is a 502 that changes nothing,
// a loopback API URL is refused by the egress policy, and a local-target project never touches the API.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { createProject, platform, supabaseClient, testEnv, type TestProject } from '@basalt/testkit';

interface Part { name: string; filename: string | null; type: string | null; content: string }
interface Script { metadata: { main_module: string; bindings: { type: string; name: string; text: string }[]; compatibility_date: string; compatibility_flags: string[] }; modules: Part[] }

const TOKEN = 'cf-test-token-7d1e';
const ACCOUNT = 'acc0123456789';
const NS = 'basalt-test';

/** multipart/form-data as Cloudflare reads it: each part's name, filename and own content type */
function parseMultipart(body: string, contentType: string): Part[] {
  const boundary = /boundary=([^;]+)/.exec(contentType)?.[1];
  assert.ok(boundary, contentType);
  return body.split(`--${boundary}`).slice(1, -1).map((raw) => {
    const cut = raw.indexOf('\r\n\r\n');
    const head = raw.slice(2, cut);
    const disposition = /content-disposition: form-data; name="([^"]+)"(?:; filename="([^"]+)")?/i.exec(head);
    assert.ok(disposition, head);
    return { name: disposition[1], filename: disposition[2] ?? null, type: /content-type: (.+)/i.exec(head)?.[1].trim() ?? null, content: raw.slice(cut + 4, -2) };
  });
}

/** The stand-in: Cloudflare's v4 API for dispatch-namespace scripts, and the operator's dispatch Worker. */
const cf = {
  scripts: new Map<string, Script>(),
  calls: [] as { method: string; path: string }[],
  /** invocations the dispatch Worker received */
  dispatched: 0,
  /** answered (once) to the next API call instead of doing it */
  failNext: null as null | { status: number; code: number; message: string },
  port: 0,
};
const envelope = (result: unknown, errors: { code: number; message: string }[] = []) =>
  JSON.stringify({ success: errors.length === 0, errors, messages: [], result: errors.length ? null : result });

const standIn = http.createServer(async (req, res) => {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  const body = Buffer.concat(parts).toString('utf8');
  const reply = (status: number, text: string) => void res.writeHead(status, { 'content-type': 'application/json' }).end(text);
  const script = req.headers['x-basalt-script'];
  if (typeof script === 'string') {
    cf.dispatched++;
    const s = cf.scripts.get(script);
    if (!s) return reply(404, JSON.stringify({ error: `Worker not found: ${script}` }));
    const { host: _host, ...headers } = req.headers;
    return reply(200, JSON.stringify({ script, method: req.method, path: req.url, headers, body, bindings: Object.fromEntries(s.metadata.bindings.map((b) => [b.name, b.text])) }));
  }
  const m = /^\/client\/v4\/accounts\/([^/]+)\/workers\/dispatch\/namespaces\/([^/]+)\/scripts\/([^/?]+)(\/secrets(?:\/([^/?]+))?)?(\?.*)?$/.exec(req.url!);
  if (!m) return reply(404, envelope(null, [{ code: 7003, message: 'No route for the URI' }]));
  cf.calls.push({ method: req.method!, path: req.url! });
  if (req.headers.authorization !== `Bearer ${TOKEN}`) return reply(403, envelope(null, [{ code: 10000, message: 'Authentication error' }]));
  if (m[1] !== ACCOUNT || m[2] !== NS) return reply(404, envelope(null, [{ code: 10092, message: 'namespace not found' }]));
  if (cf.failNext) {
    const f = cf.failNext;
    cf.failNext = null;
    return reply(f.status, envelope(null, [{ code: f.code, message: f.message }]));
  }
  const name = decodeURIComponent(m[3]);
  const existing = cf.scripts.get(name);
  const missing = () => reply(404, envelope(null, [{ code: 10007, message: 'workers.api.error.script_not_found' }]));
  if (!m[4] && req.method === 'PUT') {
    const modules = parseMultipart(body, req.headers['content-type'] ?? '');
    const metadata = JSON.parse(modules.find((p) => p.name === 'metadata')!.content);
    cf.scripts.set(name, { metadata, modules: modules.filter((p) => p.name !== 'metadata') });
    return reply(200, envelope({ id: name, etag: String(cf.calls.length), has_modules: true, compatibility_date: metadata.compatibility_date }));
  }
  if (!m[4] && req.method === 'DELETE') {
    if (!existing) return missing();
    cf.scripts.delete(name);
    return reply(200, envelope(null));
  }
  if (!existing) return missing();
  const bindings = existing.metadata.bindings;
  if (m[4] && !m[5] && req.method === 'PUT') {
    const secret = JSON.parse(body) as { name: string; text: string; type: string };
    assert.equal(secret.type, 'secret_text');
    existing.metadata.bindings = [...bindings.filter((b) => b.name !== secret.name), { type: 'secret_text', name: secret.name, text: secret.text }];
    return reply(200, envelope({ name: secret.name, type: 'secret_text' }));
  }
  if (m[5] && req.method === 'DELETE') {
    existing.metadata.bindings = bindings.filter((b) => b.name !== decodeURIComponent(m[5]));
    return reply(200, envelope(null));
  }
  reply(405, envelope(null, [{ code: 10000, message: 'method not allowed' }]));
});

let a: TestProject;
let b: TestProject;
let c: TestProject;
const canary = { hits: 0, server: http.createServer((_req, res) => { canary.hits++; res.end('{}'); }) };

const target = (apiHost = '127.0.0.77', apiPort = cf.port) => ({
  kind: 'cloudflare', account_id: ACCOUNT, namespace: NS, api_token: TOKEN,
  dispatch_url: `http://127.0.0.77:${cf.port}/`, api_url: `http://${apiHost}:${apiPort}/client/v4`,
});
const deploy = (p: TestProject, body: Record<string, unknown>) => platform(`/projects/${p.ref}/functions`, { method: 'POST', json: body });
const invoke = async (p: TestProject, slug: string, body?: Record<string, unknown>) => {
  const { data, error } = await supabaseClient(p).functions.invoke(slug, { body, headers: { 'x-trace': 'remote-1' } });
  assert.equal(error, null, error ? String(await (error.context as Response).text()) : '');
  return data;
};
const source = (marker: string) => `Deno.serve(() => Response.json({ marker: '${marker}', greeting: Deno.env.get('GREETING') ?? null }))`;

before(async () => {
  await new Promise<void>((r) => standIn.listen(0, '127.0.0.77', r));
  cf.port = (standIn.address() as AddressInfo).port;
  await new Promise<void>((r) => canary.server.listen(0, '127.0.0.1', r));
  [a, b, c] = await Promise.all([createProject('fn-remote-a'), createProject('fn-remote-b'), createProject('fn-remote-c')]);
  await platform(`/projects/${a.ref}`, { method: 'PATCH', json: { settings: { functions: { target: target() } } } });
  await platform(`/projects/${c.ref}`, { method: 'PATCH', json: { settings: { functions: { target: target('127.0.0.1', (canary.server.address() as AddressInfo).port) } } } });
});
after(async () => {
  standIn.closeAllConnections();
  canary.server.closeAllConnections();
  await Promise.all([new Promise((r) => standIn.close(r)), new Promise((r) => canary.server.close(r))]);
});

test('the target is validated, its api_token stored sealed and shown redacted', async () => {
  await assert.rejects(platform(`/projects/${b.ref}`, { method: 'PATCH', json: { settings: { functions: { target: { kind: 'cloudflare', account_id: ACCOUNT } } } } }), /→ 400/);
  const shown = await platform(`/projects/${a.ref}`);
  assert.equal(shown.settings.functions.target.api_token, '********');
  assert.equal(shown.settings.functions.target.namespace, NS);
  const db = new pg.Client({ connectionString: testEnv().databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query('select settings::text as s from platform.projects where ref = $1', [a.ref]);
    assert.ok(!rows[0].s.includes(TOKEN), 'the token is not stored in the clear');
    assert.match(rows[0].s, /"api_token": "sealed:/);
  } finally {
    await db.end();
  }
});

test('a deploy uploads the script: metadata, the env as plain_text, secrets as secret_text, the modules', async () => {
  await platform(`/projects/${a.ref}/secrets`, { method: 'POST', json: [{ name: 'GREETING', value: 'hi' }] });
  const fn = await deploy(a, { slug: 'hello', source: source('v1') });
  assert.equal(fn.version, 1);
  const s = cf.scripts.get(`${a.ref}--hello`);
  assert.ok(s, `uploaded as <ref>--<slug>: ${[...cf.scripts.keys()].join(',')}`);
  assert.equal(s.metadata.main_module, 'index.js');
  assert.equal(s.metadata.compatibility_date, '2024-09-23');
  assert.deepEqual(s.metadata.compatibility_flags, ['nodejs_compat']);
  const byName = Object.fromEntries(s.metadata.bindings.map((x) => [x.name, x]));
  assert.deepEqual(Object.keys(byName).sort(), ['BASALT_PROJECT_REF', 'BASALT_URL', 'GREETING', 'SUPABASE_ANON_KEY', 'SUPABASE_URL'], 'the env a local isolate gets, no service key');
  assert.deepEqual(byName.GREETING, { type: 'secret_text', name: 'GREETING', text: 'hi' });
  assert.deepEqual(byName.SUPABASE_ANON_KEY, { type: 'plain_text', name: 'SUPABASE_ANON_KEY', text: a.anonKey });
  assert.equal(byName.BASALT_PROJECT_REF.text, a.ref);
  assert.match(byName.SUPABASE_URL.text, new RegExp(`/project/${a.ref}$`));
  assert.deepEqual(s.modules.map((p) => [p.name, p.filename, p.type]), [
    ['index.js', 'index.js', 'application/javascript+module'],
    ['basalt-env.js', 'basalt-env.js', 'application/javascript+module'],
    ['function.js', 'function.js', 'application/javascript+module'],
  ]);
  assert.match(s.modules[0].content, /import '\.\/basalt-env\.js';\s*export \{ default \} from '\.\/function\.js'/);
  assert.match(s.modules[1].content, /from 'cloudflare:workers'/);
  assert.match(s.modules[2].content, /marker: "v1"|marker: 'v1'/, 'the bundle is the third module');

  await deploy(a, { slug: 'admin', source: source('admin'), allow_service_role: true });
  const admin = cf.scripts.get(`${a.ref}--admin`)!.metadata.bindings.find((x) => x.name === 'SUPABASE_SERVICE_ROLE_KEY');
  assert.deepEqual(admin, { type: 'secret_text', name: 'SUPABASE_SERVICE_ROLE_KEY', text: a.serviceKey }, 'the opted-in service key goes up as a secret');
});

test('supabase-js invocations reach the dispatch Worker with x-basalt-script, path, method, headers and body', async () => {
  const got = await invoke(a, 'hello', { name: 'basalt' });
  assert.equal(got.script, `${a.ref}--hello`);
  assert.equal(got.method, 'POST');
  assert.equal(got.path, '/hello');
  assert.equal(got.body, JSON.stringify({ name: 'basalt' }));
  assert.equal(got.headers.authorization, `Bearer ${a.anonKey}`);
  assert.equal(got.headers['x-trace'], 'remote-1');
  assert.equal(got.bindings.GREETING, 'hi');
  const raw = await fetch(`${a.url}/functions/v1/hello/sub/path?x=1`, { headers: { authorization: `Bearer ${a.anonKey}` } });
  assert.equal(((await raw.json()) as { path: string }).path, '/hello/sub/path?x=1');
  // verify_jwt still applies before anything is sent
  const dispatched = cf.dispatched;
  assert.equal((await fetch(`${a.url}/functions/v1/hello`, { method: 'POST' })).status, 401);
  assert.equal(cf.dispatched, dispatched);
  const logs = await platform(`/projects/${a.ref}/functions/hello/logs`);
  assert.equal(logs[0].status, 200);
});

test('a secrets change reaches every script; removal too', async () => {
  await platform(`/projects/${a.ref}/secrets`, { method: 'POST', json: [{ name: 'GREETING', value: 'hello again' }, { name: 'EXTRA', value: 'x' }] });
  assert.equal((await invoke(a, 'hello')).bindings.GREETING, 'hello again');
  assert.equal((await invoke(a, 'admin')).bindings.EXTRA, 'x');
  assert.ok(cf.calls.some((x) => x.method === 'PUT' && x.path.endsWith(`/scripts/${a.ref}--hello/secrets`)), 'through the secrets endpoint');
  await platform(`/projects/${a.ref}/secrets`, { method: 'DELETE', json: ['EXTRA'] });
  assert.equal((await invoke(a, 'hello')).bindings.EXTRA, undefined);
  assert.equal((await invoke(a, 'admin')).bindings.EXTRA, undefined);
});

test('an upstream refusal is a 502 naming it; the active version, the secrets and the script stay as they were', async () => {
  const before = cf.scripts.get(`${a.ref}--hello`)!.modules[2].content;
  cf.failNext = { status: 403, code: 10000, message: 'Authentication error' };
  await assert.rejects(deploy(a, { slug: 'hello', source: source('v2') }), (e: Error) =>
    /→ 502/.test(e.message) && /remote_target_failed/.test(e.message) && /10000: Authentication error/.test(e.message) && !e.message.includes(TOKEN));
  const fn = await platform(`/projects/${a.ref}/functions/hello`);
  assert.equal(fn.version, 1);
  assert.deepEqual(fn.versions.map((v: { version: number }) => v.version), [1], 'no version was written');
  assert.equal(cf.scripts.get(`${a.ref}--hello`)!.modules[2].content, before);

  cf.failNext = { status: 200, code: 10021, message: 'script validation failed' };
  await assert.rejects(platform(`/projects/${a.ref}/secrets`, { method: 'POST', json: [{ name: 'GREETING', value: 'never' }] }), /→ 502.*10021/);
  assert.equal((await invoke(a, 'hello')).bindings.GREETING, 'hello again', 'the scripts were put back');
  await platform(`/projects/${a.ref}/functions/admin`); // still there

  cf.failNext = { status: 500, code: 10013, message: 'internal' };
  await assert.rejects(platform(`/projects/${a.ref}/functions/hello`, { method: 'DELETE' }), /→ 502/);
  assert.equal((await platform(`/projects/${a.ref}/functions/hello`)).version, 1, 'a failed removal removes nothing');
});

test('rollback uploads the older version; delete removes the script', async () => {
  await deploy(a, { slug: 'hello', source: source('v2') });
  assert.match(cf.scripts.get(`${a.ref}--hello`)!.modules[2].content, /v2/);
  await platform(`/projects/${a.ref}/functions/hello/rollback`, { method: 'POST', json: { version: 1 } });
  assert.match(cf.scripts.get(`${a.ref}--hello`)!.modules[2].content, /v1/);
  await platform(`/projects/${a.ref}/functions/hello`, { method: 'DELETE' });
  assert.equal(cf.scripts.has(`${a.ref}--hello`), false);
  assert.equal((await fetch(`${a.url}/functions/v1/hello`, { headers: { authorization: `Bearer ${a.anonKey}` } })).status, 404);
});

test('the API is reached under the egress policy: a loopback api_url is refused before connecting', async () => {
  await assert.rejects(deploy(c, { slug: 'blocked', source: source('c') }), (e: Error) => /→ 502/.test(e.message) && /not allowed/.test(e.message));
  assert.equal(canary.hits, 0);
  await assert.rejects(platform(`/projects/${c.ref}/functions/blocked`), /404/);
});

test('a project on the local target is unaffected', async () => {
  const calls = cf.calls.length;
  const dispatched = cf.dispatched;
  await deploy(b, { slug: 'hello', source: source('local') });
  const { data } = await supabaseClient(b).functions.invoke('hello');
  assert.deepEqual(data, { marker: 'local', greeting: null });
  assert.equal(cf.calls.length, calls);
  assert.equal(cf.dispatched, dispatched);
  assert.ok(![...cf.scripts.keys()].some((k) => k.startsWith(b.ref)));
  assert.equal((await platform(`/projects/${b.ref}/functions/hello/logs`))[0].status, 200);
});
