// Outbound calls made for a project go through the egress policy: an SMTP host, an OAuth token or userinfo
// endpoint, or an OIDC JWKS URL on loopback is refused with a clear egress_blocked error before anything is
// sent. The same stand-ins on 127.0.0.77 (the test fleet's BASALT_EGRESS_ALLOW) work: see limits and oauth tests.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { createProject } from '@basalt/testkit';
import { startFakeOAuth } from './fake-oauth.js';
import { startFakeSmtp } from './fake-smtp.js';
import { outbox, raw, setAuthSettings, uniqueEmail } from './helpers.js';

const local = await startFakeOAuth('127.0.0.1');
const allowed = await startFakeOAuth();
const smtp = await startFakeSmtp('127.0.0.1');
after(() => Promise.all([local.close(), allowed.close(), smtp.close()]));

async function closedPort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

test('an SMTP host on loopback, however spelled: sign-up answers egress_blocked, the same for an open or closed port, and nothing is sent', async () => {
  const p = await createProject('auth-egress-smtp');
  const bodies = new Set<string>();
  for (const [host, port] of [['127.0.0.1', smtp.port], ['127.0.0.1', await closedPort()], ['localhost', smtp.port], ['2130706433', smtp.port], ['::ffff:127.0.0.1', smtp.port]] as const) {
    await setAuthSettings(p, { email_confirm_required: true, smtp: { host, port, admin_email: 'noreply@app.test' } });
    const r = await raw(p, '/signup', { method: 'POST', json: { email: uniqueEmail('egress'), password: 'egress-pass-1' } });
    assert.equal(r.status, 403, `${host}:${port} ${JSON.stringify(r.body)}`);
    assert.equal(r.body.code, 'egress_blocked');
    assert.match(r.body.message, /SMTP host is not reachable/);
    if (host === '127.0.0.1') bodies.add(JSON.stringify(r.body));
  }
  assert.equal(bodies.size, 1, 'an open and a closed port give the same answer');
  assert.equal(smtp.connections(), 0);
  assert.deepEqual(await outbox(p), [], 'nor was the mail diverted to the outbox');
});

/** authorize → the provider approves → our callback; returns the error_code in the fragment the app gets back. */
async function oauthErrorCode(url: string, authorizeAt: string): Promise<string | null> {
  const start = await fetch(`${url}/auth/v1/authorize?provider=github&redirect_to=http://app.test/cb`, { redirect: 'manual' });
  const toProvider = start.headers.get('location')!;
  assert.ok(toProvider.startsWith(authorizeAt), toProvider);
  const approved = await fetch(toProvider, { redirect: 'manual' });
  const back = await fetch(approved.headers.get('location')!, { redirect: 'manual' });
  assert.equal(back.status, 302);
  return new URLSearchParams(new URL(back.headers.get('location')!).hash.slice(1)).get('error_code');
}

test('OAuth endpoints on loopback: the callback reports egress_blocked and neither the code nor the token leaves', async () => {
  const p = await createProject('auth-egress-oauth');
  local.next.github = { id: '1', email: uniqueEmail('gh'), verified: true, name: 'Local' };
  allowed.next.github = { id: '2', email: uniqueEmail('gh'), verified: true, name: 'Allowed' };
  await setAuthSettings(p, { uri_allow_list: ['http://app.test/**'], external: { github: local.settings('github') } });
  assert.equal(await oauthErrorCode(p.url, local.url), 'egress_blocked');
  assert.deepEqual(local.requests, ['github/authorize'], 'the token endpoint was never called');
  // Token exchange at an allowed provider, profile from loopback: refused at the userinfo call.
  await setAuthSettings(p, { uri_allow_list: ['http://app.test/**'], external: { github: { ...allowed.settings('github'), user_url: `${local.url}/github/user` } } });
  assert.equal(await oauthErrorCode(p.url, allowed.url), 'egress_blocked');
  assert.deepEqual(allowed.requests, ['github/authorize', 'github/token']);
  assert.deepEqual(local.requests, ['github/authorize']);
});

test('an OIDC JWKS URL on loopback: signInWithIdToken answers egress_blocked without fetching the keys', async () => {
  const p = await createProject('auth-egress-oidc');
  await setAuthSettings(p, { external: { google: local.settings('google') } });
  const now = Math.floor(Date.now() / 1000);
  const token = local.signIdToken({ iss: 'https://accounts.google.com', aud: 'google-client', sub: 'g-1', iat: now, exp: now + 600 });
  const r = await raw(p, '/token?grant_type=id_token', { method: 'POST', json: { provider: 'google', id_token: token } });
  assert.equal(r.status, 403, JSON.stringify(r.body));
  assert.equal(r.body.code, 'egress_blocked');
  assert.match(r.body.message, /signing keys are not reachable/);
  assert.ok(!local.requests.includes('google/certs'));
});
