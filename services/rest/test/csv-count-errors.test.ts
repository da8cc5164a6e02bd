// CSV exactly as PostgREST writes it, count=estimated against max-rows as PostgREST computes it, and error texts that
// name an aliased relation as PostgREST does.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject, type TestProject } from '@basalt/testkit';
import { client, raw } from './helpers.js';

let p: TestProject;

before(async () => {
  p = await createProject('rest-csv');
  await p.sql(`
    create table things (id int primary key, label text, note text, flag bool, data jsonb, tags text[], at timestamp, n numeric, owner_id int);
    create table owners (id int primary key, name text);
    alter table things add foreign key (owner_id) references owners;
    create table small (id int primary key);
    create table big (id int primary key);
    insert into owners values (1, 'Ann Lee');
    insert into things values
      (1, 'plain', 'has space', true, '{"b": [1, 2], "a": 1}', '{x,y}', '2024-01-02 03:04:05', 1.50, 1),
      (2, '', null, false, null, '{}', null, null, null),
      (3, 'say "hi"', 'a\\b', null, '"s"', '{"with space"}', null, 0, null);
    insert into small select generate_series(1, 20);
    insert into big select generate_series(1, 1500);
    analyze big;
    do $$ declare t text; begin foreach t in array array['things','owners','small','big'] loop
      execute format('create policy r on %I for select using (true)', t); end loop; end $$;
    create function things_of(o int) returns setof things language sql stable as $$ select * from things where owner_id = o $$;
  `);
});

test('CSV: Postgres text of each value, quoted as a record prints it; jsonb as Postgres prints it; no rows is a lone newline', async () => {
  const r = await raw(p, '/things?order=id', { headers: { accept: 'text/csv' } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'text/csv; charset=utf-8');
  assert.equal(r.text, [
    'id,label,note,flag,data,tags,at,n,owner_id',
    '1,plain,"has space",t,"{""a"": 1, ""b"": [1, 2]}","{x,y}","2024-01-02 03:04:05",1.50,1',
    '2,"",,f,,{},,,',
    '3,"say ""hi""","a\\\\b",,"""s""","{""with space""}",,0,',
  ].join('\n'));
  const empty = await raw(p, '/things?id=eq.99', { headers: { accept: 'text/csv' } });
  assert.equal(empty.text, '\n');
  const embedded = await client(p).from('things').select('id, owners(name)').eq('id', 1).csv();
  assert.equal(embedded.data, 'id,owners\n1,"{""name"":""Ann Lee""}"');
  const rpc = await raw(p, '/rpc/things_of?o=1&select=id,label', { headers: { accept: 'text/csv' } });
  assert.equal(rpc.text, 'id,label\n1,plain');
  const written = await raw(p, '/owners?select=id,name', { method: 'POST', bearer: p.serviceKey, json: { id: 2, name: 'Bo, Jr.' }, headers: { accept: 'text/csv', prefer: 'return=representation' } });
  assert.equal(written.status, 201);
  assert.equal(written.text, 'id,name\n2,"Bo, Jr."');
});

test('count=estimated is exact up to max-rows, and past it the larger of that and the planner estimate', async () => {
  // A table never analysed: the planner guesses far more than its 20 rows, PostgREST still counts them exactly.
  const small = await client(p).from('small').select('id', { count: 'estimated', head: true });
  assert.equal(small.count, 20);
  const smallRaw = await raw(p, '/small?select=id&limit=5', { headers: { prefer: 'count=estimated' } });
  assert.equal(smallRaw.status, 206);
  assert.equal(smallRaw.headers.get('content-range'), '0-4/20');
  assert.equal(smallRaw.headers.get('preference-applied'), 'count=estimated');
  // 1500 analysed rows, more than max-rows (1000): the estimate (1500) wins over the capped exact count (1001).
  const big = await raw(p, '/big?select=id&limit=1', { headers: { prefer: 'count=estimated' } });
  assert.equal(big.headers.get('content-range'), '0-0/1500');
  const planned = await client(p).from('small').select('id', { count: 'planned', head: true });
  assert.ok(typeof planned.count === 'number' && planned.count > 0);
});

test('errors name the aliased relation as PostgREST does', async () => {
  const order = await raw(p, '/owners?select=id,stuff:things(id)&order=stuff(id)');
  assert.equal(order.status, 400);
  assert.deepEqual(order.body, {
    code: 'PGRST118', message: "A related order on 'stuff' is not possible",
    details: "'owners' and 'stuff' do not form a many-to-one or one-to-one relationship", hint: null,
  });
  const filter = await raw(p, '/owners?select=id,stuff:things(id)&stuff=eq.1');
  assert.equal(filter.status, 400);
  assert.deepEqual(filter.body, {
    code: 'PGRST120', message: "Bad operator on the 'stuff' embedded resource",
    details: 'Only is null or not is null filters are allowed on embedded resources', hint: null,
  });
  const notEmbedded = await raw(p, '/owners?select=id,stuff:things(id)&things.id=eq.1');
  assert.deepEqual(notEmbedded.body, {
    code: 'PGRST108', message: "'things' is not an embedded resource in this request",
    details: null, hint: "Verify that 'things' is included in the 'select' query parameter.",
  });
  const ok = await raw(p, '/things?select=id,who:owners(name)&order=who(name).nullslast,id&limit=2');
  assert.deepEqual(ok.body, [{ id: 1, who: { name: 'Ann Lee' } }, { id: 2, who: null }]);
});
