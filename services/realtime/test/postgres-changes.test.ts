// Postgres changes with supabase-js: trigger capture installed only while a table has subscribers, INSERT /
// UPDATE / DELETE / * with filters, Realtime's payload as realtime-js hands it to callbacks, delivery only of
// rows the subscriber's JWT may SELECT under RLS, and a bulk write arriving complete and once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createProject, eventually, testEnv, type TestProject } from '@basalt/testkit';
import { closeClients, rt, sleep, subscribed, watchInserts } from './helpers.js';

let p: TestProject;
const A = 'aaaaaaaa-0000-0000-0000-00000000000a', B = 'bbbbbbbb-0000-0000-0000-00000000000b';
before(async () => {
  p = await createProject('rt-changes');
  await p.sql(`create table public.todos (id bigserial primary key, owner uuid not null, title text, n int, tags text[], meta jsonb, at timestamptz default now());
    create policy own on public.todos for select using (owner = auth.uid());
    create table public.notes (id int primary key, body text);`);
});

const triggers = async () => (await p.sql<{ n: number }>(`select count(*)::int as n from pg_trigger where tgname = 'realtime_capture'`))[0].n;

function listen(token: string | null, filter: Record<string, string>, name = `c${Math.random()}`) {
  const c = token ? rt(p, { token }) : rt(p, { key: p.serviceKey });
  const got: any[] = [];
  const ch = c.channel(name).on('postgres_changes', { schema: 'public', table: 'todos', ...filter } as never, (m: any) => got.push(m));
  return { ch, got };
}

describe('realtime postgres changes', () => {
  // inside the suite: clients go before the file's projects are deleted (a closed socket would reconnect)
  after(closeClients);

  it('captures only while subscribed, and only rows each user may select', async () => {
    assert.equal(await triggers(), 0, 'no capture without subscribers');
    const a = listen(p.token({ sub: A }), { event: '*' });
    const b = listen(p.token({ sub: B }), { event: '*' });
    const svc = listen(null, { event: 'INSERT' });
    const filtered = listen(p.token({ sub: A }), { event: 'INSERT', filter: 'n=gt.5' });
    const inList = listen(p.token({ sub: A }), { event: 'INSERT', filter: 'title=in.(two,three)' });
    await Promise.all([a, b, svc, filtered, inList].map((x) => subscribed(x.ch)));
    assert.equal(await triggers(), 1);

    await p.sql(`insert into public.todos (owner, title, n, tags, meta) values ('${A}', 'one', 1, '{x,y}', '{"k":1}'), ('${B}', 'bee', 9, null, null), ('${A}', 'two', 7, null, null)`);
    await eventually(() => a.got.length === 2 && b.got.length === 1 && svc.got.length === 3 && filtered.got.length === 1 && inList.got.length === 1);
    assert.deepEqual(a.got.map((m) => m.new.title), ['one', 'two']);
    assert.deepEqual(b.got.map((m) => m.new.title), ['bee']);
    assert.equal(filtered.got[0].new.title, 'two');
    assert.equal(inList.got[0].new.title, 'two');
    const first = a.got[0];
    assert.equal(first.schema, 'public');
    assert.equal(first.table, 'todos');
    assert.equal(first.eventType, 'INSERT');
    assert.deepEqual(first.old, {});
    assert.equal(first.errors, null);
    assert.match(first.commit_timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(first.new.tags, ['x', 'y']);
    assert.deepEqual(first.new.meta, { k: 1 });
    assert.equal(typeof first.new.id, 'number');

    const id = first.new.id;
    await p.sql(`update public.todos set title = 'uno' where id = ${id}`);
    await eventually(() => a.got.length === 3);
    assert.equal(a.got[2].eventType, 'UPDATE');
    assert.equal(a.got[2].new.title, 'uno');
    assert.deepEqual(a.got[2].old, { id });
    await sleep(100);
    assert.equal(b.got.length, 1, "B never sees A's update");

    await p.sql(`delete from public.todos where id = ${id}`);
    await eventually(() => a.got.length === 4);
    assert.equal(a.got[3].eventType, 'DELETE');
    assert.deepEqual(a.got[3].old, { id }, 'deletes on RLS tables carry only the key');
  });

  it('delivers a bulk write complete and exactly once', async () => {
    const a = listen(p.token({ sub: A }), { event: 'INSERT' });
    await subscribed(a.ch);
    await p.sql(`insert into public.todos (owner, title, n) select '${A}', 'bulk', g from generate_series(1, 300) g;
      insert into public.todos (owner, title, n) select '${B}', 'bulk', g from generate_series(1, 100) g`);
    await eventually(() => a.got.length >= 300, 10_000);
    await sleep(200);
    assert.equal(a.got.length, 300);
    assert.equal(new Set(a.got.map((m) => m.new.id)).size, 300);
    assert.deepEqual(a.got.map((m) => m.new.n), Array.from({ length: 300 }, (_, i) => i + 1), 'in commit order');
  });

  it('checks many subscribers in shared round trips, each seeing only their own rows', async () => {
    const users = Array.from({ length: 12 }, (_, i) => `cccccccc-0000-0000-0000-${String(i).padStart(12, '0')}`);
    const subs = users.map((u) => listen(p.token({ sub: u }), { event: 'INSERT' }));
    await Promise.all(subs.map((x) => subscribed(x.ch)));
    await p.sql(`insert into public.todos (owner, title, n) select ('cccccccc-0000-0000-0000-' || lpad((g % 12)::text, 12, '0'))::uuid, 'many', g
      from generate_series(0, 59) g`);
    await eventually(() => subs.every((x) => x.got.length === 5), 10_000);
    await sleep(100);
    subs.forEach((x, i) => {
      assert.equal(x.got.length, 5);
      assert.ok(x.got.every((m) => m.new.owner === users[i] && m.new.n % 12 === i));
    });
  });

  it('checks filtered and unfiltered subscribers of one user in one batch alike', async () => {
    const D = 'dddddddd-0000-0000-0000-00000000000d', E = 'eeeeeeee-0000-0000-0000-00000000000e';
    const all = listen(p.token({ sub: D }), { event: 'INSERT' });
    const some = listen(p.token({ sub: D }), { event: 'INSERT', filter: 'n=gte.30' });
    const other = listen(p.token({ sub: E }), { event: 'INSERT', filter: 'n=lt.4' });
    const svc = listen(null, { event: 'INSERT', filter: 'title=eq.mixed' });
    await Promise.all([all, some, other, svc].map((x) => subscribed(x.ch)));
    await p.sql(`insert into public.todos (owner, title, n) select case when g % 2 = 0 then '${D}'::uuid else '${E}'::uuid end, 'mixed', g
      from generate_series(0, 39) g`);
    await eventually(() => all.got.length === 20 && some.got.length === 5 && other.got.length === 2 && svc.got.length === 40, 10_000);
    await sleep(100);
    assert.deepEqual(all.got.map((m) => m.new.n), Array.from({ length: 20 }, (_, i) => i * 2));
    assert.deepEqual(some.got.map((m) => m.new.n), [30, 32, 34, 36, 38]);
    assert.deepEqual(other.got.map((m) => m.new.n), [1, 3]);
    assert.equal(svc.got.length, 40);
  });

  it('checks changed rows scattered over the table as well as rows written together', async () => {
    // updates stay on their rows' pages (fillfactor): the changed rows lie far apart, among rows nobody changed
    await p.sql(`create table public.spread (id int primary key, owner uuid not null, n int, pad text) with (fillfactor = 40);
      alter table public.spread enable row level security;
      create policy own on public.spread for select using (owner = auth.uid());
      insert into public.spread select g, ('99999999-0000-0000-0000-' || lpad((g % 2)::text, 12, '0'))::uuid, 0, repeat('x', 400)
        from generate_series(1, 200) g`);
    const users = [0, 1].map((i) => `99999999-0000-0000-0000-${String(i).padStart(12, '0')}`);
    const subs = users.map((u) => listen(p.token({ sub: u }), { event: '*', table: 'spread' }, `spread-${u}`));
    await Promise.all(subs.map((x) => subscribed(x.ch)));
    await p.sql(`update public.spread set n = 1 where id % 10 = 0 or id % 10 = 5`);
    await p.sql(`insert into public.spread select g, ('99999999-0000-0000-0000-' || lpad((g % 2)::text, 12, '0'))::uuid, 2, 'y'
      from generate_series(201, 240) g`);
    await eventually(() => subs.every((x) => x.got.length === 40), 10_000);
    await sleep(100);
    subs.forEach((x, i) => {
      assert.deepEqual(x.got.filter((m) => m.eventType === 'UPDATE').map((m) => m.new.id).sort((a, b) => a - b),
        Array.from({ length: 40 }, (_, k) => (k + 1) * 5).filter((id) => id % 2 === i));
      assert.deepEqual(x.got.filter((m) => m.eventType === 'INSERT').map((m) => m.new.id),
        Array.from({ length: 40 }, (_, k) => 201 + k).filter((id) => id % 2 === i));
    });
  });

  it('checks each role by its own policies when callers of two roles share a round trip', async () => {
    // anon's policy and authenticated's differ; with six distinct callers, two share each round trip and connection
    await p.sql(`create table public.roles_t (id int primary key, owner uuid not null, pub boolean not null);
      alter table public.roles_t enable row level security;
      create policy pub on public.roles_t for select to anon using (pub);
      create policy own on public.roles_t for select to authenticated using (owner = auth.uid())`);
    const users = Array.from({ length: 5 }, (_, i) => `77777777-0000-0000-0000-${String(i).padStart(12, '0')}`);
    const listenAs = (key: { token: string } | Record<string, never>, name: string) => {
      const got: any[] = [];
      const ch = rt(p, key).channel(name).on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'roles_t' } as never, (m: any) => got.push(m));
      return { ch, got };
    };
    const anon = listenAs({}, 'roles-anon');
    const subs = users.map((u) => listenAs({ token: p.token({ sub: u }) }, `roles-${u}`));
    await Promise.all([anon, ...subs].map((x) => subscribed(x.ch)));
    const write = (from: number, to: number) => p.sql(`insert into public.roles_t
      select g, ('77777777-0000-0000-0000-' || lpad((g % 5)::text, 12, '0'))::uuid, g % 3 = 0 from generate_series(${from}, ${to}) g`);
    await write(1, 30); // located rows
    await write(31, 33); // read by key
    const ids = (x: { got: any[] }) => x.got.map((m) => m.new.id);
    const all = Array.from({ length: 33 }, (_, i) => i + 1);
    const mine = users.map((_, i) => all.filter((id) => id % 5 === i));
    await eventually(() => anon.got.length === 11 && subs.every((x, i) => x.got.length === mine[i].length), 10_000);
    await sleep(100);
    assert.deepEqual(ids(anon), all.filter((id) => id % 3 === 0));
    subs.forEach((x, i) => assert.deepEqual(ids(x), mine[i]));
  });

  it('checks rows by key where the service cannot read the table itself', async () => {
    // the shared row lookup runs as basalt_admin; without its SELECT, each subscriber's read goes by key
    await p.sql(`create table public.sealed (id int primary key, owner uuid not null, body text);
      alter table public.sealed enable row level security;
      create policy own on public.sealed for select using (owner = auth.uid());
      revoke select on public.sealed from basalt_admin`);
    const users = Array.from({ length: 3 }, (_, i) => `ffffffff-0000-0000-0000-${String(i).padStart(12, '0')}`);
    const subs = users.map((u) => listen(p.token({ sub: u }), { event: 'INSERT', table: 'sealed' }, `sealed-${u}`));
    await Promise.all(subs.map((x) => subscribed(x.ch)));
    await p.sql(`insert into public.sealed (id, owner, body) select g, ('ffffffff-0000-0000-0000-' || lpad((g % 3)::text, 12, '0'))::uuid, 'b'
      from generate_series(1, 30) g`);
    await eventually(() => subs.every((x) => x.got.length === 10), 10_000);
    await sleep(100);
    subs.forEach((x, i) => assert.ok(x.got.length === 10 && x.got.every((m) => m.new.owner === users[i] && m.new.id % 3 === i)));
  });

  it('sweeps a capture trigger no live replica claims (left by a crashed replica)', async () => {
    const q = await createProject('rt-sweep');
    await q.sql(`create table public.t (id int primary key);
      create trigger realtime_capture after insert or update or delete on public.t for each row execute function realtime.capture_change()`);
    const count = async () => (await q.sql<{ n: number }>(`select count(*)::int as n from pg_trigger where tgname = 'realtime_capture'`))[0].n;
    assert.equal(await count(), 1);
    await subscribed(rt(q).channel('any'));
    await eventually(async () => (await count()) === 0, 10_000, 200);
  });

  it('loses no change and repeats none when its LISTEN connection is cut: what committed meanwhile is read back', async () => {
    const q = await createProject('rt-relisten');
    await q.sql('create table public.events (id int primary key, body text)');
    const { got, statuses, leave } = await watchInserts(q, 'events', 'relisten', 15_000);
    await q.sql(`insert into public.events values (1, 'before')`);
    await eventually(() => got.length === 1, 15_000, 50);
    const [{ db }] = await q.sql<{ db: string }>('select current_database() as db');
    const admin = new pg.Client({ connectionString: testEnv().databaseUrl });
    await admin.connect();
    const listeners = async () => (await admin.query<{ pid: number }>(
      `select pid from pg_stat_activity where application_name = 'basalt-realtime-listen' and datname = $1`, [db])).rows.map((r) => r.pid);
    const [before] = await listeners();
    // cut the connection, and commit while it is down (it is tried again after 100 ms), one transaction each
    await admin.query('select pg_terminate_backend($1)', [before]);
    for (let id = 2; id <= 8; id++) await q.sql(`insert into public.events values (${id}, 'meanwhile')`);
    await eventually(async () => (await listeners()).some((pid) => pid !== before), 15_000, 50);
    await admin.end();
    await q.sql(`insert into public.events values (9, 'after'); insert into public.events values (10, 'after')`);
    await eventually(() => got.length >= 10, 15_000, 50);
    await sleep(300);
    assert.deepEqual(got, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'each once, in order');
    assert.deepEqual(statuses, ['SUBSCRIBED'], 'the channel never errored');
    await leave();
    await q.remove();
  });

  it('isolates a subscriber whose policy check raises: the others get every change (catalogue RT4)', async () => {
    // Supabase Realtime #2093: one subscription's RLS error aborted the batch for everyone, and the batch was lost
    await p.sql(`create table public.scoped (id bigserial primary key, owner uuid not null, body text);
      create policy by_tenant on public.scoped for select using (owner = (auth.jwt()->>'tenant')::uuid);`);
    const on = (token: string | null, name: string) => {
      const c = token ? rt(p, { token }) : rt(p, { key: p.serviceKey });
      const got: string[] = [];
      const ch = c.channel(name).on('postgres_changes', { schema: 'public', table: 'scoped', event: 'INSERT' } as never, (m: any) => got.push(m.new.body));
      return { ch, got };
    };
    const good = on(p.token({ sub: A, tenant: A }), 'scoped-good');
    const poison = on(p.token({ sub: B, tenant: 'not-a-uuid' }), 'scoped-poison'); // its check casts 'not-a-uuid'::uuid
    const svc = on(null, 'scoped-service');
    await Promise.all([good, poison, svc].map((x) => subscribed(x.ch)));
    // one statement of ten rows, then ten of one: a batch of many changes and batches of one
    await p.sql(`insert into public.scoped (owner, body) select '${A}', 'bulk ' || g from generate_series(1, 10) g`);
    for (let i = 1; i <= 10; i++) await p.sql(`insert into public.scoped (owner, body) values ('${A}', 'one ${i}')`);
    const rows = (await p.sql<{ body: string }>('select body from public.scoped order by id')).map((r) => r.body);
    await eventually(() => good.got.length === 20 && svc.got.length === 20, 15_000, 50);
    assert.deepEqual(good.got, rows, 'every change, in order, for the subscriber whose check works');
    assert.deepEqual(svc.got, rows);
    assert.deepEqual(poison.got, [], 'none for the one whose check raises');
  });

  it('answers a bad filter with an error and drops the capture after the last subscriber leaves', async () => {
    const bad = listen(p.token({ sub: A }), { event: 'INSERT', filter: 'n=like.5' });
    await assert.rejects(subscribed(bad.ch), /Error parsing `filter` params/);
    await closeClients();
    await eventually(async () => (await triggers()) === 0, 15_000, 250);
  });
});
