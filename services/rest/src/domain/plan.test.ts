// The plan and SQL stages on a hand-built schema cache: names resolve (or fail with PostgREST's codes), limits
// hold, the execution mode follows the preferences, and the SQL binds every value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BasaltError } from '@basalt/errors';
import type { Catalog, CatalogColumn, CatalogFunction } from '../db/catalog.js';
import { parseRequest, type HttpRequest } from './parse.js';
import { planRequest, type Plan } from './plan.js';
import { SchemaIndex } from './schema.js';
import { toSql } from './sql.js';

const col = (name: string, udt = 'int4', more: Partial<CatalogColumn> = {}): CatalogColumn =>
  ({ name, type: udt, udt, nullable: true, hasDefault: false, generated: false, ...more });
const fn = (name: string, more: Partial<CatalogFunction>): CatalogFunction => ({
  schema: 'public', name, args: [], returnType: 'int4', returnsSet: false, returnRelSchema: null, returnRelName: null,
  returnsComposite: false, volatility: 's', variadic: false, nDefaults: 0, ...more,
});
const catalog: Catalog = {
  relations: [
    { schema: 'public', name: 'authors', kind: 'r', comment: null, columns: [col('id'), col('name', 'text')] },
    { schema: 'public', name: 'books', kind: 'r', comment: null, columns: [col('id'), col('title', 'text'), col('author_id'), col('meta', 'jsonb')] },
  ],
  constraints: [
    { schema: 'public', table: 'authors', name: 'authors_pkey', type: 'p', columns: ['id'], refSchema: null, refTable: null, refColumns: [] },
    { schema: 'public', table: 'books', name: 'books_pkey', type: 'p', columns: ['id'], refSchema: null, refTable: null, refColumns: [] },
    { schema: 'public', table: 'books', name: 'books_author_id_fkey', type: 'f', columns: ['author_id'], refSchema: 'public', refTable: 'authors', refColumns: ['id'] },
  ],
  functions: [
    fn('add', { args: [{ name: 'a', type: 'integer', mode: 'i', hasDefault: false }, { name: 'b', type: 'integer', mode: 'i', hasDefault: false }] }),
    fn('books_after', { args: [{ name: 'y', type: 'integer', mode: 'i', hasDefault: false }], returnsSet: true, returnRelSchema: 'public', returnRelName: 'books', returnType: 'books', returnsComposite: true }),
    fn('bump', { volatility: 'v' }),
  ],
  viewColumns: [],
};
const index = new SchemaIndex(catalog, ['public']);
const limits = { maxRows: 100, maxDepth: 2, maxFilters: 5 };

const plan = (target: 'table' | 'rpc', name: string, o: Partial<HttpRequest> = {}): Plan =>
  planRequest(parseRequest({ method: 'GET', path: `/${name}`, search: '', headers: {}, body: undefined, ...o }, { kind: target, name }), index, 'public', limits);

test('a read resolves columns, JSON paths and a many-to-one embed; the SQL binds every value', () => {
  const p = plan('table', 'books', { search: 'select=title,m:meta->>k,authors(name)&title=eq.x&order=authors(name).desc' });
  assert.ok(p.kind === 'read');
  const [title, m, embed] = p.node.items;
  assert.ok(title.kind === 'field' && title.field.name === 'title');
  assert.ok(m.kind === 'field' && m.field.json && m.as === 'm');
  assert.ok(embed.kind === 'embed' && embed.rel.kind === 'm2o' && embed.rel.toOne && embed.node.table.name === 'authors');
  assert.deepEqual(p.node.order.map((o) => [o.relation, o.slot, o.desc]), [['authors', 0, true]]);
  assert.deepEqual(p.exec, { readOnly: true, tx: false, rollback: false, maxAffected: null, singular: false, estimate: null });
  const sql = toSql(p);
  assert.ok(sql.main.text.startsWith(`/* ${index.generation} */ SELECT`));
  assert.deepEqual(sql.main.values, ['k', 'x']);
  assert.ok(!sql.main.text.includes("'x'"), 'values are parameters');
  assert.equal(sql.explain, null);
});

test('planning failures carry PostgREST codes', () => {
  const cases: [string, () => unknown, string][] = [
    ['no table', () => plan('table', 'nope'), '404 PGRST205'],
    ['no column', () => plan('table', 'books', { search: 'select=nope' }), '400 42703'],
    ['no relationship', () => plan('table', 'authors', { search: 'select=id,nope(*)' }), '400 PGRST200'],
    ['filter on an unselected embed', () => plan('table', 'books', { search: 'authors.name=eq.x' }), '400 PGRST108'],
    ['to-many order', () => plan('table', 'authors', { search: 'select=id,books(id)&order=books(id)' }), '400 PGRST118'],
    ['embed filter op', () => plan('table', 'books', { search: 'select=id,authors(id)&authors=eq.1' }), '400 PGRST120'],
    ['too deep', () => plan('table', 'books', { search: 'select=id,authors(books(authors(id)))' }), '400 PGRST100'],
    ['too many filters', () => plan('table', 'books', { search: 'or=(id.eq.1,id.eq.2,id.eq.3,id.eq.4,id.eq.5,id.eq.6)' }), '400 PGRST100'],
    ['limit over max rows', () => plan('table', 'books', { search: 'limit=101' }), '400 PGRST100'],
    ['bad cast', () => plan('table', 'books', { search: 'select=id::text;drop' }), '400 PGRST100'],
    ['unknown write column', () => plan('table', 'books', { method: 'POST', body: { nope: 1 } }), '400 PGRST204'],
    ['PUT without key filter', () => plan('table', 'books', { method: 'PUT', body: { id: 1 } }), '405 PGRST105'],
    ['no function', () => plan('rpc', 'add', { method: 'POST', body: { a: 1 } }), '404 PGRST202'],
    ['DELETE without a filter', () => plan('table', 'books', { method: 'DELETE' }), '400 21000'],
    ['PATCH without a filter', () => plan('table', 'books', { method: 'PATCH', body: { title: 'x' } }), '400 21000'],
    ['PATCH without a filter, setting nothing', () => plan('table', 'books', { method: 'PATCH', body: {} }), 'ok'],
    ['DELETE without a filter, the project allowing it', () =>
      planRequest(parseRequest({ method: 'DELETE', path: '/books', search: '', headers: {}, body: undefined }, { kind: 'table', name: 'books' }), index, 'public', { ...limits, unfilteredWrites: true }), 'ok'],
  ];
  for (const [name, f, want] of cases) {
    let got = 'ok';
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof BasaltError, `${name}: ${e}`);
      got = `${e.status} ${e.code}`;
    }
    assert.equal(got, want, name);
  }
});

test('the execution mode follows the request: one round trip unless rows must be seen before COMMIT', () => {
  const mode = (p: Plan) => [p.exec.readOnly, p.exec.tx, p.exec.rollback, p.exec.maxAffected, p.exec.singular];
  const body = { id: 1, title: 't' };
  assert.deepEqual(mode(plan('table', 'books', { method: 'POST', body })), [false, false, false, null, false]);
  assert.deepEqual(mode(plan('table', 'books', { method: 'POST', body, headers: { prefer: 'tx=rollback' } })), [false, true, true, null, false]);
  assert.deepEqual(mode(plan('table', 'books', { method: 'PATCH', body, search: 'id=eq.1', headers: { accept: 'application/vnd.pgrst.object+json' } })), [false, true, false, null, true]);
  assert.deepEqual(mode(plan('table', 'books', { method: 'DELETE', search: 'id=gt.0', headers: { prefer: 'handling=strict, max-affected=2' } })), [false, true, false, 2n, false]);
  assert.deepEqual(plan('table', 'books', { headers: { prefer: 'count=estimated' } }).exec.estimate, { exactUpTo: 100 });
  assert.deepEqual(mode(plan('rpc', 'bump', { method: 'POST', body: {} })), [false, false, false, null, false]);
  assert.deepEqual(mode(plan('rpc', 'bump')), [true, false, false, null, false]); // GET is read-only, whatever the function
});

test('GET /rpc: parameter names are arguments, other keys filter the rows', () => {
  const p = plan('rpc', 'books_after', { search: 'y=1990&title=eq.x&select=title' });
  assert.ok(p.kind === 'call' && p.shape.kind === 'rows');
  assert.deepEqual(p.args, [{ name: 'y', value: '1990', type: 'integer' }]);
  assert.equal(p.node!.conds.length, 1);
  const sql = toSql(p).main;
  assert.match(sql.text, /"public"\."books_after"\("y" := \$1::integer\) AS "t0"/);
  assert.deepEqual(sql.values, ['1990', 'x']);
});

test('an upsert groups rows by their keys with missing=default and reports merged rows', () => {
  const p = plan('table', 'books', {
    method: 'POST', body: [{ id: 1, title: 'a' }, { id: 2 }],
    headers: { prefer: 'resolution=merge-duplicates, missing=default, return=representation' },
  });
  assert.ok(p.kind === 'write' && p.mutation.kind === 'insert');
  assert.deepEqual(p.mutation.groups.map((g) => g.columns), [['id', 'title'], ['id']]);
  assert.deepEqual(p.mutation.conflict, { keys: ['id'], update: ['id', 'title'] });
  assert.ok(p.merged && p.representation);
  const text = toSql(p).main.text;
  assert.match(text, /ON CONFLICT \("id"\) DO UPDATE SET "id" = EXCLUDED\."id", "title" = EXCLUDED\."title"/);
  assert.match(text, /pgrst_inserted/);
});

// planRequest spells every plan out field by field (no spreads, see plan.ts): each branch carries the common fields
// and a complete Execution, as the spread-built plans did.
test('every kind of plan carries count, generation, body format and a complete execution', () => {
  const full = (p: Plan) => ({ count: p.count, generation: p.generation, out: p.out, kind: p.kind, exec: p.exec });
  const exec = (o: Partial<Plan['exec']>) => ({ readOnly: false, tx: false, rollback: false, maxAffected: null, singular: false, estimate: null, ...o });
  const g = index.generation;
  assert.deepEqual(full(plan('table', 'books', { headers: { prefer: 'count=planned', accept: 'text/csv' } })),
    { count: 'planned', generation: g, out: 'csv', kind: 'read', exec: exec({ readOnly: true, tx: true, estimate: { exactUpTo: null } }) });
  assert.deepEqual(full(plan('table', 'books', { method: 'PATCH', body: { title: 'x' }, search: 'id=eq.1', headers: { prefer: 'count=exact, handling=strict, max-affected=1' } })),
    { count: 'exact', generation: g, out: 'json', kind: 'write', exec: exec({ tx: true, maxAffected: 1n }) });
  assert.deepEqual(full(plan('rpc', 'add', { search: 'a=1&b=2' })), { count: null, generation: g, out: 'json', kind: 'call', exec: exec({ readOnly: true }) });
  assert.deepEqual(full(plan('rpc', 'books_after', { method: 'POST', body: { y: 1 }, headers: { prefer: 'count=estimated, tx=rollback' } })),
    { count: 'estimated', generation: g, out: 'json', kind: 'call', exec: exec({ readOnly: true, tx: true, rollback: true, estimate: { exactUpTo: 100 } }) });
  const agg = planRequest(parseRequest({ method: 'GET', path: '/books', search: 'select=id.count()', headers: {}, body: undefined }, { kind: 'table', name: 'books' }), index, 'public', { ...limits, aggregates: true });
  assert.equal(agg.kind, 'read');
});

test('repeated filters on one column all apply, in order; like with any() turns * into %', () => {
  const p = plan('table', 'books', { search: 'id=gt.1&id=lt.9&title=like(any).{a*,*b}&or=(id.eq.3,id.eq.4)' });
  const { main } = toSql(p);
  assert.match(main.text, /"t0"\."id" > \$1 AND "t0"\."id" < \$2 AND "t0"\."title" LIKE ANY\(\$3\) AND \("t0"\."id" = \$4 OR "t0"\."id" = \$5\)/);
  assert.deepEqual(main.values, ['1', '9', '{a%,%b}', '3', '4']);
});

test('a CSV body of many rows with the same columns is one insert group, spelled as one parameter', () => {
  // the one-pass reader and the single group (no key text per row) took a 10 MB body of 5 million lines from 15 s
  // of blocked event loop to about 3 s (measured by hand; not timed here)
  const p = plan('table', 'books', { method: 'POST', headers: { 'content-type': 'text/csv' }, body: `title\n${'x\n'.repeat(200_000)}` });
  assert.ok(p.kind === 'write' && p.mutation.kind === 'insert');
  assert.equal(p.mutation.groups.length, 1);
  assert.equal(p.mutation.groups[0].rows.length, 200_000);
  assert.equal(toSql(p).main.values.length, 1);
});
