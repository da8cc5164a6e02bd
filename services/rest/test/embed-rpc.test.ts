// Embedded resources, RPC, media types, profiles, schema reload, cost limits and injection attempts.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject, eventually, testEnv, type TestProject } from '@basalt/testkit';
import { client, raw } from './helpers.js';

const env = testEnv();
let p: TestProject;

before(async () => {
  p = await createProject('rest-embed');
  await p.sql(`
    create table authors (id int primary key, name text not null);
    create table books (id int primary key, title text not null, author_id int references authors, editor_id int references authors, year int, tags text[], body tsvector);
    create table genres (id int primary key, name text);
    create table book_genres (book_id int references books, genre_id int references genres, primary key (book_id, genre_id));
    create table reviews (id int primary key, book_id int not null references books, stars int);
    insert into authors values (1, 'Le Guin'), (2, 'Banks'), (3, 'Nobody');
    insert into books values (1, 'Earthsea', 1, 2, 1968, '{fantasy,classic}', to_tsvector('english', 'a wizard of earthsea')),
      (2, 'Dispossessed', 1, null, 1974, '{scifi}', to_tsvector('english', 'an ambiguous utopia')),
      (3, 'Excession', 2, 1, 1996, '{scifi,culture}', to_tsvector('english', 'the culture meets an outside context problem'));
    insert into genres values (1, 'Fantasy'), (2, 'SF');
    insert into book_genres values (1, 1), (2, 2), (3, 2);
    insert into reviews values (1, 1, 5), (2, 1, 4), (3, 3, 5);
    do $$ declare t text; begin foreach t in array array['authors','books','genres','book_genres','reviews'] loop
      execute format('create policy r on %I for select using (true)', t); end loop; end $$;
    create view books_v as select id, title, author_id from books;
    create function add(a int, b int) returns int language sql immutable as $$ select a + b $$;
    create function books_after(y int) returns setof books language sql stable as $$ select * from books where year > y $$;
    create function echo(payload json) returns json language sql as $$ select payload $$;
    create function ids() returns setof int language sql as $$ select generate_series(1, 3) $$;
    create function touch() returns void language sql as $$ select $$;
    create function stats(min_year int default 0) returns table (author text, n bigint) language sql stable as $$
      select a.name, count(*) from books b join authors a on a.id = b.author_id where b.year >= min_year group by a.name $$;
    create function first_book() returns books language sql as $$ select * from books order by id limit 1 $$;
  `);
});

const db = () => client(p);

test('embeds: many-to-one with hint, one-to-many, many-to-many, inner, spread, nested, embedded filters and order', async () => {
  const cases: [string, (q: any) => any, unknown][] = [
    ['m2o by fk column hint', (q) => q.select('title, author:authors!author_id(name)').eq('id', 3), [{ title: 'Excession', author: { name: 'Banks' } }]],
    ['m2o null', (q) => q.select('id, editor:authors!editor_id(name)').eq('id', 2), [{ id: 2, editor: null }]],
    ['o2m with embedded order', (q) => q.select('title, reviews(stars)').eq('id', 1).order('stars', { referencedTable: 'reviews' }), [{ title: 'Earthsea', reviews: [{ stars: 4 }, { stars: 5 }] }]],
    ['m2m', (q) => q.select('id, genres(name)').order('id'), [{ id: 1, genres: [{ name: 'Fantasy' }] }, { id: 2, genres: [{ name: 'SF' }] }, { id: 3, genres: [{ name: 'SF' }] }]],
    ['inner + embedded filter', (q) => q.select('id, reviews!inner(stars)').eq('reviews.stars', 5).order('id'), [{ id: 1, reviews: [{ stars: 5 }] }, { id: 3, reviews: [{ stars: 5 }] }]],
    ['spread', (q) => q.select('title, ...authors!author_id(author_name:name)').eq('id', 2), [{ title: 'Dispossessed', author_name: 'Le Guin' }]],
    ['order by to-one embed', (q) => q.select('id, authors!author_id(name)').order('authors(name)', { ascending: false }).order('id'), [{ id: 1, authors: { name: 'Le Guin' } }, { id: 2, authors: { name: 'Le Guin' } }, { id: 3, authors: { name: 'Banks' } }]],
    ['nested', (q) => q.select('name, books!author_id(title, reviews(stars))').eq('id', 2), [{ name: 'Banks', books: [{ title: 'Excession', reviews: [{ stars: 5 }] }] }]],
    ['empty embed as filter', (q) => q.select('name, books!author_id!inner()').eq('books.year', 1996), [{ name: 'Banks' }]],
    ['embedded limit', (q) => q.select('id, reviews(id)').eq('id', 1).limit(1, { referencedTable: 'reviews' }), [{ id: 1, reviews: [{ id: 1 }] }]],
    ['null filter on embed', (q) => q.select('id, reviews(id)').is('reviews', null).order('id'), [{ id: 2, reviews: [] }]],
  ];
  for (const [name, build, want] of cases) {
    const { data, error } = await build(db().from(name === 'nested' || name === 'empty embed as filter' ? 'authors' : 'books'));
    assert.equal(error, null, `${name}: ${JSON.stringify(error)}`);
    assert.deepEqual(data, want, name);
  }
  const viewToTable = await db().from('books_v').select('title, authors(name)').eq('id', 3);
  assert.deepEqual(viewToTable.data, [{ title: 'Excession', authors: { name: 'Banks' } }]);
  const tableToView = await db().from('authors').select('name, books_v(id)').eq('id', 2);
  assert.deepEqual(tableToView.data, [{ name: 'Banks', books_v: [{ id: 3 }] }]);
  const ambiguous = await db().from('books').select('id, authors(name)');
  assert.equal(ambiguous.status, 300);
  assert.equal(ambiguous.error?.code, 'PGRST201');
  const none = await db().from('books').select('id, genres_x(name)');
  assert.equal(none.error?.code, 'PGRST200');
});

test('filter operators: arrays, full text search, any/all, nested logic trees, not', async () => {
  const cases: [string, (q: any) => any, number[]][] = [
    ['cs', (q) => q.contains('tags', ['scifi']), [2, 3]],
    ['cd', (q) => q.containedBy('tags', ['scifi', 'culture', 'x']), [2, 3]],
    ['ov', (q) => q.overlaps('tags', ['fantasy', 'culture']), [1, 3]],
    ['fts', (q) => q.textSearch('body', 'wizard'), [1]],
    ['plfts on text column', (q) => q.textSearch('title', 'earthsea', { type: 'plain', config: 'english' }), [1]],
    ['wfts', (q) => q.textSearch('body', 'culture -wizard', { type: 'websearch' }), [3]],
    ['like any', (q) => q.likeAnyOf('title', ['Earth%', 'Exc%']), [1, 3]],
    ['nested or/and', (q) => q.or('year.lt.1970,and(year.gt.1990,title.like.E*)'), [1, 3]],
    ['not in', (q) => q.not('id', 'in', '(1,2)'), [3]],
    ['not or', (q) => q.not('year', 'gte', 1970).not('title', 'eq', 'x'), [1]],
    ['in with quoted value', (q) => q.in('title', ['Earthsea', 'a,b(c)']), [1]],
    ['match regex', (q) => q.match({ year: 1974 }), [2]],
    ['imatch', (q) => q.filter('title', 'imatch', '^exc'), [3]],
    ['isdistinct', (q) => q.filter('editor_id', 'isdistinct', '1'), [1, 2]],
  ];
  for (const [name, build, want] of cases) {
    const { data, error } = await build(db().from('books').select('id')).order('id');
    assert.equal(error, null, `${name}: ${JSON.stringify(error)}`);
    assert.deepEqual(data.map((r: { id: number }) => r.id), want, name);
  }
});

test('rpc: scalar, set-returning with filters, json argument, void, composite, GET', async () => {
  assert.deepEqual((await db().rpc('add', { a: 2, b: 3 })).data, 5);
  const set = await db().rpc('books_after', { y: 1970 }).select('title').order('year', { ascending: false });
  assert.deepEqual(set.data, [{ title: 'Excession' }, { title: 'Dispossessed' }]);
  const filtered = await db().rpc('books_after', { y: 1900 }).eq('author_id', 2).select('id');
  assert.deepEqual(filtered.data, [{ id: 3 }]);
  assert.deepEqual((await db().rpc('echo', { payload: { x: [1, 2] } })).data, { x: [1, 2] });
  assert.deepEqual((await db().rpc('ids')).data, [1, 2, 3]);
  const v = await db().rpc('touch');
  assert.equal(v.status, 204);
  assert.equal((await db().rpc('first_book')).data.title, 'Earthsea');
  const get = await db().rpc('add', { a: 1, b: 1 }, { get: true });
  assert.deepEqual(get.data, 2);
  const table = await db().rpc('stats').order('author');
  assert.deepEqual(table.data, [{ author: 'Banks', n: 1 }, { author: 'Le Guin', n: 2 }]);
  const defaults = await db().rpc('stats', { min_year: 1970 }).gt('n', 0).order('author');
  assert.deepEqual(defaults.data, [{ author: 'Banks', n: 1 }, { author: 'Le Guin', n: 1 }]);
  const embedded = await db().rpc('books_after', { y: 1990 }).select('title, author:authors!author_id(name)');
  assert.deepEqual(embedded.data, [{ title: 'Excession', author: { name: 'Banks' } }]);
  const missing = await db().rpc('nope', { a: 1 });
  assert.equal(missing.status, 404);
  assert.equal(missing.error?.code, 'PGRST202');
  const put = await raw(p, '/rpc/add', { method: 'PUT', json: {} });
  assert.equal(put.status, 405);
});

test('media types, profiles and the OpenAPI root', async () => {
  const csv = await db().from('authors').select('id,name').order('id').limit(2).csv();
  assert.equal(csv.data, 'id,name\n1,"Le Guin"\n2,Banks'); // PostgREST quotes a value holding whitespace
  const unsupported = await raw(p, '/authors', { headers: { accept: 'application/xml' } });
  assert.equal(unsupported.status, 406);
  assert.equal(unsupported.body.code, 'PGRST107');
  const profile = await client(p, p.anonKey, undefined, 'private').from('authors').select();
  assert.equal(profile.status, 406);
  assert.equal(profile.error?.code, 'PGRST106');
  const api = await raw(p, '/');
  assert.equal(api.status, 200);
  assert.equal(api.body.swagger, '2.0');
  // the project's public URL, never the REST service's own address
  const publicUrl = new URL(env.fleetEnv.BASALT_PUBLIC_URL);
  assert.equal(api.body.host, publicUrl.host);
  assert.equal(api.body.basePath, `/project/${p.ref}/rest/v1`);
  assert.deepEqual(api.body.schemes, ['http']);
  assert.ok(!JSON.stringify(api.body).includes(new URL(env.services.rest).host), 'no internal address');
  assert.ok(api.body.paths['/books'] && api.body.definitions.books.properties.title);
  const range = await raw(p, '/authors?select=id&order=id', { headers: { range: '1-1', prefer: 'count=exact' } });
  assert.equal(range.status, 206);
  assert.equal(range.headers.get('content-range'), '1-1/3');
  const over = await raw(p, '/authors?offset=10', { headers: { prefer: 'count=exact' } });
  assert.equal(over.status, 416);
  const planned = await db().from('authors').select('id', { count: 'planned', head: true });
  assert.ok(typeof planned.count === 'number');
});

test('the schema cache reloads after DDL (event trigger NOTIFY pgrst)', async () => {
  assert.deepEqual((await db().from('authors').select('id').eq('id', 1)).data, [{ id: 1 }]);
  await p.sql(`create table late (id int primary key); create policy r on late for select using (true); insert into late values (7)`);
  await eventually(async () => (await db().from('late').select('id')).data?.[0]?.id === 7, 5000);
  await p.sql(`alter table late add column extra text default 'x'`);
  await eventually(async () => (await db().from('late').select('extra')).data?.[0]?.extra === 'x', 5000);
  // A column changing type under statements already prepared for it on pooled connections.
  for (let i = 0; i < 12; i++) assert.deepEqual((await db().from('late').select('id').eq('id', 7)).data, [{ id: 7 }]);
  await p.sql(`alter table late alter column id type text`);
  await eventually(async () => {
    const rs = await Promise.all(Array.from({ length: 12 }, () => db().from('late').select('id').eq('id', '7')));
    return rs.every((r) => r.data?.[0]?.id === '7');
  }, 5000);
});

test('costly requests are refused with a clear 400', async () => {
  const deep = await db().from('books').select('id, reviews(books(reviews(books(reviews(id)))))');
  assert.equal(deep.status, 400);
  const filters = Array.from({ length: 120 }, (_, i) => `id.eq.${i}`).join(',');
  const many = await db().from('books').select('id').or(filters);
  assert.equal(many.status, 400);
  const huge = await db().from('books').select('id').limit(100000);
  assert.equal(huge.status, 400);
});

test('injection attempts in values, columns, order, select, JSON paths and function names stay inert', async () => {
  const evil = `'; drop table authors; --`;
  const attempts: [string, () => PromiseLike<{ status: number }>][] = [
    ['value', () => db().from('authors').select('id').eq('name', evil)],
    ['in value', () => db().from('authors').select('id').in('name', [evil, `") or 1=1 --`])],
    ['column', () => db().from('authors').select('id').eq(`name"; drop table authors; --`, 'x')],
    ['select', () => db().from('authors').select(`id,"name; drop table authors"`)],
    ['cast', () => db().from('authors').select(`id::text; drop table authors`)],
    ['order', () => db().from('authors').select('id').order(`name; drop table authors`)],
    ['json path', () => db().from('books').select(`id,x:title->>'; drop table authors; --`)],
    ['json path filter', () => raw(p, `/books?tags->>${encodeURIComponent("a'); drop table authors; --")}=eq.1`)],
    ['function', () => db().rpc(`add"(1,1); drop table authors; --`, {})],
    ['table', () => db().from(`authors; drop table authors`).select()],
    ['fts config', () => db().from('books').select('id').textSearch('body', 'x', { config: `english'); drop table authors; --` })],
  ];
  for (const [name, attempt] of attempts) {
    const r = await attempt();
    assert.ok(r.status < 500, `${name}: ${r.status}`);
  }
  const still = await p.sql(`select count(*)::int as n from authors`);
  assert.deepEqual(still, [{ n: 3 }]);
});
