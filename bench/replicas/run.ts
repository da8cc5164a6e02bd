// bench/replicas: REST reads routed to a read replica, under load, in one run. A second Postgres cluster with a
// streaming replica is started here (@basalt/fleet's startLocalCluster) and registered twice: once with its
// replica and once, under another id, as the same primary alone. Project R lives on the first, project P on the
// second, with the same table and rows, so the only difference between them is where REST sends their reads.
//   1. GET by key through the gateway at 64 connections, R against P (the ratio is what the replica adds; on a
//      machine where primary and replica share the same cores it cannot be much above 1);
//   2. R again while a writer inserts through REST as fast as it can: read req/s, inserts/s, and after the run
//      every acknowledged insert is on the primary and, once replayed, on the replica (writes stay correct);
//   3. the replica's replay lag at the end of the write run.
// Writes bench/results/replicas.json.   node --import tsx bench/replicas/run.ts   (BENCH_SECONDS, default 10)
import { randomBytes } from 'node:crypto';
import { withClient } from '@basalt/db';
import { startLocalCluster } from '@basalt/fleet';
import { benchFleet, median, requireTool, wrk, wrkAsync, writeResults } from '../lib.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
requireTool('wrk', 'wrk');
const bench = await benchFleet('replicas', ['platform', 'gateway', 'rest']);
const cluster = await startLocalCluster({ replica: true });

const query = <R = Record<string, unknown>>(url: string, text: string, values: unknown[] = []): Promise<R[]> =>
  withClient(url, async (c) => (await c.query(text, values)).rows as R[]);

try {
  const tag = randomBytes(3).toString('hex');
  const replicated = `bench-r-${tag}`;
  const alone = `bench-p-${tag}`;
  await bench.platform('/clusters', { id: replicated, admin_url: cluster.url, replica_url: cluster.replicaUrl, accepts_new_projects: false });
  await bench.platform('/clusters', { id: alone, admin_url: cluster.url, accepts_new_projects: false });
  const schema = `create table items (id int primary key, name text not null);
    insert into items select g, 'item ' || g from generate_series(1, 10000) g;
    create table writes (id bigint generated always as identity primary key, n int not null);
    alter table items enable row level security; alter table writes enable row level security;
    create policy read_all on items for select to anon using (true);
    create policy write_all on writes for all to anon using (true) with check (true);`;
  const projects = {} as Record<'R' | 'P', { ref: string; anon_key: string; db: string }>;
  for (const [name, id] of [['R', replicated], ['P', alone]] as const) {
    const p = await bench.platform<{ ref: string; anon_key: string }>('/projects', { name: `bench ${name}`, cluster: id });
    await bench.platform(`/projects/${p.ref}/sql`, { query: schema });
    const [{ db_name }] = await query<{ db_name: string }>(bench.databaseUrl, 'select db_name from platform.projects where ref = $1', [p.ref]);
    projects[name] = { ...p, db: db_name };
  }
  const onDb = (url: string, db: string) => Object.assign(new URL(url), { pathname: `/${db}` }).toString();
  const primaryR = onDb(cluster.url, projects.R.db);
  const replicaR = onDb(cluster.replicaUrl!, projects.R.db);
  // the replica has the table before anything is measured
  for (let i = 0; i < 200; i++) {
    const rows = await query<{ n: string }>(replicaR, 'select count(*) as n from items').catch(() => [{ n: '0' }]);
    if (Number(rows[0].n) === 10000) break;
    await new Promise((r) => setTimeout(r, 100));
  }

  const gw = bench.fleet.gatewayUrl!;
  const headers = (p: { anon_key: string }) => ({ apikey: p.anon_key, authorization: `Bearer ${p.anon_key}` });
  const readUrl = (p: { ref: string }) => `${gw}/project/${p.ref}/rest/v1/items?select=id,name&id=eq.4242`;
  // proof that R's reads are served by the replica: a read-only view of where a statement runs
  await bench.platform(`/projects/${projects.R.ref}/sql`, {
    query: `create view where_am_i with (security_invoker = true) as select pg_is_in_recovery() as replica; grant select on where_am_i to anon;`,
  });
  let servedByReplica = false;
  for (let i = 0; i < 100 && !servedByReplica; i++) {
    const r = await fetch(`${gw}/project/${projects.R.ref}/rest/v1/where_am_i?select=replica`, { headers: headers(projects.R) });
    servedByReplica = r.ok && ((await r.json()) as { replica: boolean }[])[0]?.replica === true;
    if (!servedByReplica) await new Promise((r) => setTimeout(r, 100));
  }

  for (const p of [projects.R, projects.P]) wrk(readUrl(p), { connections: 16, seconds: 2, headers: headers(p) });
  const rounds: { R: number; P: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const P = wrk(readUrl(projects.P), { connections: 64, seconds: SECONDS, headers: headers(projects.P) });
    const R = wrk(readUrl(projects.R), { connections: 64, seconds: SECONDS, headers: headers(projects.R) });
    rounds.push({ R: R.rps, P: P.rps });
    process.stderr.write(`round ${i + 1}: replica ${R.rps.toFixed(0)} req/s (p99 ${R.p99_ms} ms), primary ${P.rps.toFixed(0)} req/s (p99 ${P.p99_ms} ms)\n`);
  }

  // reads on R while a writer inserts through REST
  let acknowledged = 0;
  let failed = 0;
  // a connection lost mid-request (a kept-alive socket the server closed as it was reused): the insert may or may
  // not have happened, so it is counted apart
  let unanswered = 0;
  let writing = true;
  const writer = async () => {
    while (writing) {
      try {
        const r = await fetch(`${gw}/project/${projects.R.ref}/rest/v1/writes`, {
          method: 'POST', headers: { ...headers(projects.R), 'content-type': 'application/json', prefer: 'return=minimal' }, body: JSON.stringify({ n: acknowledged }),
        });
        await r.arrayBuffer();
        if (r.status === 201) acknowledged++;
        else failed++;
      } catch {
        unanswered++;
      }
    }
  };
  const started = performance.now();
  const writers = Array.from({ length: 8 }, writer);
  const underWrites = await wrkAsync(readUrl(projects.R), { connections: 64, seconds: SECONDS, headers: headers(projects.R) });
  writing = false;
  await Promise.all(writers);
  const writeSeconds = (performance.now() - started) / 1000;
  const [{ n: onPrimary }] = await query<{ n: string }>(primaryR, 'select count(*) as n from writes');
  const [{ lag_ms }] = await query<{ lag_ms: number | null }>(cluster.url, `select extract(epoch from replay_lag) * 1000 as lag_ms from pg_stat_replication limit 1`);
  const caughtUpAt = performance.now();
  let onReplica = 0;
  while (performance.now() - caughtUpAt < 30_000) {
    onReplica = Number((await query<{ n: string }>(replicaR, 'select count(*) as n from writes'))[0].n);
    if (onReplica >= Number(onPrimary)) break;
    await new Promise((r) => setTimeout(r, 20));
  }

  const result = {
    seconds: SECONDS,
    served_by_replica: servedByReplica,
    get_by_key_rps: { replica: median(rounds.map((r) => r.R)), primary_only: median(rounds.map((r) => r.P)), rounds },
    ratio_replica_to_primary: +(median(rounds.map((r) => r.R)) / median(rounds.map((r) => r.P))).toFixed(2),
    under_writes: {
      read_rps: underWrites.rps, read_p99_ms: underWrites.p99_ms, read_errors: underWrites.errors,
      inserts_per_s: +(acknowledged / writeSeconds).toFixed(0), acknowledged, failed, unanswered,
      rows_on_primary: Number(onPrimary), rows_on_replica: onReplica,
      // every acknowledged insert is there, nothing beyond what was sent, and the replica has the primary's rows
      writes_correct: Number(onPrimary) >= acknowledged && Number(onPrimary) <= acknowledged + unanswered && onReplica === Number(onPrimary),
      replay_lag_ms_at_end: lag_ms === null ? null : +Number(lag_ms).toFixed(1),
      replica_caught_up_ms: +(performance.now() - caughtUpAt).toFixed(0),
    },
  };
  process.stderr.write(`${JSON.stringify(result, null, 2)}\n`);
  process.stderr.write(`written to ${writeResults('replicas', result)}\n`);
  for (const p of [projects.R, projects.P]) await bench.platform(`/projects/${p.ref}?confirm=${p.ref}`, undefined, 'DELETE').catch(() => undefined);
  for (const id of [replicated, alone]) await bench.platform(`/clusters/${id}`, undefined, 'DELETE').catch(() => undefined);
} finally {
  await bench.stop();
  cluster.stop();
}
