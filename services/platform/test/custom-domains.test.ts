// Custom domains route only once their ownership is proven. A private platform process resolves through a test DNS
// server (TXT and A records the test sets) and fetches HTTP challenges from a server on 127.0.0.77 (allowed by
// egress); the fleet's gateway shares its control database and Redis, so routing is checked through the gateway.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, ROOT, waitForHealth } from '@basalt/fleet';
import { createProject, eventually, rawHttp, testEnv, type TestProject } from '@basalt/testkit';
import { startTestDns, type TestDns } from './dns-server.js';

const env = testEnv();
const run = randomBytes(3).toString('hex');
const name = (label: string) => `${label}-${run}.example-basalt.test`;
let dns: TestDns;
let platform: ChildProcess;
let platformUrl = '';
const files = new Map<string, string>();
let files77: http.Server;
let a: TestProject;
let b: TestProject;

interface Reply {
  status: number;
  body: any;
}

async function api(ref: string, path: string, init: { method?: string; json?: unknown } = {}): Promise<Reply> {
  const r = await fetch(`${platformUrl}/platform/v1/projects/${ref}/custom-domains${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${env.platformToken}`, 'content-type': 'application/json' },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}
const claim = (p: TestProject, domain: string) => api(p.ref, '', { method: 'POST', json: { domain } });
const verify = (p: TestProject, domain: string) => api(p.ref, `/${domain}/verify`, { method: 'POST' });
const list = async (p: TestProject) => (await api(p.ref, '')).body as { domain: string; status: string }[];

/** What the gateway serves at / for a Host: a project's site, or its answer for an unknown host. */
async function served(host: string): Promise<string> {
  const r = await rawHttp(env.gatewayUrl, '/', { headers: { host } });
  return `${r.status} ${r.body.toString()}`;
}
let unknownHost = '';

async function publishSite(p: TestProject): Promise<void> {
  const r = await rawHttp(env.gatewayUrl, `/project/${p.ref}/assets/admin/v1/upload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${p.serviceKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ files: [{ path: 'index.html', content: `site of ${p.ref}` }] }),
  });
  assert.equal(r.status, 200, r.body.toString());
}

before(async () => {
  dns = await startTestDns();
  files77 = http.createServer((req, res) => {
    const body = files.get(req.url ?? '');
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'text/plain' }).end(body ?? 'no such file');
  });
  await new Promise<void>((resolve) => files77.listen(0, '127.0.0.77', resolve));
  const port = await freePort();
  platformUrl = `http://127.0.0.1:${port}`;
  platform = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'services/platform/src/main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env, ...env.fleetEnv, PORT: String(port), LOG_LEVEL: 'warn',
      BASALT_DNS_SERVERS: dns.server,
      BASALT_EGRESS_ALLOW: '127.0.0.77',
      CUSTOM_DOMAIN_HTTP_PORT: String((files77.address() as { port: number }).port),
      CUSTOM_DOMAIN_CHECK_TIMEOUT_MS: '2000',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForHealth(platformUrl, 60_000, platform);
  [a, b] = await Promise.all([createProject('domains-a'), createProject('domains-b')]);
  await Promise.all([publishSite(a), publishSite(b)]);
  unknownHost = await served(name('unknown'));
  assert.match(unknownHost, /^404 /);
});

after(async () => {
  platform?.kill('SIGTERM');
  await Promise.all([dns?.close(), new Promise((resolve) => files77?.close(resolve))]);
});

test('a claim is pending with both challenges; bad names are refused in the platform error shape', async () => {
  const domain = name('shape');
  const r = await claim(a, domain.toUpperCase());
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const token = r.body.verification.txt.value as string;
  assert.match(token, /^[a-z0-9]{40}$/);
  const port = (files77.address() as { port: number }).port;
  assert.deepEqual(Object.keys(r.body).sort(), ['created_at', 'domain', 'expires_at', 'status', 'verification']);
  assert.equal(r.body.domain, domain);
  assert.equal(r.body.status, 'pending');
  assert.deepEqual(r.body.verification, {
    http: { url: `http://${domain}:${port}/.well-known/basalt-challenge/${token}`, body: token },
    txt: { name: `_basalt-challenge.${domain}`, value: token },
  });
  const ttl = Date.parse(r.body.expires_at) - Date.parse(r.body.created_at);
  assert.ok(Math.abs(ttl - 7 * 24 * 3_600_000) < 5_000, 'pending claims expire after 7 days');
  const again = await claim(a, domain);
  assert.equal(again.status, 200, 'claiming again returns the same claim');
  assert.equal(again.body.verification.txt.value, token);

  for (const bad of ['127.0.0.1', 'not a domain', 'shop.localhost', `x.${a.ref}.localhost`, '']) {
    const refused = await claim(a, bad);
    assert.equal(refused.status, 400, bad);
    assert.equal(refused.body.code, 'validation_failed');
    assert.equal(typeof refused.body.message, 'string');
  }
  assert.equal((await api(a.ref, `/${domain}`, { method: 'DELETE' })).status, 204);
});

test('a pending domain does not route; a wrong TXT token fails; the right one makes it route', async () => {
  const domain = name('txt');
  const token = (await claim(a, domain)).body.verification.txt.value;
  assert.equal(await served(domain), unknownHost, 'pending answers as an unknown host');

  dns.records.set(`_basalt-challenge.${domain}`, { TXT: ['not-the-token'] });
  const wrong = await verify(a, domain);
  assert.equal(wrong.status, 400);
  assert.equal(wrong.body.code, 'domain_unverified');
  assert.match(wrong.body.message, /TXT _basalt-challenge\..* does not hold the token/);
  assert.match(wrong.body.message, /no A or AAAA record/, 'the HTTP check says why it failed too');
  assert.equal((await list(a)).find((d) => d.domain === domain)?.status, 'pending');
  assert.equal(await served(domain), unknownHost);

  dns.records.set(`_basalt-challenge.${domain}`, { TXT: ['v=other', token] });
  const ok = await verify(a, domain);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.status, 'active');
  assert.equal(ok.body.verified_via, 'txt');
  assert.ok(Date.parse(ok.body.verified_at) > Date.now() - 60_000);
  assert.equal(ok.body.verification, undefined);
  await eventually(async () => (await served(domain)) === `200 site of ${a.ref}`);
  assert.equal((await verify(a, domain)).status, 200, 'verifying an active domain again is harmless');

  // another project can neither claim nor remove it
  const taken = await claim(b, domain);
  assert.equal(taken.status, 409);
  assert.equal(taken.body.code, 'domain_taken');
  assert.equal((await api(b.ref, `/${domain}`, { method: 'DELETE' })).status, 404);
  assert.equal(await served(domain), `200 site of ${a.ref}`);

  assert.equal((await api(a.ref, `/${domain}`, { method: 'DELETE' })).status, 204);
  await eventually(async () => (await served(domain)) === unknownHost);
  assert.equal((await api(a.ref, `/${domain}`, { method: 'DELETE' })).status, 404);
});

test('two projects claim one domain: the first to verify wins and the other claim is gone', async () => {
  const domain = name('race');
  const tokenA = (await claim(a, domain)).body.verification.txt.value;
  const tokenB = (await claim(b, domain)).body.verification.txt.value;
  assert.notEqual(tokenA, tokenB);
  dns.records.set(`_basalt-challenge.${domain}`, { TXT: [tokenB] });
  assert.equal((await verify(a, domain)).status, 400, "B's token does not verify A's claim");
  assert.equal((await verify(b, domain)).status, 200);
  assert.equal((await list(a)).some((d) => d.domain === domain), false, "A's pending claim was removed");
  const late = await verify(a, domain);
  assert.equal(late.status, 404);
  assert.equal(late.body.code, 'domain_not_found');
  await eventually(async () => (await served(domain)) === `200 site of ${b.ref}`);
});

test('an expired claim cannot verify and is pruned', async () => {
  const domain = name('expired');
  const token = (await claim(a, domain)).body.verification.txt.value;
  dns.records.set(`_basalt-challenge.${domain}`, { TXT: [token] });
  const control = new pg.Client({ connectionString: env.databaseUrl });
  await control.connect();
  try {
    await control.query(`update platform.custom_domains set expires_at = now() - interval '1 second' where domain = $1`, [domain]);
    const r = await verify(a, domain);
    assert.equal(r.status, 404);
    assert.equal(r.body.code, 'domain_not_found');
    assert.equal((await control.query('select 1 from platform.custom_domains where domain = $1', [domain])).rowCount, 0);
  } finally {
    await control.end();
  }
  assert.equal(await served(domain), unknownHost);
  assert.equal((await claim(a, domain)).status, 201, 'it can be claimed afresh');
});

test('the HTTP challenge verifies through the egress policy; private addresses it does not allow are refused', async () => {
  const domain = name('http');
  const token = (await claim(a, domain)).body.verification.http.body;
  dns.records.set(domain, { A: ['127.0.0.77'] });
  files.set(`/.well-known/basalt-challenge/${token}`, `${token}\n`);
  const ok = await verify(a, domain);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.verified_via, 'http');
  await eventually(async () => (await served(domain)) === `200 site of ${a.ref}`);

  const internal = name('internal');
  const t2 = (await claim(a, internal)).body.verification.http.body;
  files.set(`/.well-known/basalt-challenge/${t2}`, t2);
  dns.records.set(internal, { A: ['127.0.0.77', '10.0.0.1'] });
  const refused = await verify(a, internal);
  assert.equal(refused.status, 400);
  assert.match(refused.body.message, /not allowed/, 'every address must pass the policy');
});

test('deleting a project removes its domains and they stop routing', async () => {
  const c = await createProject('domains-c');
  await publishSite(c);
  const domain = name('gone');
  const token = (await claim(c, domain)).body.verification.txt.value;
  dns.records.set(`_basalt-challenge.${domain}`, { TXT: [token] });
  assert.equal((await verify(c, domain)).status, 200);
  await eventually(async () => (await served(domain)) === `200 site of ${c.ref}`);
  await c.remove();
  await eventually(async () => (await served(domain)) === unknownHost);
  assert.equal((await claim(a, domain)).status, 201, 'the name is free again');
});
