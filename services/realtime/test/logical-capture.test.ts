// Both capture paths through supabase-js: a project on the fleet's cluster (wal_level=replica) is captured by
// triggers, one on a throwaway wal_level=logical cluster this file starts by logical decoding. The same writes give
// the same postgres_changes on both: each committed change once, in commit order, with the same payload; rolled
// back writes and rows RLS hides give nothing; and no replication slot exists before the first subscriber or after
// the last one left. Connections cut mid-stream lose nothing (the stream resumes from its slot), and what a crashed
// replica left behind is swept.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { postgresBin, startLocalCluster, type LocalCluster } from '@basalt/fleet';
import { createProject, eventually, platform, type TestProject } from '@basalt/testkit';
import { closeClients, rt, subscribed, watchInserts } from './helpers.js';

// the fleet's realtime runs REALTIME_CAPTURE=auto (the default): logical decoding on the cluster that allows it
const skip = postgresBin() ? false : 'no Postgres server binaries under /usr/lib/postgresql';
const clusterId = `test-logical-${randomBytes(4).toString('hex')}`;
// a cluster start and its template migration take a while on a loaded machine
const SLOW = { timeout: 300_000 };
let cluster: LocalCluster | undefined;
let registered = false;
let onTriggers: TestProject;
let onLogical: TestProject;

const SCHEMA = `create table public.items (id int primary key, body text, n int, tags text[], meta jsonb, at timestamptz, visible boolean not null default true);
  alter table public.items enable row level security;
  create policy visible_rows on public.items for select to anon, authenticated using (visible);`;

// One p.sql call is one transaction (the simple protocol runs a multi-statement string as one). `after`: the changes
// that must have arrived before the write runs. A change is checked under RLS against the row as it is when the
// change is delivered (as Supabase Realtime's apply_rls checks it), so a change to a row that a later write deletes
// before that check is, rightly, not delivered: the write deleting row 2 waits for row 2's insert. Without the wait
// the result depends on capture latency, and decoding sees a commit only once its WAL is flushed, which on this
// file's cluster (synchronous_commit=off) is up to 3 × wal_writer_delay later: row 2's insert would then be dropped.
const WRITES: { sql: string; after?: number }[] = [
  { sql: `insert into public.items (id, body, n, tags, meta, at) values (1, 'one', 1, '{a,b}', '{"k":[1,2]}', '2024-05-06 07:08:09.123+00'), (2, 'two', 2, null, null, null);
   insert into public.items (id, body, visible) values (3, 'hidden by RLS', false)` },
  { sql: `begin; insert into public.items (id, body) values (4, 'rolled back'); update public.items set body = 'nope' where id = 1; rollback` },
  { sql: `update public.items set body = 'uno', n = 10 where id = 1; delete from public.items where id = 2`, after: 2 },
  { sql: `insert into public.items (id, body) values (5, 'five')` },
  { sql: `insert into public.items (id, body) values (6, 'six')` },
];

async function slots(): Promise<number> {
  const c = new pg.Client({ connectionString: cluster!.url });
  await c.connect();
  try {
    return Number((await c.query('select count(*) as n from pg_replication_slots')).rows[0].n);
  } finally {
    await c.end();
  }
}

const count = async (p: TestProject, sql: string) => (await p.sql<{ n: number }>(`select (${sql})::int as n`))[0].n;
const triggers = (p: TestProject) => count(p, `select count(*) from pg_trigger where tgname = 'realtime_capture'`);
const publications = (p: TestProject) => count(p, `select count(*) from pg_publication where pubname like 'basalt\\_rt\\_%'`);

/** Subscribes as anon, runs the writes, returns what arrived once the last write has (commit order: all before it). */
async function scenario(p: TestProject, whileSubscribed: () => Promise<void>): Promise<{ got: any[]; leave: () => Promise<unknown> }> {
  const client = rt(p);
  const got: any[] = [];
  const ch = client.channel(`items-${randomBytes(3).toString('hex')}`).on('postgres_changes', { event: '*', schema: 'public', table: 'items' }, (m: any) => got.push(m));
  await subscribed(ch);
  await whileSubscribed();
  const leave = () => client.removeChannel(ch);
  try {
    for (const { sql, after } of WRITES) {
      if (after) await eventually(() => got.length >= after, 30_000, 50);
      await p.sql(sql);
    }
    await eventually(() => got.some((m) => m.new?.id === 6), 30_000, 50);
  } catch (e) {
    await leave();
    throw e;
  }
  return { got, leave };
}

describe('logical decoding capture', { skip }, () => {
  before(async () => {
    cluster = await startLocalCluster({ walLevel: 'logical' });
    // kept out of automatic placement, so other files' projects never land on a cluster that goes away
    await platform('/clusters', { method: 'POST', json: { id: clusterId, admin_url: cluster.url, accepts_new_projects: false } });
    registered = true;
    [onTriggers, onLogical] = await Promise.all([createProject('rt-trigger-capture'), createProject('rt-logical-capture', { cluster: clusterId })]);
    await Promise.all([onTriggers.sql(SCHEMA), onLogical.sql(SCHEMA)]);
  }, SLOW);
  after(async () => {
    await closeClients();
    for (const p of [onTriggers, onLogical]) await p?.remove().catch(() => undefined);
    if (registered) await platform(`/clusters/${clusterId}`, { method: 'DELETE' }).catch(() => undefined);
    cluster?.stop();
  }, SLOW);

  it('delivers each committed change once, in commit order, as the trigger capture does; nothing is retained after', SLOW, async () => {
    assert.equal(await slots(), 0, 'no slot before anyone subscribes');
    const logical = await scenario(onLogical, async () => {
      assert.equal(await slots(), 1, 'a slot while subscribed');
      assert.equal(await triggers(onLogical), 0, 'no trigger on a cluster that decodes');
    });
    const trigger = await scenario(onTriggers, async () => assert.equal(await triggers(onTriggers), 1, 'triggers where wal_level=replica'))
      .catch(async (e) => { await logical.leave(); throw e; });

    try {
      const shape = (m: any) => ({ ...m, commit_timestamp: undefined });
      assert.deepEqual(logical.got.map(shape), trigger.got.map(shape));
      assert.deepEqual(logical.got.map((m) => [m.eventType, m.new.id ?? m.old.id]),
        [['INSERT', 1], ['INSERT', 2], ['UPDATE', 1], ['DELETE', 2], ['INSERT', 5], ['INSERT', 6]]);
      const [first, second, update, del] = logical.got;
      assert.deepEqual(first.new, { id: 1, body: 'one', n: 1, tags: ['a', 'b'], meta: { k: [1, 2] }, at: '2024-05-06T07:08:09.123+00:00', visible: true });
      assert.deepEqual(second.new, { id: 2, body: 'two', n: 2, tags: null, meta: null, at: null, visible: true });
      assert.deepEqual(first.old, {});
      assert.match(first.commit_timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.deepEqual({ new: update.new.body, n: update.new.n, old: update.old }, { new: 'uno', n: 10, old: { id: 1 } });
      assert.deepEqual({ new: del.new, old: del.old }, { new: {}, old: { id: 2 } });
    } finally {
      // a failed check must not leave the stream (and its slot) to the next test
      await Promise.all([logical.leave(), trigger.leave()]);
    }
    // the last subscriber gone (and the linger passed): the stream, its slot and its publication end
    await eventually(async () => (await slots()) === 0 && (await publications(onLogical)) === 0, 60_000, 200);
    await eventually(async () => (await triggers(onTriggers)) === 0, 60_000, 200);
  });

  it('resumes from its slot when its connections are cut: what committed meanwhile arrives once, in order', SLOW, async () => {
    await onLogical.sql('create table public.events (id int primary key)');
    const { got, statuses, leave } = await watchInserts(onLogical, 'events', `resume-${randomBytes(3).toString('hex')}`);
    await onLogical.sql('insert into public.events values (1)');
    await eventually(() => got.length === 1, 30_000, 50);
    const admin = new pg.Client({ connectionString: cluster!.url });
    await admin.connect();
    try {
      // the walsender, the LISTEN connection and the capture's own connection all go; commits go on meanwhile
      const cut = await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity
        where application_name in ('basalt-realtime-wal', 'basalt-realtime-listen', 'basalt-realtime-capture')`);
      assert.ok(cut.rowCount! >= 2);
      for (let id = 2; id <= 8; id++) await onLogical.sql(`insert into public.events values (${id})`);
      await eventually(async () => (await admin.query(`select 1 from pg_replication_slots where active`)).rowCount === 1, 30_000, 100);
    } finally {
      await admin.end();
    }
    await onLogical.sql('insert into public.events values (9); insert into public.events values (10)');
    await eventually(() => got.length >= 10, 30_000, 50);
    await new Promise((r) => setTimeout(r, 500));
    try {
      assert.deepEqual(got, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'each once, in order');
      assert.deepEqual(statuses, ['SUBSCRIBED'], 'the channel never errored');
    } finally {
      await leave();
    }
    await eventually(async () => (await slots()) === 0, 60_000, 200);
  });

  it('keeps its slot through a restart of Postgres: what committed before and after arrives once, in order', SLOW, async () => {
    await onLogical.sql('create table public.restarted (id int primary key)');
    const { got, statuses, leave } = await watchInserts(onLogical, 'restarted', `restart-${randomBytes(3).toString('hex')}`);
    // the services' pooled connections to the database are ended by the restart: a write is tried again until one works
    const write = (sql: string) => eventually(async () => {
      try {
        await onLogical.sql(sql);
        return true;
      } catch {
        return false;
      }
    }, 30_000, 200);
    await write('insert into public.restarted values (1)');
    await eventually(() => got.length === 1, 30_000, 50);
    // committed, but (synchronous_commit=off) perhaps not yet decoded when the server goes down
    await write('insert into public.restarted values (2); insert into public.restarted values (3)');
    cluster!.restart();
    for (const id of [4, 5]) await write(`insert into public.restarted values (${id})`);
    await eventually(() => got.length >= 5, 60_000, 100);
    await new Promise((r) => setTimeout(r, 500));
    try {
      assert.deepEqual(got, [1, 2, 3, 4, 5], 'each once, in order');
      assert.deepEqual(statuses, ['SUBSCRIBED'], 'the channel never errored');
    } finally {
      await leave();
    }
    await eventually(async () => (await slots()) === 0, 60_000, 200);
  });

  it('drops the slot and publication a crashed replica left behind (a slot retains WAL until dropped)', SLOW, async () => {
    const q = await createProject('rt-logical-sweep', { cluster: clusterId });
    try {
      const [{ db }] = await q.sql<{ db: string }>('select current_database() as db');
      const url = new URL(cluster!.url);
      url.pathname = `/${db}`;
      const admin = new pg.Client({ connectionString: url.toString() });
      await admin.connect();
      // what a replica that no longer beats would have left: its tag is the hash of an id no replica has
      const stale = 'basalt_rt_0123456789_0123456789ab';
      await admin.query(`create publication ${stale}`);
      await admin.query(`select pg_create_logical_replication_slot('${stale}', 'pgoutput')`);
      const left = async () => Number((await admin.query(`select (select count(*) from pg_replication_slots where slot_name = $1)
        + (select count(*) from pg_publication where pubname = $1) as n`, [stale])).rows[0].n);
      try {
        assert.equal(await left(), 2);
        const client = rt(q, { key: q.serviceKey });
        const ch = await subscribed(client.channel('sweep'));
        await eventually(async () => (await left()) === 0, 30_000, 200);
        await client.removeChannel(ch);
      } finally {
        await admin.query('select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = $1', [stale]).catch(() => undefined);
        await admin.end();
      }
    } finally {
      await closeClients();
      await q.remove();
    }
  });

  it('captures a table with REPLICA IDENTITY FULL with its whole old row, as the trigger capture does', SLOW, async () => {
    const full = `create table public.full_items (id int primary key, body text); alter table public.full_items replica identity full;
      insert into public.full_items values (1, 'before')`;
    await Promise.all([onTriggers.sql(full), onLogical.sql(full)]);
    const run = async (p: TestProject) => {
      const client = rt(p, { key: p.serviceKey });
      const got: any[] = [];
      const ch = client.channel(`full-${randomBytes(3).toString('hex')}`).on('postgres_changes', { event: 'UPDATE', schema: 'public', table: 'full_items' }, (m: any) => got.push(m));
      await subscribed(ch);
      await p.sql(`update public.full_items set body = 'after' where id = 1`);
      await eventually(() => got.length === 1, 30_000, 50);
      await client.removeChannel(ch);
      return { new: got[0].new, old: got[0].old };
    };
    const [t, l] = [await run(onTriggers), await run(onLogical)];
    assert.deepEqual(l, { new: { id: 1, body: 'after' }, old: { id: 1, body: 'before' } });
    assert.deepEqual(l, t);
    await eventually(async () => (await slots()) === 0, 60_000, 200);
  });
});
