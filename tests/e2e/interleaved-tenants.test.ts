// Many tenants on one fleet, their requests interleaved at random (catalogue T4): REST reads (coalesced per pool),
// RPC, auth, storage and a project named by its opaque key alone, from several projects at once through the
// same gateway and service processes. Every answer carries its own project's marker and never another's.
// The order comes from a seeded generator: a failure names its seed (BASALT_TEST_SEED repeats it).
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { createProject, platform, seededRandom, testEnv, type TestProject, testSeed } from '@basalt/testkit';

const TENANTS = 4;
const REQUESTS = 400;
const CONCURRENCY = 32;
const seed = testSeed();

interface Tenant { p: TestProject; email: string; userToken: string; secretKey: string }
let tenants: Tenant[] = [];

before(async () => {
  tenants = await Promise.all(Array.from({ length: TENANTS }, async (_, i) => {
    const p = await createProject(`interleaved-${i}`);
    await p.sql(`create table public.marks (id int primary key, ref text not null);
      insert into public.marks select g, '${p.ref}' from generate_series(1, 3) g;
      create policy r on public.marks for select to anon, authenticated using (true);
      create function public.whoami() returns json language sql stable as $$
        select json_build_object('db', current_database(), 'ref', (select ref from public.marks limit 1), 'sub', auth.uid()) $$;`);
    const email = `t${i}-${Date.now()}@example.com`;
    const signup = await fetch(`${p.url}/auth/v1/signup`, {
      method: 'POST', headers: { apikey: p.anonKey, 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'interleaved-pass-1' }),
    });
    const session = (await signup.json()) as { access_token: string };
    assert.ok(session.access_token, `sign-up in ${p.ref}`);
    const bucket = await fetch(`${p.url}/storage/v1/bucket`, {
      method: 'POST', headers: { apikey: p.serviceKey, authorization: `Bearer ${p.serviceKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'marks', name: 'marks', public: false }),
    });
    assert.equal(bucket.status, 200, await bucket.text());
    const put = await fetch(`${p.url}/storage/v1/object/marks/mark.txt`, {
      method: 'POST', headers: { apikey: p.serviceKey, authorization: `Bearer ${p.serviceKey}`, 'content-type': 'text/plain' }, body: p.ref,
    });
    assert.equal(put.status, 200, await put.text());
    const secret = await platform<{ api_key: string }>(`/projects/${p.ref}/api-keys`, { method: 'POST', json: { type: 'secret', name: 'interleaved' } });
    return { p, email, userToken: session.access_token, secretKey: secret.api_key };
  }));
});

type Kind = 'rest-anon' | 'rest-user' | 'rpc' | 'auth-user' | 'storage' | 'opaque-key-alone';
const KINDS: Kind[] = ['rest-anon', 'rest-user', 'rpc', 'auth-user', 'storage', 'opaque-key-alone'];

/** The request of that kind against the tenant, and what in its answer names the project it came from. */
async function ask(t: Tenant, kind: Kind): Promise<string> {
  const { p } = t;
  const as = (token: string, key = p.anonKey) => ({ apikey: key, authorization: `Bearer ${token}` });
  const json = async (r: Response) => {
    const text = await r.text();
    assert.equal(r.status, 200, `${kind} in ${p.ref}: ${r.status} ${text}`);
    return JSON.parse(text);
  };
  switch (kind) {
    case 'rest-anon':
      return [...new Set((await json(await fetch(`${p.url}/rest/v1/marks?select=ref`, { headers: as(p.anonKey) }))).map((r: { ref: string }) => r.ref))].join();
    case 'rest-user':
      return [...new Set((await json(await fetch(`${p.url}/rest/v1/marks?select=ref&id=lte.2`, { headers: as(t.userToken) }))).map((r: { ref: string }) => r.ref))].join();
    case 'rpc': {
      const me = await json(await fetch(`${p.url}/rest/v1/rpc/whoami`, { method: 'POST', headers: { ...as(t.userToken), 'content-type': 'application/json' }, body: '{}' }));
      assert.equal(me.db.includes(p.ref), true, `rpc ran in ${me.db}`);
      assert.ok(me.sub, 'as the signed-in user');
      return me.ref;
    }
    case 'auth-user': {
      const user = await json(await fetch(`${p.url}/auth/v1/user`, { headers: as(t.userToken) }));
      return user.email === t.email ? p.ref : `the user ${user.email}`;
    }
    case 'storage': {
      const r = await fetch(`${p.url}/storage/v1/object/authenticated/marks/mark.txt`, { headers: as(p.serviceKey, p.serviceKey) });
      const text = await r.text();
      assert.equal(r.status, 200, `${kind} in ${p.ref}: ${text}`);
      return text;
    }
    case 'opaque-key-alone':
      // no /project/<ref> in the path: the key alone says which project
      return [...new Set((await json(await fetch(`${testEnv().gatewayUrl}/rest/v1/marks?select=ref`, { headers: { apikey: t.secretKey } }))).map((r: { ref: string }) => r.ref))].join();
  }
}

test(`${REQUESTS} requests of ${TENANTS} tenants interleaved at random each answer from their own project`, async () => {
  const next = seededRandom(seed);
  const plan = Array.from({ length: REQUESTS }, () => ({ t: tenants[Math.floor(next() * TENANTS)]!, kind: KINDS[Math.floor(next() * KINDS.length)]! }));
  const wrong: string[] = [];
  let at = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (at < plan.length) {
      const { t, kind } = plan[at++]!;
      const got = await ask(t, kind);
      if (got !== t.p.ref) wrong.push(`${kind} for ${t.p.ref} answered ${got}`);
    }
  }));
  assert.deepEqual(wrong, [], `seed ${seed}`);
});
