// Asymmetric JWT signing keys, Supabase's model: keys created through the Management API shape, published at
// /auth/v1/.well-known/jwks.json, user tokens signed by the key in use (kid in the header) and verified by every
// service and by supabase-js getClaims() locally; a rotation keeps earlier tokens valid until their key is
// revoked; HS256 (the anon and service_role keys) keeps working throughout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject, platform, supabaseClient } from '@basalt/testkit';
import { client, uniqueEmail } from './helpers.js';

const p = await createProject('auth-signing-keys');
const other = await createProject('auth-signing-keys-other');
await p.sql(`create table notes (id serial primary key, owner uuid not null default auth.uid(), body text);
  alter table notes enable row level security;
  create policy own on notes for all to authenticated using (owner = auth.uid()) with check (owner = auth.uid());`);

interface KeyView { id: string; algorithm: string; status: string; public_jwk: Record<string, unknown>; created_at: string; updated_at: string }
const keysPath = `/projects/${p.ref}/config/auth/signing-keys`;
const header = (token: string) => JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()) as { alg: string; kid?: string };
const jwks = async (ref = p.ref) => (await (await fetch(`${process.env.BASALT_TEST_GATEWAY_URL}/project/${ref}/auth/v1/.well-known/jwks.json`)).json()) as { keys: { kid: string; kty: string; d?: unknown }[] };

/** A platform call that is expected to fail: its status and body. */
async function platformRaw(path: string, init: RequestInit & { json?: unknown } = {}) {
  const r = await fetch(`${process.env.BASALT_TEST_GATEWAY_URL}/platform/v1${path}`, {
    ...init,
    headers: { authorization: `Bearer ${process.env.BASALT_TEST_PLATFORM_TOKEN}`, 'content-type': 'application/json' },
    body: init.json !== undefined ? JSON.stringify(init.json) : undefined,
  });
  return { status: r.status, body: (await r.json()) as { code: string; message: string } };
}

async function signedIn() {
  const email = uniqueEmail('keys');
  const sb = client(p);
  const { data, error } = await sb.auth.signUp({ email, password: 'keys-pass-1' });
  assert.equal(error, null);
  return { sb, token: data.session!.access_token };
}

/** A REST call with a user's token: inserts a note and reads it back, or the status it failed with. */
async function restWorks(token: string): Promise<number | 'ok'> {
  const sb = supabaseClient(p, { accessToken: token });
  const { error, status } = await sb.from('notes').insert({ body: 'hello' });
  if (error) return status;
  const read = await sb.from('notes').select('body');
  return read.error ? read.status : 'ok';
}

test('the key lifecycle: standby is published, in_use signs, a rotation keeps old tokens, revoked ones stop working', async () => {
  assert.deepEqual(await platform(keysPath), { keys: [] });
  const before = await signedIn();
  assert.equal(header(before.token).alg, 'HS256', 'no key in use: the shared secret signs');

  const es = await platform<KeyView>(keysPath, { method: 'POST', json: { algorithm: 'ES256' } });
  assert.equal(es.status, 'standby');
  assert.deepEqual({ kty: es.public_jwk.kty, crv: es.public_jwk.crv, alg: es.public_jwk.alg, kid: es.public_jwk.kid }, { kty: 'EC', crv: 'P-256', alg: 'ES256', kid: es.id });
  assert.equal(es.public_jwk.d, undefined, 'no private part is ever shown');
  assert.deepEqual((await jwks()).keys.map((k) => k.kid), [es.id], 'a standby key is published ahead of use');
  assert.equal(header((await signedIn()).token).alg, 'HS256', 'standby does not sign');

  const inUse = await platform<KeyView>(`${keysPath}/${es.id}`, { method: 'PATCH', json: { status: 'in_use' } });
  assert.equal(inUse.status, 'in_use');
  const first = await signedIn();
  assert.deepEqual(header(first.token), { alg: 'ES256', kid: es.id, typ: 'JWT' });
  assert.equal(await restWorks(first.token), 'ok', 'REST verifies the ES256 token and RLS sees its user');
  assert.equal((await first.sb.auth.getUser()).error, null);
  const claims = await first.sb.auth.getClaims();
  assert.equal(claims.error, null);
  assert.equal(claims.data?.header.kid, es.id, 'getClaims verified it against the JWKS');
  assert.equal(await restWorks(before.token), 'ok', 'HS256 tokens issued before still verify');

  // rotate: an RS256 key goes into use, the ES256 key becomes previously_used and its tokens keep working
  const rs = await platform<KeyView>(keysPath, { method: 'POST', json: { algorithm: 'RS256', status: 'in_use' } });
  assert.equal(rs.status, 'in_use');
  assert.equal((await platform<KeyView>(`${keysPath}/${es.id}`)).status, 'previously_used');
  const second = await signedIn();
  assert.deepEqual(header(second.token), { alg: 'RS256', kid: rs.id, typ: 'JWT' });
  assert.equal((await second.sb.auth.getClaims()).data?.header.alg, 'RS256');
  assert.equal(await restWorks(second.token), 'ok');
  assert.equal(await restWorks(first.token), 'ok', 'a previously used key still verifies its tokens');
  assert.deepEqual(new Set((await jwks()).keys.map((k) => k.kid)), new Set([es.id, rs.id]));

  // revoke the ES256 key: its tokens stop working everywhere, and it leaves the JWKS
  assert.equal((await platform<KeyView>(`${keysPath}/${es.id}`, { method: 'PATCH', json: { status: 'revoked' } })).status, 'revoked');
  assert.equal(await restWorks(first.token), 401);
  const gone = await first.sb.auth.getUser(first.token);
  assert.equal(gone.error?.status, 403);
  assert.deepEqual((await jwks()).keys.map((k) => k.kid), [rs.id]);
  assert.equal(await restWorks(second.token), 'ok');

  // the anon key (HS256) still reaches the API
  assert.equal((await client(p).from('notes').select('id')).error, null);

  // refusals: the key in use cannot be revoked or deleted, a revoked key cannot come back, only revoked keys delete
  const refuse = async (path: string, init: RequestInit & { json?: unknown }) => {
    const r = await platformRaw(path, init);
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'validation_failed');
    return r.body.message;
  };
  assert.match(await refuse(`${keysPath}/${rs.id}`, { method: 'PATCH', json: { status: 'revoked' } }), /key in use cannot change status/);
  assert.match(await refuse(`${keysPath}/${es.id}`, { method: 'PATCH', json: { status: 'in_use' } }), /revoked key cannot become in_use/);
  assert.match(await refuse(`${keysPath}/${rs.id}`, { method: 'DELETE' }), /Only a revoked key can be deleted/);
  assert.equal((await platform<KeyView>(`${keysPath}/${es.id}`, { method: 'DELETE' })).id, es.id);
  assert.deepEqual((await platform<{ keys: KeyView[] }>(keysPath)).keys.map((k) => k.id), [rs.id]);
  const unknown = await platformRaw(`${keysPath}/00000000-0000-0000-0000-000000000000`);
  assert.deepEqual([unknown.status, unknown.body.code], [404, 'signing_key_not_found']);
  const bad = await platformRaw(keysPath, { method: 'POST', json: { algorithm: 'HS512' } });
  assert.deepEqual([bad.status, bad.body.code], [400, 'validation_failed']);
});

test('one project\'s signing key means nothing to another project', async () => {
  const key = await platform<KeyView>(`/projects/${other.ref}/config/auth/signing-keys`, { method: 'POST', json: { algorithm: 'ES256', status: 'in_use' } });
  const sb = client(other);
  const { data } = await sb.auth.signUp({ email: uniqueEmail('other'), password: 'keys-pass-1' });
  const token = data.session!.access_token;
  assert.equal(header(token).kid, key.id);
  assert.equal(await restWorks(token), 401, 'project B\'s token is refused by project A');
  assert.ok(!(await jwks()).keys.some((k) => k.kid === key.id));
});
