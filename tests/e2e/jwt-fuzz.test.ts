// Tokens mutated at random and tokens validly signed with the project's secret but with claims of every wrong shape
// (catalogue Z2), sent to REST, auth and storage through the gateway: each is refused with a 4xx (or, when its
// claims are merely odd, served as its role allows), never a 5xx, and never more slowly than a bounded time. The
// mutations come from a seeded generator: a failure names its seed (BASALT_TEST_SEED repeats it).
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { before, test } from 'node:test';
import { createProject, seededRandom, type TestProject, testSeed } from '@basalt/testkit';

const seed = testSeed();
const MUTATED = 300;
let p: TestProject;
let other: TestProject;

before(async () => {
  [p, other] = await Promise.all([createProject('jwt-fuzz'), createProject('jwt-fuzz-other')]);
  await p.sql(`create table public.t (id int primary key); insert into public.t values (1);
    create policy r on public.t for select to anon, authenticated using (true);`);
});

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64url');
/** header and payload as given (raw JSON text, so duplicate keys and odd numbers survive), signed with `secret` */
const signed = (header: string, payload: string, secret = p.jwtSecret) => {
  const head = `${b64(header)}.${b64(payload)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
};
const now = () => Math.floor(Date.now() / 1000);
const claims = (extra: Record<string, unknown>) => JSON.stringify({ aud: 'authenticated', role: 'authenticated', ref: p.ref, iat: now(), exp: now() + 3600, sub: '00000000-0000-0000-0000-000000000001', ...extra });
const HS = '{"alg":"HS256","typ":"JWT"}';

/** Validly signed tokens whose header or claims are wrong in shape or value. */
function oddlySigned(): [string, string][] {
  return [
    ['alg none', `${b64('{"alg":"none","typ":"JWT"}')}.${b64(claims({}))}.`],
    ['alg None, signed', signed('{"alg":"None"}', claims({}))],
    ['duplicate alg', signed('{"alg":"HS256","alg":"none"}', claims({}))],
    ['kid path', signed('{"alg":"HS256","kid":"../../../../etc/passwd"}', claims({}))],
    ['jku', signed('{"alg":"HS256","jku":"http://127.0.0.1:1/jwks.json"}', claims({}))],
    ['crit', signed('{"alg":"HS256","crit":["exp"]}', claims({}))],
    ['64 KB header', signed(JSON.stringify({ alg: 'HS256', x: 'a'.repeat(65_536) }), claims({}))],
    ['deep header', signed(`${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`, claims({}))],
    ['header not an object', signed('[]', claims({}))],
    ['payload not an object', signed(HS, '"hello"')],
    ['payload not JSON', signed(HS, '{"role":')],
    ['deep payload', signed(HS, claims({ x: JSON.parse(`${'['.repeat(3_000)}${']'.repeat(3_000)}`) }))],
    ['exp as a string', signed(HS, claims({ exp: String(now() + 3600) }))],
    ['exp 1e309', signed(HS, claims({}).replace(/"exp":\d+/, '"exp":1e309'))],
    ['exp null', signed(HS, claims({ exp: null }))],
    ['exp past', signed(HS, claims({ exp: now() - 3600 }))],
    ['nbf future', signed(HS, claims({ nbf: now() + 3600 }))],
    ['iat an object', signed(HS, claims({ iat: {} }))],
    ['role an array', signed(HS, claims({ role: ['service_role'] }))],
    ['role an object', signed(HS, claims({ role: { name: 'service_role' } }))],
    ['role postgres', signed(HS, claims({ role: 'postgres' }))],
    ['role basalt_admin', signed(HS, claims({ role: 'basalt_admin' }))],
    ['role with a quote', signed(HS, claims({ role: "auth'enticated" }))],
    ['role empty', signed(HS, claims({ role: '' }))],
    ['no role', signed(HS, claims({ role: undefined }))],
    ['aud wrong', signed(HS, claims({ aud: 'someone-else' }))],
    ['aud array', signed(HS, claims({ aud: ['authenticated', 'x'] }))],
    ['sub not a uuid', signed(HS, claims({ sub: "'; drop table t; --" }))],
    ['sub a number', signed(HS, claims({ sub: 12 }))],
    ['email an object', signed(HS, claims({ email: { a: 1 } }))],
    ['session_id junk', signed(HS, claims({ session_id: 'not-a-uuid' }))],
    ['another project\'s ref', signed(HS, claims({ ref: other.ref }))],
    ['another project\'s secret', signed(HS, claims({}), other.jwtSecret)],
    ['huge claim', signed(HS, claims({ blob: 'x'.repeat(200_000) }))],
  ];
}

/** A valid token broken at random: characters changed, cut, parts dropped or repeated, bad base64. */
function mutated(next: () => number, valid: string): string {
  let t = valid;
  const n = 1 + Math.floor(next() * 3);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(next() * t.length);
    switch (Math.floor(next() * 7)) {
      case 0: t = t.slice(0, at) + String.fromCharCode(33 + Math.floor(next() * 94)) + t.slice(at + 1); break;
      case 1: t = t.slice(0, at); break;
      case 2: t = t.split('.').filter((_, k) => k !== Math.floor(next() * 3)).join('.'); break;
      case 3: t = `${t}.${t.split('.')[1] ?? ''}`; break;
      case 4: t = t.slice(0, at) + '=/+ \u00e9\u0000'[Math.floor(next() * 7)] + t.slice(at); break;
      case 5: t = t.replace(/\./g, next() < 0.5 ? '..' : ''); break;
      default: t = t.slice(0, at) + t.slice(at).replace(/[A-Za-z]/, (c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()));
    }
  }
  return t;
}

const ENDPOINTS = [
  (q: TestProject) => `${q.url}/rest/v1/t?select=id`,
  (q: TestProject) => `${q.url}/auth/v1/user`,
  (q: TestProject) => `${q.url}/storage/v1/bucket`,
];

async function send(token: string, where: (q: TestProject) => string, asApikey: boolean) {
  const headers: Record<string, string> = asApikey ? { apikey: token } : { apikey: p.anonKey, authorization: `Bearer ${token}` };
  const started = performance.now();
  // a header Node itself refuses to send (a control character) never reaches us: nothing to check
  const r = await fetch(where(p), { headers }).catch(() => null);
  if (!r) return null;
  const body = await r.text();
  return { status: r.status, body, ms: performance.now() - started };
}

test('validly signed tokens of every wrong shape, and randomly mutated ones, are 4xx or served as their role allows; never 5xx', async () => {
  const next = seededRandom(seed);
  const cases: [string, string][] = [...oddlySigned()];
  for (let i = 0; i < MUTATED; i++) cases.push([`mutated #${i}`, mutated(next, next() < 0.5 ? p.anonKey : p.token())]);
  const wrong: string[] = [];
  let slowest = 0;
  for (const [name, token] of cases) {
    for (const [e, where] of ENDPOINTS.entries()) {
      for (const asApikey of [false, true]) {
        const r = await send(token, where, asApikey);
        if (!r) continue;
        slowest = Math.max(slowest, r.ms);
        const endpoint = ['rest', 'auth', 'storage'][e];
        if (r.status >= 500) wrong.push(`${name} → ${endpoint}${asApikey ? ' (apikey)' : ''}: ${r.status} ${r.body.slice(0, 200)}`);
        // only a token that verifies may be served, and then only as a role it names that exists for requests
        if (r.status < 300 && endpoint === 'rest' && /postgres|basalt_admin|another project|alg none|None|duplicate alg|exp past|exp null|nbf/.test(name)) {
          wrong.push(`${name} → ${endpoint}${asApikey ? ' (apikey)' : ''} was served: ${r.status}`);
        }
      }
    }
  }
  assert.deepEqual(wrong, [], `seed ${seed}`);
  assert.ok(slowest < 2_000, `slowest answer ${Math.round(slowest)} ms`);
});
