// Table-driven bad input: every malformed request is a 4xx in PostgREST's error shape, never a 5xx, and
// writes that fail leave nothing behind.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject, type TestProject } from '@basalt/testkit';
import { client, raw } from './helpers.js';

let p: TestProject;

before(async () => {
  p = await createProject('rest-bad');
  await p.sql(`create table t (id int primary key, name text, data jsonb, tags text[]);
    create policy a on t using (true) with check (true);
    insert into t values (1, 'one', '{"a":{"b":1}}', '{x}');
    create function f(a int) returns int language sql as $$ select a $$;`);
});

const GETS = [
  '/t?select=a(', '/t?select=(', '/t?select=id!', '/t?select=::int', '/t?select=id::nosuchtype', '/t?select=id::text)', '/t?select=data->',
  '/t?select=*,t(*)', '/t?select=id,nope(*)', '/t?order=.desc', '/t?order=nope', '/t?order=id.sideways.desc', '/t?limit=-1', '/t?limit=abc',
  '/t?offset=x', '/t?id=in.1,2', '/t?id=eq', '/t?id=zz.1', '/t?or=id.eq.1', '/t?or=(id.zz.1)', '/t?or=(id.eq.1', '/t?and=((id.eq.1)', '/t?id=like(any).x',
  '/t?id=eq(any).{a,b}', '/t?id=eq.notanint', '/t?id=is.maybe', '/t?data->=eq.1', '/t?nope=eq.1', '/t?name=fts(nosuchconfig).x', '/t?tags=cs.notarray',
  '/t?id=gt.1&id=lt.x', '/t?x.id=eq.1', '/t?x.order=id', '/t?select=id,data->a->>b::int.sum()', '/nosuch', '/t?select=id&id=in.("unterminated)',
  '/t?id=fts.a&select=id', '/t?id=cs.{1}', '/rpc/f?a=x', '/rpc/f?b=1', '/rpc/nosuch', '/t?select=' + 'id,'.repeat(3000) + 'id',
  // nested past MAX_NESTING: a stack overflow (500) before, or a 200 after 0.4 s of blocked event loop
  `/t?select=${'t('.repeat(2500)}id${')'.repeat(2500)}`, `/t?or=(${'or('.repeat(2500)}id.eq.1${')'.repeat(2500)})`,
  `/t?or=(${'not.or('.repeat(1500)}id.eq.1${')'.repeat(1500)})`,
];

test('malformed reads are 4xx with {code, message, details, hint}', async () => {
  for (const path of GETS) {
    const r = await raw(p, path);
    assert.ok(r.status >= 400 && r.status < 500, `${path.slice(0, 80)}: ${r.status} ${r.text.slice(0, 200)}`);
    assert.deepEqual(Object.keys(r.body).sort(), ['code', 'details', 'hint', 'message'], path.slice(0, 80));
  }
});

test('a negative limit is the 416 PostgREST answers, as supabase-js reports it', async () => {
  const { error, status } = await client(p).from('t').select('id').limit(-1);
  assert.equal(status, 416);
  assert.deepEqual(error, { code: 'PGRST103', message: 'Requested range not satisfiable', details: 'Limit should be greater than or equal to zero.', hint: null });
});

const WRITES: [string, string, string | undefined, Record<string, string>?][] = [
  ['POST', '/t', '1'], ['POST', '/t', '"x"'], ['POST', '/t', '[1,2]'], ['POST', '/t', '[{"id":5},2]'], ['POST', '/t', '{"nope":1}'],
  ['POST', '/t', '{"id":"x"}'], ['POST', '/t', '{"id":"6x"}'], ['POST', '/t?columns=', '[{"id":7}]'], ['POST', '/t?on_conflict=nope', '{"id":1}', { prefer: 'resolution=merge-duplicates' }],
  ['POST', '/t?on_conflict=name', '{"id":1}', { prefer: 'resolution=merge-duplicates' }], ['POST', '/t', 'id,name\n8', { 'content-type': 'text/csv' }],
  ['POST', '/t', '{"id":1}'], ['PATCH', '/t?id=eq.1', '[{"id":2}]'], ['PATCH', '/t?id=eq.1', '{"nope":1}'], ['PATCH', '/t?id=eq.1', '{"id":null}'],
  ['DELETE', '/t?id=zz.1', undefined], ['PUT', '/t', '{"id":1}'], ['PUT', '/t?id=eq.1&limit=1', '{"id":1}'], ['POST', '/rpc/f', '[1]'],
  ['POST', '/rpc/f', '{"a":"x"}'], ['POST', '/rpc/f', '{"a":1,"zz":2}'], ['PATCH', '/rpc/f', '{}'], ['POST', '/t', '{"id":9}', { prefer: 'handling=strict, nonsense' }],
  ['POST', '/t', '{"id":10}', { accept: 'image/png' }], ['POST', '/t', '{"id":11}', { 'content-profile': 'secret' }],
];

test('malformed writes are 4xx and change nothing', async () => {
  for (const [method, path, body, headers] of WRITES) {
    const r = await raw(p, path, { method, body, headers: { 'content-type': 'application/json', ...headers } });
    assert.ok(r.status >= 400 && r.status < 500, `${method} ${path} ${body}: ${r.status} ${r.text.slice(0, 200)}`);
  }
  const rows = await p.sql(`select id, name from t order by id`);
  assert.deepEqual(rows, [{ id: 1, name: 'one' }]);
});

test('a token whose header Node cannot echo in WWW-Authenticate is still 401 PGRST301 in PostgREST\'s shape', async () => {
  const segment = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  // the unverified alg is quoted in the message: a newline or a non-Latin-1 character made the header throw, and the
  // 401 went out in Fastify's own shape ({statusCode, code: 'ERR_INVALID_CHAR'})
  for (const alg of ['x\ny', 'é€', 'x\u0000']) {
    const r = await raw(p, '/t', { bearer: `${segment({ alg, typ: 'JWT' })}.${segment({ role: 'anon' })}.c2ln` });
    assert.equal(r.status, 401, JSON.stringify(alg));
    assert.equal(r.body.code, 'PGRST301', r.text);
    assert.deepEqual(Object.keys(r.body).sort(), ['code', 'details', 'hint', 'message']);
    assert.equal(r.headers.get('proxy-status'), 'PostgREST; error=PGRST301');
    assert.match(r.headers.get('www-authenticate')!, /^Bearer error="invalid_token", error_description="[\x20-\x7e]*"$/);
  }
});
