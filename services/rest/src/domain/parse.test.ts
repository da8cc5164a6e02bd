// The parse stage on its own: HTTP method, query string, headers and body → the request description, and the
// 4xx each malformed part is, without a schema or a database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BasaltError } from '@basalt/errors';
import { MAX_NESTING } from './grammar.js';
import { parseRequest, type HttpRequest } from './parse.js';

const http = (o: Partial<HttpRequest> & { search?: string }): HttpRequest => ({ method: 'GET', path: '/t', search: '', headers: {}, body: undefined, ...o });
const table = { kind: 'table' as const, name: 't' };
const rpc = { kind: 'rpc' as const, name: 'f' };

test('a read: select tree with embeds, filters per embed path, order, paging and Range', () => {
  const r = parseRequest(http({
    search: 'select=id,n:name,author:authors!inner(name,books(*))&id=gt.1&authors.name=like.A*&or=(id.eq.1,id.eq.2)&order=id.desc.nullslast&authors.limit=2&offset=3',
    headers: { range: '0-9', accept: 'application/vnd.pgrst.object+json;nulls=stripped', prefer: 'count=exact' },
  }), table);
  assert.equal(r.media, 'object');
  assert.equal(r.stripNulls, true);
  assert.equal(r.prefer.count, 'exact');
  const [id, name, embed] = r.query.spec.select;
  assert.deepEqual(id, { kind: 'field', name: 'id', path: [], alias: null, cast: null });
  assert.deepEqual(name, { kind: 'field', name: 'name', path: [], alias: 'n', cast: null });
  assert.ok(embed.kind === 'embed' && embed.name === 'authors' && embed.alias === 'author' && embed.join === 'inner' && embed.select.length === 2);
  assert.deepEqual([...r.query.spec.conds.keys()], ['', 'authors']);
  assert.equal(r.query.spec.conds.get('')!.length, 2);
  assert.deepEqual(r.query.spec.order.get(''), [{ field: { name: 'id', path: [] }, relation: null, desc: true, nulls: 'last' }]);
  assert.equal(r.query.spec.limit.get('authors'), 2);
  assert.equal(r.query.spec.offset.get(''), 3n); // the query string wins over Range's start
  assert.equal(r.query.spec.limit.get(''), 10);
});

test('GET /rpc keeps single-segment pairs for the planner (arguments or filters); POST takes the body', () => {
  const get = parseRequest(http({ search: 'a=1&b=gt.2&select=x&x.y=eq.3' }), rpc);
  assert.deepEqual(get.query.rest, [['a', '1'], ['b', 'gt.2']]);
  assert.deepEqual([...get.query.spec.conds.keys()], ['x']);
  const post = parseRequest(http({ method: 'POST', search: 'b=gt.2', body: { a: 1 } }), rpc);
  assert.deepEqual(post.body, { a: 1 });
  assert.deepEqual(post.query.rest, []);
  assert.equal(post.query.spec.conds.get('')!.length, 1);
});

test('writes: CSV bodies become rows, PUT is a merge upsert, an empty body is PGRST102 (not for DELETE)', () => {
  const csv = parseRequest(http({ method: 'POST', headers: { 'content-type': 'text/csv; charset=utf-8' }, body: 'id,name\n1,"a, b"\n2,' }), table);
  assert.deepEqual(csv.body, [{ id: '1', name: 'a, b' }, { id: '2', name: null }]);
  assert.equal(parseRequest(http({ method: 'PUT', body: { id: 1 } }), table).prefer.resolution, 'merge-duplicates');
  assert.equal(parseRequest(http({ method: 'DELETE' }), table).body, undefined);
  assert.equal(parseRequest(http({ method: 'POST', body: 1 }), table).body, 1); // a bare scalar parses; the planner refuses it
});

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof BasaltError, String(e));
    return `${e.status} ${e.code}`;
  }
  return 'ok';
};

test('aggregates in select: count(), input and output casts, aliases, inside embeds; allowing them is the planner\'s call', () => {
  const r = parseRequest(http({ search: 'select=count(),total:amount::numeric.sum()::int,d->>k.max(),c:id.count(),day,customers(amount.avg())' }), table);
  const [count, total, max, c, day, embed] = r.query.spec.select;
  assert.deepEqual(count, { kind: 'field', name: '*', path: [], alias: null, cast: null, agg: { fn: 'count', cast: null } });
  assert.deepEqual(total, { kind: 'field', name: 'amount', path: [], alias: 'total', cast: 'numeric', agg: { fn: 'sum', cast: 'int' } });
  assert.deepEqual(max, { kind: 'field', name: 'd', path: [{ arrow: '->>', key: 'k', index: false }], alias: null, cast: null, agg: { fn: 'max', cast: null } });
  assert.deepEqual(c, { kind: 'field', name: 'id', path: [], alias: 'c', cast: null, agg: { fn: 'count', cast: null } });
  assert.deepEqual(day, { kind: 'field', name: 'day', path: [], alias: null, cast: null });
  assert.ok(embed.kind === 'embed' && embed.select[0].kind === 'field' && embed.select[0].agg?.fn === 'avg');
});

test('Accept: application/vnd.pgrst.plan reads format, for= and options= as postgrest-js sends them', () => {
  const js = parseRequest(http({ headers: { accept: 'application/vnd.pgrst.plan+text; for="application/json"; options=analyze|verbose|bogus;' } }), table);
  assert.deepEqual(js.plan, { format: 'text', for: 'json', forType: 'application/json', options: ['analyze', 'verbose'] });
  const csv = parseRequest(http({ headers: { accept: 'application/vnd.pgrst.plan+json;for="text/csv"' } }), table);
  assert.equal(csv.media, 'csv');
  assert.equal(csv.plan?.format, 'json');
  assert.equal(parseRequest(http({ headers: { accept: 'application/vnd.pgrst.plan' } }), table).plan?.format, 'text');
  assert.equal(parseRequest(http({ headers: { accept: 'application/json, application/vnd.pgrst.plan' } }), table).plan, null);
});

test('malformed requests are PostgREST errors', () => {
  const cases: [string, () => unknown, string][] = [
    ['unknown operator', () => parseRequest(http({ search: 'id=zz.1' }), table), '400 PGRST100'],
    ['unbalanced select', () => parseRequest(http({ search: 'select=a(' }), table), '400 PGRST100'],
    ['negative limit', () => parseRequest(http({ search: 'limit=-1' }), table), '416 PGRST103'],
    ['fractional limit', () => parseRequest(http({ search: 'limit=1.5' }), table), '400 PGRST100'],
    ['negative offset', () => parseRequest(http({ search: 'offset=-1' }), table), '400 PGRST100'],
    ['bad aggregate cast', () => parseRequest(http({ search: 'select=id.sum()::int;drop' }), table), '400 PGRST100'],
    ['unsupported Accept', () => parseRequest(http({ headers: { accept: 'application/xml' } }), table), '406 PGRST107'],
    ['strict preferences', () => parseRequest(http({ headers: { prefer: 'handling=strict, bogus' } }), table), '400 PGRST122'],
    ['inverted Range', () => parseRequest(http({ headers: { range: '5-1' } }), table), '416 PGRST103'],
    ['POST without body', () => parseRequest(http({ method: 'POST' }), table), '400 PGRST102'],
    ['empty JSON body', () => parseRequest(http({ method: 'PATCH', body: {}, headers: { 'content-length': '0' } }), table), '400 PGRST102'],
    ['unterminated CSV', () => parseRequest(http({ method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'a\n"x' }), table), '400 PGRST102'],
    ['scalar rpc body', () => parseRequest(http({ method: 'POST', body: 'x' }), rpc), '400 PGRST102'],
  ];
  for (const [name, f, want] of cases) assert.equal(code(f), want, name);
});

test('parentheses nested past MAX_NESTING in select or a logic tree are PGRST100 (up to the largest URL Node takes)', () => {
  const nest = (open: string, inner: string, n: number) => open.repeat(n) + inner + ')'.repeat(n);
  const deep = [
    `select=${nest('a(', 'b', 4000)}`, `select=${nest('...a(', 'b', 2600)}`, `or=(${nest('or(', 'id.eq.1', 3000)})`,
    `or=(${nest('not.and(', 'id.eq.1', 1500)})`, `order=${nest('a(', 'b', 4000)}`, `id=in.(${nest('(', '1', 6500)})`,
  ];
  for (const search of deep) {
    assert.ok(search.length > 12_000 && search.length < 16_384);
    // before: a RangeError (stack overflow: 500) after up to 650 ms of blocked event loop, or a 200 after 400 ms
    assert.equal(code(() => parseRequest(http({ search }), table)), '400 PGRST100', search.slice(0, 30));
  }
  // nesting a real request uses still parses
  const ok = parseRequest(http({ search: `select=id,${nest('a(', 'b', 10)}&or=(${nest('and(', 'id.eq.1', MAX_NESTING - 1)})` }), table);
  assert.equal(ok.query.spec.conds.get('')!.length, 1);
});

test('CSV bodies: quoting, NULLs, blank lines and line ends as before the one-pass reader', () => {
  const cases: [string, unknown][] = [
    ['id,name\n1,"a, b"\n2,', [{ id: '1', name: 'a, b' }, { id: '2', name: null }]],
    ['a,b\r\n1,2\r\n', [{ a: '1', b: '2' }]], ['a,b\r1,2\r', [{ a: '1', b: '2' }]], ['a\n', []], ['a', []],
    ['a\n"x""y"z\n', [{ a: 'x"yz' }]], ['a\nab"c,d"e\n', [{ a: 'abc,de' }]], ['a\n""\n', [{ a: '' }]], ['a,b\n,\n', [{ a: null, b: null }]],
    ['a,b\n1,2\n\n3,4', [{ a: '1', b: '2' }, { a: '3', b: '4' }]], ['a\n"multi\nline"\n', [{ a: 'multi\nline' }]], ['"h,1",x\n1,2', [{ 'h,1': '1', x: '2' }]],
  ];
  const body = (b: string) => parseRequest(http({ method: 'POST', headers: { 'content-type': 'text/csv' }, body: b }), table).body;
  for (const [csv, rows] of cases) assert.deepEqual(body(csv), rows, JSON.stringify(csv));
  const proto = body('__proto__,b\n1,2') as Record<string, unknown>[];
  assert.deepEqual(Object.keys(proto[0]), ['__proto__', 'b'], 'a column named __proto__ stays a key');
  for (const bad of ['', 'a,,b\n1,2,3', 'a,b\n1\n', 'a\n"x', 'a\n"x"\n"']) assert.equal(code(() => body(bad)), '400 PGRST102', JSON.stringify(bad));
});
