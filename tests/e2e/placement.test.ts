// Placement and read replicas end to end, on a second Postgres cluster with a streaming replica that this file
// starts itself (@basalt/fleet's startLocalCluster): REST reads land on the replica, writes stay on the primary and are
// correct, a session reads its own write at once even while the replica is paused, and a project moved between
// clusters keeps its data and keeps working through supabase-js.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { withClient } from '@basalt/db';
import { postgresBin, startLocalCluster, type LocalCluster } from '@basalt/fleet';
import { createProject, eventually, platform, supabaseClient, testEnv, type TestProject } from '@basalt/testkit';

const skip = postgresBin() ? false : 'no Postgres server binaries (initdb, pg_ctl, pg_basebackup) under /usr/lib/postgresql';
const clusterId = `test-${randomBytes(4).toString('hex')}`;
let cluster: LocalCluster;
const onCluster: TestProject[] = [];

const query = <R = any>(url: string, text: string, values: unknown[] = []): Promise<R[]> =>
  withClient(url, async (c) => (await c.query(text, values)).rows as R[]);

const SCHEMA = `create table notes (id bigint generated always as identity primary key, body text not null, author uuid);
  alter table notes enable row level security;
  create policy notes_all on notes for all to anon, authenticated using (true) with check (true);
  create view where_am_i with (security_invoker = true) as select pg_is_in_recovery() as replica;
  grant select on where_am_i to anon, authenticated;
  create function in_recovery() returns boolean language sql stable as $$ select pg_is_in_recovery() $$;
  create function in_recovery_volatile() returns boolean language sql volatile as $$ select pg_is_in_recovery() $$;
  grant execute on function in_recovery(), in_recovery_volatile() to anon, authenticated;`;

// a cluster, its replica and pg_dump | pg_restore take a while on a loaded machine
const SLOW = { timeout: 300_000 };

describe('placement and read replicas', { skip }, () => {
  before(async () => {
    cluster = await startLocalCluster({ replica: true });
    const r = await fetch(`${testEnv().gatewayUrl}/platform/v1/clusters`, {
      method: 'POST',
      headers: { authorization: `Bearer ${testEnv().platformToken}`, 'content-type': 'application/json' },
      // kept out of automatic placement, so other test files' projects never land on a cluster that goes away
      body: JSON.stringify({ id: clusterId, admin_url: cluster.url, replica_url: cluster.replicaUrl, accepts_new_projects: false }),
    });
    assert.equal(r.status, 201, await r.text());
  }, SLOW);
  after(async () => {
    for (const p of onCluster) await p.remove().catch(() => undefined);
    await platform(`/clusters/${clusterId}`, { method: 'DELETE' }).catch(() => undefined);
    cluster?.stop();
  }, SLOW);

  it('lists the cluster and refuses bad registrations with a 400', async () => {
    const list = await platform<{ id: string; has_replica: boolean; accepts_new_projects: boolean }[]>('/clusters');
    const mine = list.find((c) => c.id === clusterId);
    assert.deepEqual({ replica: mine?.has_replica, accepts: mine?.accepts_new_projects }, { replica: true, accepts: false });
    assert.ok(list.some((c) => c.id === 'default'));
    // a primary given as the replica, and a server that does not answer
    await assert.rejects(platform('/clusters', { method: 'POST', json: { id: `${clusterId}-x`, admin_url: cluster.url, replica_url: cluster.url } }), /400.*cluster_unreachable/);
    await assert.rejects(platform('/clusters', { method: 'POST', json: { id: `${clusterId}-y`, admin_url: 'postgres://postgres@127.0.0.1:1/postgres' } }), /400.*cluster_unreachable/);
    await assert.rejects(platform('/projects', { method: 'POST', json: { name: 'nowhere', cluster: 'no-such-cluster' } }), /404.*cluster_not_found/);
  });

  it('REST reads go to the replica, writes and volatile calls to the primary; a session reads its own write at once', SLOW, async () => {
    const p = await createProject('replicated');
    // createProject places by the usual rule; this one is moved onto the replicated cluster first
    onCluster.push(p);
    await platform(`/projects/${p.ref}/move`, { method: 'POST', json: { cluster: clusterId } });
    assert.equal((await platform(`/projects/${p.ref}`)).cluster, clusterId);
    await p.sql(SCHEMA);
    const anon = supabaseClient(p);
    // the replica replays the DDL within moments
    await eventually(async () => (await anon.rpc('in_recovery')).data === true, 20_000, 100);
    assert.deepEqual((await anon.from('where_am_i').select('replica')).data, [{ replica: true }]);
    assert.equal((await anon.rpc('in_recovery', undefined, { get: true })).data, true);
    assert.equal((await anon.rpc('in_recovery_volatile')).data, false, 'a VOLATILE function runs on the primary');

    // replay paused: what the replica serves is now behind the primary
    await query(cluster.replicaUrl!, 'select pg_wal_replay_pause()');
    try {
      const a = supabaseClient(p, { accessToken: p.token({ sub: randomUUID() }) });
      const b = supabaseClient(p, { accessToken: p.token({ sub: randomUUID() }) });
      const wrote = await a.from('notes').insert({ body: 'mine' }).select('body').single();
      assert.equal(wrote.error, null);
      // the writer reads its own write (from the primary, while the replica has not replayed it)
      assert.deepEqual((await a.from('notes').select('body')).data, [{ body: 'mine' }]);
      assert.deepEqual((await a.from('where_am_i').select('replica')).data, [{ replica: false }]);
      // another session reads the replica, which has not seen it yet
      assert.deepEqual((await b.from('notes').select('body')).data, []);
      assert.deepEqual((await b.from('where_am_i').select('replica')).data, [{ replica: true }]);
      // writes stay correct: several sessions at once, all on the primary
      const many = await Promise.all(Array.from({ length: 8 }, (_, i) => b.from('notes').insert({ body: `b${i}` })));
      for (const r of many) assert.equal(r.error, null);
    } finally {
      await query(cluster.replicaUrl!, 'select pg_wal_replay_resume()');
    }
    await eventually(async () => ((await anon.from('notes').select('body')).data ?? []).length === 9, 20_000, 100);
    const primaryRows = await p.sql<{ n: string }>('select count(*) as n from notes');
    assert.equal(Number(primaryRows[0].n), 9);
  });

  it('a project moved between clusters keeps its data and keeps working through supabase-js', SLOW, async () => {
    const p = await createProject('mover');
    onCluster.push(p);
    const from = (await platform(`/projects/${p.ref}`)).cluster as string;
    await p.sql(`create table items (id int primary key, name text);
      alter table items enable row level security;
      create policy items_all on items for all to anon using (true) with check (true);
      insert into items select g, 'item ' || g from generate_series(1, 50) g;`);
    const db = supabaseClient(p);
    assert.equal((await db.from('items').select('id', { count: 'exact', head: true })).count, 50);

    const moved = await platform<{ cluster: string; moved: boolean; read_only_ms: number }>(`/projects/${p.ref}/move`, { method: 'POST', json: { cluster: clusterId } });
    assert.deepEqual({ cluster: moved.cluster, moved: moved.moved }, { cluster: clusterId, moved: true });
    assert.ok(moved.read_only_ms >= 0);
    assert.equal((await platform(`/projects/${p.ref}`)).cluster, clusterId);
    // the old database is gone from the old cluster; the new one has it
    assert.equal((await query(testEnv().databaseUrl, 'select 1 from pg_database where datname = $1', [`proj_${p.ref}`])).length, 0);
    assert.equal((await query(cluster.url, 'select 1 from pg_database where datname = $1', [`proj_${p.ref}`])).length, 1);
    // same keys, same URL: reads (from the new cluster's replica once it has replayed the copy) and writes work
    await eventually(async () => (await db.from('items').select('id', { count: 'exact', head: true })).count === 50, 20_000, 100);
    const ins = await db.from('items').insert({ id: 51, name: 'after move' }).select('name').single();
    assert.equal(ins.error, null);
    assert.deepEqual((await db.from('items').select('name').eq('id', 51)).data, [{ name: 'after move' }]);
    // RLS, grants and sequences came along: the moved project's database is the same database
    assert.deepEqual((await p.sql('select count(*)::int as n from items')), [{ n: 51 }]);

    // and back: a cluster without a replica serves everything from its primary
    const back = await platform<{ cluster: string }>(`/projects/${p.ref}/move`, { method: 'POST', json: { cluster: from } });
    assert.equal(back.cluster, from);
    assert.equal((await db.from('items').select('id', { count: 'exact', head: true })).count, 51);
    assert.equal((await db.from('items').update({ name: 'home again' }).eq('id', 51).select('name')).data?.[0]?.name, 'home again');
    // moving where it already is changes nothing; an unknown cluster is a 404, a busy cluster cannot be removed
    assert.equal((await platform(`/projects/${p.ref}/move`, { method: 'POST', json: { cluster: from } })).moved, false);
    await assert.rejects(platform(`/projects/${p.ref}/move`, { method: 'POST', json: { cluster: 'no-such-cluster' } }), /404/);
    await assert.rejects(platform(`/clusters/${clusterId}`, { method: 'DELETE' }), /409.*cluster_in_use/);
  });
});
