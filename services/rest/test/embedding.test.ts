// Embedding as PostgREST 12 resolves it (Plan.hs findRel): FK constraint names as targets both ways, constraint and
// column targets never meaning a view, self-referencing tables, and the same embed name twice.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject, type TestProject } from '@basalt/testkit';
import { client, raw } from './helpers.js';

let p: TestProject;

before(async () => {
  p = await createProject('rest-embedding');
  await p.sql(`
    create table clients (id int primary key, name text not null);
    create table projects (id int primary key, name text not null, client_id int constraint projects_client_id_fkey references clients);
    create table family (id int primary key, name text not null, parent_id int references family);
    create view clients_v as select id, name from clients;
    create table contracts (id int primary key, buyer_id int constraint contracts_buyer_fkey references clients, seller_id int unique constraint contracts_seller_fkey references clients);
    insert into clients values (1, 'Acme'), (2, 'Globex');
    insert into projects values (10, 'Rocket', 1), (11, 'Anvil', 1), (12, 'Lamp', 2);
    insert into family values (1, 'Gran', null), (2, 'Mum', 1), (3, 'Kid', 2), (4, 'Aunt', 1);
    do $$ declare t text; begin foreach t in array array['clients','projects','family'] loop
      execute format('create policy r on %I for select using (true)', t); end loop; end $$;
    grant select on clients_v to anon;
  `);
});

const db = () => client(p);

test('an FK constraint name as the target embeds many-to-one and one-to-many', async () => {
  const m2o = await db().from('projects').select('name, projects_client_id_fkey(name)').eq('id', 10);
  assert.equal(m2o.error, null, JSON.stringify(m2o.error));
  assert.deepEqual(m2o.data, [{ name: 'Rocket', projects_client_id_fkey: { name: 'Acme' } }]);
  const o2m = await db().from('clients').select('name, projects_client_id_fkey(name)').eq('id', 1).order('id', { referencedTable: 'projects_client_id_fkey' });
  assert.equal(o2m.error, null, JSON.stringify(o2m.error));
  assert.deepEqual(o2m.data, [{ name: 'Acme', projects_client_id_fkey: [{ name: 'Rocket' }, { name: 'Anvil' }] }]);
  const aliased = await db().from('clients').select('name, work:projects_client_id_fkey(name)').eq('id', 2);
  assert.deepEqual(aliased.data, [{ name: 'Globex', work: [{ name: 'Lamp' }] }]);
});

test('constraint and column targets ignore views; the view is reached by its name, with a column or constraint hint', async () => {
  // clients_v exposes clients' key, so projects relates to it too: naming the table or a hint keeps it apart.
  const byColumn = await db().from('projects').select('name, client_id(name)').eq('id', 12);
  assert.equal(byColumn.error, null, JSON.stringify(byColumn.error));
  assert.deepEqual(byColumn.data, [{ name: 'Lamp', client_id: { name: 'Globex' } }]);
  const byConstraint = await db().from('projects').select('name, projects_client_id_fkey(id)').eq('id', 12);
  assert.deepEqual(byConstraint.data, [{ name: 'Lamp', projects_client_id_fkey: { id: 2 } }]);
  const view = await db().from('projects').select('name, clients_v!client_id(name)').eq('id', 12);
  assert.equal(view.error, null, JSON.stringify(view.error));
  assert.deepEqual(view.data, [{ name: 'Lamp', clients_v: { name: 'Globex' } }]);
  const viewByConstraint = await db().from('projects').select('name, clients_v!projects_client_id_fkey(name)').eq('id', 12);
  assert.deepEqual(viewByConstraint.data, [{ name: 'Lamp', clients_v: { name: 'Globex' } }]);
  const badHint = await raw(p, '/projects?select=name,clients!nope(name)');
  assert.equal(badHint.status, 400);
  assert.deepEqual(badHint.body, {
    code: 'PGRST200', message: "Could not find a relationship between 'projects' and 'clients' in the schema cache",
    details: "Searched for a foreign key relationship between 'projects' and 'clients' using the hint 'nope' in the schema 'public', but no matches were found.", hint: null,
  });
});

test('an ambiguous embed is 300 PGRST201 with PostgREST\'s details and hint', async () => {
  const r = await raw(p, '/contracts?select=id,clients(name)');
  assert.equal(r.status, 300);
  assert.deepEqual(r.body, {
    code: 'PGRST201',
    message: "Could not embed because more than one relationship was found for 'contracts' and 'clients'",
    details: [
      { cardinality: 'many-to-one', embedding: 'contracts with clients', relationship: 'contracts_buyer_fkey using contracts(buyer_id) and clients(id)' },
      { cardinality: 'one-to-one', embedding: 'contracts with clients', relationship: 'contracts_seller_fkey using contracts(seller_id) and clients(id)' },
    ],
    hint: "Try changing 'clients' to one of the following: 'clients!contracts_buyer_fkey', 'clients!contracts_seller_fkey'. Find the desired relationship in the 'details' key.",
  });
});

test('a self-referencing table: its own name is the children (one-to-many), its FK column the parent', async () => {
  const children = await db().from('family').select('name, family(name)').eq('id', 1).order('id', { referencedTable: 'family' });
  assert.equal(children.error, null, JSON.stringify(children.error));
  assert.deepEqual(children.data, [{ name: 'Gran', family: [{ name: 'Mum' }, { name: 'Aunt' }] }]);
  const parent = await db().from('family').select('name, parent_id(name)').eq('id', 3);
  assert.deepEqual(parent.data, [{ name: 'Kid', parent_id: { name: 'Mum' } }]);
  const hinted = await db().from('family').select('name, kids:family!parent_id(name), mother:parent_id(name)').eq('id', 2);
  assert.deepEqual(hinted.data, [{ name: 'Mum', kids: [{ name: 'Kid' }], mother: { name: 'Gran' } }]);
});

test('a to-one spread can be tested for null and joined inner, like any embed', async () => {
  await p.sql(`insert into projects values (13, 'Orphan', null)`);
  const orphans = await raw(p, '/projects?select=name,...clients(client:name)&clients=is.null');
  assert.deepEqual(orphans.body, [{ name: 'Orphan', client: null }]);
  const owned = await db().from('projects').select('name, ...clients!inner(client:name)').order('id');
  assert.deepEqual(owned.data, [{ name: 'Rocket', client: 'Acme' }, { name: 'Anvil', client: 'Acme' }, { name: 'Lamp', client: 'Globex' }]);
  const counted = await raw(p, '/projects?select=id,...clients(name)&clients=not.is.null&limit=1', { headers: { prefer: 'count=exact' } });
  assert.equal(counted.headers.get('content-range'), '0-0/3');
  await p.sql(`delete from projects where id = 13`);
});

test('the same embed name twice in one select is 42712, never an object with a duplicated key', async () => {
  const r = await raw(p, '/clients?select=id,projects(id),projects(name)');
  assert.equal(r.status, 400);
  assert.deepEqual(r.body, { code: '42712', message: 'table name "clients_projects_1" specified more than once', details: null, hint: null });
  const aliases = await raw(p, '/clients?select=id,a:projects(id),a:projects(name)');
  assert.equal(aliases.body.code, '42712');
  assert.equal(aliases.body.message, 'table name "clients_a_1" specified more than once');
  const nested = await raw(p, '/clients?select=id,projects(id,clients(id),clients(name))');
  assert.equal(nested.body.message, 'table name "projects_clients_2" specified more than once');
  // Different aliases of one relationship are fine.
  const two = await db().from('clients').select('id, a:projects(id), b:projects(name)').eq('id', 2);
  assert.deepEqual(two.data, [{ id: 2, a: [{ id: 12 }], b: [{ name: 'Lamp' }] }]);
});
