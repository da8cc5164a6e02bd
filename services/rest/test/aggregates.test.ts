// Aggregate functions in select (PostgREST 12): off by default with PGRST123, on with settings.rest.aggregates_enabled;
// count()/sum()/avg()/min()/max(), casts and aliases, grouping by the other columns, in embeds and with spread.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject, eventually, platform, type TestProject } from '@basalt/testkit';
import { client, raw } from './helpers.js';

let p: TestProject;
let off: TestProject;

const SCHEMA = `
  create table customers (id int primary key, name text not null, city text);
  create table orders (id int primary key, customer_id int references customers, amount numeric not null, day date not null, details jsonb);
  create policy r on customers for select using (true);
  create policy r on orders for select using (true);
  insert into customers values (1, 'Ann', 'Oslo'), (2, 'Bo', 'Oslo'), (3, 'Cy', 'Rome');
  insert into orders values (1, 1, 10.5, '2024-01-01', '{"tax": 1}'), (2, 1, 20, '2024-01-02', '{"tax": 2}'),
    (3, 2, 5, '2024-01-01', '{"tax": 0.5}'), (4, 3, 100, '2024-01-02', null);
`;

before(async () => {
  [p, off] = await Promise.all([createProject('rest-agg'), createProject('rest-agg-off')]);
  await Promise.all([p.sql(SCHEMA), off.sql(SCHEMA)]);
  await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { settings: { rest: { aggregates_enabled: true } } } });
  await eventually(async () => (await raw(p, '/orders?select=count()')).status === 200);
});

test('off by default: any aggregate is 400 PGRST123, as PostgREST with db-aggregates-enabled=false', async () => {
  for (const select of ['count()', 'amount.sum()', 'id,customers(amount:id.max())', 'day,...customers(id.count())']) {
    const r = await raw(off, `/orders?select=${encodeURIComponent(select)}`);
    assert.equal(r.status, 400, select);
    assert.deepEqual(r.body, { code: 'PGRST123', message: 'Use of aggregate functions is not allowed', details: null, hint: null }, select);
    assert.equal(r.headers.get('proxy-status'), 'PostgREST; error=PGRST123');
  }
});

test('count(), sum(), avg(), min(), max() over the whole table, with aliases and casts', async () => {
  const db = client(p);
  const all = await db.from('orders').select('count(), amount.sum(), amount.avg()::int, day.min(), day.max()');
  assert.equal(all.error, null, JSON.stringify(all.error));
  assert.deepEqual(all.data, [{ count: 4, sum: 135.5, avg: 34, min: '2024-01-01', max: '2024-01-02' }]);
  const aliased = await db.from('orders').select('n:count(), total:amount.sum()::text, tax:details->>tax::numeric.sum(), with_details:details.count()');
  assert.deepEqual(aliased.data, [{ n: 4, total: '135.5', tax: 3.5, with_details: 3 }]);
  const filtered = await raw(p, '/orders?select=amount.sum()&customer_id=eq.1');
  assert.deepEqual(filtered.body, [{ sum: 30.5 }]);
});

test('the other selected columns group the rows; order and filters still apply', async () => {
  const byDay = await client(p).from('orders').select('day, count(), amount.sum()').order('day');
  assert.deepEqual(byDay.data, [{ day: '2024-01-01', count: 2, sum: 15.5 }, { day: '2024-01-02', count: 2, sum: 120 }]);
  const aliasGroup = await raw(p, '/orders?select=d:day,c:customer_id,count()&order=day.desc,customer_id&amount=gt.6');
  assert.deepEqual(aliasGroup.body, [{ d: '2024-01-02', c: 1, count: 1 }, { d: '2024-01-02', c: 3, count: 1 }, { d: '2024-01-01', c: 1, count: 1 }]);
});

test('embedded resources: group by a to-one embed, aggregate inside a to-many embed', async () => {
  const byCustomer = await client(p).from('orders').select('amount.sum(), customers(name)');
  assert.equal(byCustomer.error, null, JSON.stringify(byCustomer.error));
  const names = (r: { customers: { name: string } }[]) => [...r].sort((a, b) => a.customers.name.localeCompare(b.customers.name));
  assert.deepEqual(names(byCustomer.data as any), [{ sum: 30.5, customers: { name: 'Ann' } }, { sum: 5, customers: { name: 'Bo' } }, { sum: 100, customers: { name: 'Cy' } }]);
  const inside = await client(p).from('customers').select('name, orders(amount.sum(), day)').order('id').order('day', { referencedTable: 'orders' });
  assert.deepEqual(inside.data, [
    { name: 'Ann', orders: [{ sum: 10.5, day: '2024-01-01' }, { sum: 20, day: '2024-01-02' }] },
    { name: 'Bo', orders: [{ sum: 5, day: '2024-01-01' }] },
    { name: 'Cy', orders: [{ sum: 100, day: '2024-01-02' }] },
  ]);
  const counted = await client(p).from('customers').select('id, orders(count())').eq('id', 1);
  assert.deepEqual(counted.data, [{ id: 1, orders: [{ count: 2 }] }]);
  const toOne = await raw(p, '/orders?select=id,customers(count())&id=eq.4');
  assert.deepEqual(toOne.body, [{ id: 4, customers: { count: 1 } }]);
});

test('spread: its columns group the parent, its aggregates run over the parent rows', async () => {
  const byCity = await client(p).from('orders').select('amount.sum(), ...customers(city)');
  assert.equal(byCity.error, null, JSON.stringify(byCity.error));
  const sorted = [...(byCity.data as { city: string }[])].sort((a, b) => a.city.localeCompare(b.city));
  assert.deepEqual(sorted, [{ sum: 35.5, city: 'Oslo' }, { sum: 100, city: 'Rome' }]);
  const spreadAgg = await raw(p, `/orders?select=day,...customers(first:name.min(),last:name.max(),n:id.count())&order=day`);
  assert.deepEqual(spreadAgg.body, [{ day: '2024-01-01', first: 'Ann', last: 'Bo', n: 2 }, { day: '2024-01-02', first: 'Ann', last: 'Cy', n: 2 }]);
  // A spread without aggregates is unchanged by all this.
  const plain = await client(p).from('orders').select('id, ...customers(name)').eq('id', 3);
  assert.deepEqual(plain.data, [{ id: 3, name: 'Bo' }]);
});

test('bad aggregates are 4xx: an unknown column, sum over text, a bad cast', async () => {
  const unknown = await raw(p, '/orders?select=nope.sum()');
  assert.equal(unknown.status, 400);
  assert.equal(unknown.body.code, '42703');
  const text = await raw(p, '/customers?select=name.sum()');
  assert.equal(text.status, 404); // 42883 function sum(text) does not exist, as PostgREST maps it
  assert.equal(text.body.code, '42883');
  const toMany = await raw(p, '/customers?select=name,...orders(amount.sum())');
  assert.equal(toMany.status, 400);
  assert.deepEqual(toMany.body, { code: 'PGRST127', message: 'Feature not implemented', details: 'Aggregates are not implemented for one-to-many or many-to-many spreads.', hint: null });
  const cast = await raw(p, `/orders?select=${encodeURIComponent('amount.sum()::int;select 1')}`);
  assert.equal(cast.status, 400);
});
