// A function's fetch under the egress policy, through the gateway: loopback, private, metadata and oddly spelled
// addresses are a 403 egress_blocked the function can read, identical for an open and a closed port; a public
// site (played by 127.0.0.77, the test fleet's BASALT_EGRESS_ALLOW) is reachable, but not its redirect to
// loopback; the project's own gateway stays reachable.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProject, platform, supabaseClient, type TestProject } from '@basalt/testkit';

let p: TestProject;
const hits = { canary: 0 };
const servers: http.Server[] = [];

async function listen(host: string, handle: http.RequestListener): Promise<number> {
  const s = http.createServer(handle);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, host, r));
  return (s.address() as AddressInfo).port;
}

let canaryPort = 0;
let closedPort = 0;
let site = '';

before(async () => {
  p = await createProject('fn-egress');
  canaryPort = await listen('127.0.0.1', (_req, res) => {
    hits.canary++;
    res.end('reached');
  });
  const closing = http.createServer();
  await new Promise<void>((r) => closing.listen(0, '127.0.0.1', r));
  closedPort = (closing.address() as AddressInfo).port;
  await new Promise((r) => closing.close(r));
  const sitePort = await listen('127.0.0.77', (req, res) => {
    const to = new URL(req.url!, 'http://x').searchParams.get('to');
    if (to) return void res.writeHead(302, { location: to }).end();
    res.end('public site');
  });
  site = `http://127.0.0.77:${sitePort}`;
  await platform(`/projects/${p.ref}/functions`, {
    method: 'POST',
    json: {
      slug: 'egress',
      source: `Deno.serve(async (req) => {
        const { url, own } = await req.json();
        const target = own ? Deno.env.get('SUPABASE_URL') + '/functions/v1/hello' : url;
        try {
          const r = await fetch(target, own ? { headers: { authorization: 'Bearer ' + Deno.env.get('SUPABASE_ANON_KEY') } } : {});
          return Response.json({ status: r.status, egress: r.headers.get('x-basalt-egress'), body: await r.text() });
        } catch (e) { return Response.json({ error: String(e) }); }
      })`,
    },
  });
  await platform(`/projects/${p.ref}/functions`, { method: 'POST', json: { slug: 'hello', source: `Deno.serve(() => new Response('own gateway'))` } });
});
after(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));

async function fetchFrom(body: Record<string, unknown>): Promise<{ status?: number; egress?: string; body?: string; error?: string }> {
  const { data, error } = await supabaseClient(p).functions.invoke('egress', { body });
  assert.equal(error, null, String(error));
  return data;
}

test('loopback, private, link-local, metadata and odd IPv4 spellings are a 403 egress_blocked the function reads', async () => {
  const urls = [
    `http://127.0.0.1:${canaryPort}/`, 'http://10.0.0.1/', `http://[::1]:${canaryPort}/`, `http://[::ffff:127.0.0.1]:${canaryPort}/`,
    `http://[::ffff:7f00:1]:${canaryPort}/`, 'http://169.254.169.254/latest/meta-data/', 'http://metadata.google.internal/computeMetadata/v1/',
    `http://2130706433:${canaryPort}/`, `http://0x7f.1:${canaryPort}/`, `http://017700000001:${canaryPort}/`, `http://localhost:${canaryPort}/`,
    'http://100.64.0.1/', 'http://[fd00:ec2::254]/', 'http://0.0.0.0:80/',
  ];
  for (const url of urls) {
    const r = await fetchFrom({ url });
    assert.equal(r.status, 403, `${url}: ${JSON.stringify(r)}`);
    assert.equal(r.egress, 'blocked', url);
    const body = JSON.parse(r.body!);
    assert.equal(body.code, 'egress_blocked', url);
    assert.match(body.message, /not allowed/, url);
  }
  assert.equal(hits.canary, 0, 'the loopback server was never reached');
});

test('the answer for an open and a closed local port is identical: no port-scanning oracle', async () => {
  const open = await fetchFrom({ url: `http://127.0.0.1:${canaryPort}/` });
  const closed = await fetchFrom({ url: `http://127.0.0.1:${closedPort}/` });
  assert.equal(open.status, 403);
  assert.deepEqual(closed, open);
  assert.equal(hits.canary, 0);
});

test('a public site is reachable; its redirect to loopback is refused at that hop', async () => {
  assert.deepEqual(await fetchFrom({ url: `${site}/` }), { status: 200, egress: null, body: 'public site' });
  assert.deepEqual(await fetchFrom({ url: `${site}/?to=${encodeURIComponent(`${site}/again`)}` }), { status: 200, egress: null, body: 'public site' });
  for (const to of [`http://127.0.0.1:${canaryPort}/`, `http://localhost:${canaryPort}/`, 'http://169.254.169.254/']) {
    const r = await fetchFrom({ url: `${site}/?to=${encodeURIComponent(to)}` });
    assert.equal(r.status, 403, `${to}: ${JSON.stringify(r)}`);
    assert.equal(JSON.parse(r.body!).code, 'egress_blocked');
  }
  assert.equal(hits.canary, 0);
});

test("the project's own gateway stays reachable (SUPABASE_URL), though it listens on loopback here", async () => {
  assert.deepEqual(await fetchFrom({ own: true }), { status: 200, egress: null, body: 'own gateway' });
});
