// Postgres changes with supabase-js: trigger capture installed only while a table has subscribers, INSERT /
// UPDATE / DELETE / * with filters, Realtime's payload as realtime-js hands it to callbacks, delivery only of
// rows the subscriber's JWT may SELECT under RLS, and a bulk write arriving complete and once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createProject, eventually, type TestProject } from '@basalt/testkit';
import { closeClients, rt, sleep, subscribed } from './helpers.js';

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

  it('sweeps a capture trigger no live replica claims (left by a crashed replica)', async () => {
    const q = await createProject('rt-sweep');
    await q.sql(`create table public.t (id int primary key);
      create trigger realtime_capture after insert or update or delete on public.t for each row execute function realtime.capture_change()`);
    const count = async () => (await q.sql<{ n: number }>(`select count(*)::int as n from pg_trigger where tgname = 'realtime_capture'`))[0].n;
    assert.equal(await count(), 1);
    await subscribed(rt(q).channel('any'));
    await eventually(async () => (await count()) === 0, 10_000, 200);
  });

  it('answers a bad filter with an error and drops the capture after the last subscriber leaves', async () => {
    const bad = listen(p.token({ sub: A }), { event: 'INSERT', filter: 'n=like.5' });
    await assert.rejects(subscribed(bad.ch), /Error parsing `filter` params/);
    await closeClients();
    await eventually(async () => (await triggers()) === 0, 15_000, 250);
  });
});
