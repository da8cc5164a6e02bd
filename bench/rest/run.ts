// bench/rest: REST through the gateway (GET by key, GET 100 rows, embedded GET, single-row insert) against, in
// the same run, a minimal Node server doing the GET-by-key query with `pg`, and `pgbench -S`.
// GET by key and the minimal server alternate in BENCH_ROUNDS (3) rounds of BENCH_SECONDS (6 s); the ratio and p99
// are the medians of the rounds'. GET by key also runs once as 256 signed-in users in turn (no shared settings).
// Each GET-by-key run also reports the CPU per request (µs, from /proc) of the rest service, the gateway and the
// project database's backends, and of the minimal server. Writes bench/results/rest.json.
//   node --import tsx bench/rest/run.ts
import { execFileSync } from 'node:child_process';
import { backendPids, benchFleet, median, medianRun, projectDatabaseUrl, requireTool, startMinimalServer, usersScript, wrk, writeResults, type WrkResult } from '../lib.js';
import { withCpu } from './cpu.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNS = 64;
requireTool('wrk', 'wrk');

type WrkCpu = WrkResult & { cpu_us_per_request: Record<string, number> };

const MINIMAL_SERVER = `
const pg = require(process.env.PG_PATH);
const pool = new pg.Pool({ connectionString: process.env.DB_URL, max: 10 });
const server = require('node:http').createServer(async (_req, res) => {
  const r = await pool.query('select id, title, author_id from books where id = $1', [42]);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(r.rows));
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;

const bench = await benchFleet('rest', ['platform', 'gateway', 'rest'], { ...(process.env.BENCH_PROFILE ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_PROFILE}` } : {}) });
const results: Record<string, unknown> = {};
try {
  const project = await bench.platform<{ ref: string; anon_key: string; service_role_key: string }>('/projects', { name: 'bench-rest' });
  await bench.platform(`/projects/${project.ref}/sql`, {
    query: `create table authors (id int primary key, name text);
      create table books (id int primary key, title text, author_id int references authors);
      insert into authors select g, 'author ' || g from generate_series(1, 100) g;
      insert into books select g, 'book ' || g, 1 + g % 100 from generate_series(1, 10000) g;
      create table events (id bigint generated always as identity primary key, v text);
      create policy r on authors for select using (true); create policy r on books for select using (true);
      create policy w on events for insert with check (true);`,
  });
  await bench.platform(`/projects/${project.ref}`, { settings: { rate_limit_rps: 1_000_000 } }, 'PATCH');
  await new Promise((r) => setTimeout(r, 300));
  const base = `${bench.fleet.gatewayUrl}/project/${project.ref}/rest/v1`;
  const headers = { apikey: project.anon_key, authorization: `Bearer ${project.anon_key}` };
  const warm = await fetch(`${base}/books?id=eq.1`, { headers });
  if (!warm.ok) throw new Error(`warm-up: ${warm.status} ${await warm.text()}`);
  // Warm-up at full concurrency on the measured shapes: every pooled connection opened, statements prepared, JIT warm.
  for (const path of ['/books?select=id,title,author_id&id=eq.42', '/books?select=*&limit=100', '/books?select=id,title,authors(name)&id=eq.42']) {
    wrk(`${base}${path}`, { connections: CONNS, seconds: 2, headers });
  }
  const dbUrl = await projectDatabaseUrl(bench.databaseUrl, project.ref);
  const pid = (name: string) => () => [bench.fleet.processes.get(name)!.pid!];
  const cpu = { rest: pid('rest'), gateway: pid('gateway'), postgres: () => backendPids(dbUrl) };
  // Baseline: a minimal Node server doing the same single query with pg, straight to the project database. It and
  // GET by key alternate in rounds, each one's median run counting: the machine drifts by ±30 % between minutes,
  // which one run of each after the other reads as a ratio (and a p99) moving by as much.
  const { port, child: minimal } = await startMinimalServer(MINIMAL_SERVER, dbUrl);
  wrk(`http://127.0.0.1:${port}/`, { connections: CONNS, seconds: 2 });
  const rounds: { getByKey: WrkCpu; minimalPg: WrkCpu }[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const getByKey = await withCpu(cpu, SECONDS, () => wrk(`${base}/books?select=id,title,author_id&id=eq.42`, { connections: CONNS, seconds: SECONDS, headers }));
    const minimalPg = await withCpu({ minimal: () => [minimal.pid!] }, SECONDS, () => wrk(`http://127.0.0.1:${port}/`, { connections: CONNS, seconds: SECONDS }));
    rounds.push({ getByKey, minimalPg });
    process.stderr.write(`round ${i + 1}: GET by key ${getByKey.rps.toFixed(0)} req/s p99 ${getByKey.p99_ms} ms, minimal ${minimalPg.rps.toFixed(0)} req/s\n`);
  }
  minimal.kill();
  results.getByKey = medianRun(rounds.map((r) => r.getByKey));
  results.minimalPg = medianRun(rounds.map((r) => r.minimalPg));
  results.getByKeyRounds = rounds.map((r) => ({ rps: r.getByKey.rps, p99_ms: r.getByKey.p99_ms, minimal_rps: r.minimalPg.rps }));
  // The same request as 256 signed-in users in turn (a token each): reads that go together share no settings, which
  // the anon key's reads do (execute.ts), so this is GET by key for an app whose users are signed in.
  const users = await usersScript(bench, project.ref, 256);
  wrk(`${base}/books?select=id,title,author_id&id=eq.42`, { connections: CONNS, seconds: 2, headers, script: users }); // their tokens verified once
  results.getByKeyUsers = await withCpu(cpu, SECONDS, () => wrk(`${base}/books?select=id,title,author_id&id=eq.42`, { connections: CONNS, seconds: SECONDS, headers, script: users }));
  // The same request straight to the rest service, to separate the gateway hop from the service's own cost.
  results.getByKeyDirect = await withCpu(cpu, SECONDS, () => wrk(`${bench.fleet.urls.rest}/rest/v1/books?select=id,title,author_id&id=eq.42`, { connections: CONNS, seconds: SECONDS, headers: { ...headers, 'x-basalt-ref': project.ref } }));
  results.healthDirect = wrk(`${bench.fleet.urls.rest}/health`, { connections: CONNS, seconds: Math.max(3, SECONDS / 2) });
  results.get100 = wrk(`${base}/books?select=*&limit=100`, { connections: CONNS, seconds: SECONDS, headers });
  results.embedded = wrk(`${base}/books?select=id,title,authors(name)&id=eq.42`, { connections: CONNS, seconds: SECONDS, headers });
  const lua = `wrk.method = "POST"; wrk.body = '{"v":"x"}'; wrk.headers["content-type"] = "application/json"; wrk.headers["apikey"] = "${project.service_role_key}"; wrk.headers["authorization"] = "Bearer ${project.service_role_key}"`;
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const script = join(mkdtempSync(join(tmpdir(), 'bench-rest-')), 'insert.lua');
  writeFileSync(script, lua);
  const out = execFileSync('wrk', ['-t', '2', '-c', String(CONNS), '-d', `${SECONDS}s`, '--latency', '-s', script, `${base}/events`], { encoding: 'utf8' });
  results.insert = { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]), raw: out.split('\n').filter((l) => /50%|99%|Non-2xx/.test(l)).map((l) => l.trim()) };

  // Another baseline: pgbench -S (select-only) on the same server.
  const dbName = new URL(dbUrl).pathname.slice(1);
  try {
    execFileSync('pgbench', ['-i', '-q', '-s', '1', '-h', '127.0.0.1', '-U', 'postgres', dbName], { stdio: 'ignore' });
    const pb = execFileSync('pgbench', ['-S', '-c', String(CONNS), '-j', '2', '-T', String(SECONDS), '-h', '127.0.0.1', '-U', 'postgres', dbName], { encoding: 'utf8' });
    results.pgbenchS = { tps: Number(/tps = ([\d.]+)/.exec(pb)?.[1]) };
  } catch (e) {
    results.pgbenchS = { error: (e as Error).message.slice(0, 200) };
  }
  const g = results.getByKey as WrkCpu;
  const m = results.minimalPg as WrkCpu;
  const summary = {
    getByKeyVsMinimal: +median(rounds.map((r) => r.getByKey.rps / r.minimalPg.rps)).toFixed(3),
    getByKeyP99ms: median(rounds.map((r) => r.getByKey.p99_ms)),
    getByKeyRestCpuUs: g.cpu_us_per_request.rest, getByKeyPostgresCpuUs: g.cpu_us_per_request.postgres, minimalCpuUs: m.cpu_us_per_request.minimal,
    // one run, beside the median round's minimal server
    getByKeyUsersVsMinimal: +((results.getByKeyUsers as WrkCpu).rps / m.rps).toFixed(3),
  };
  process.stderr.write(`${JSON.stringify({ results, summary }, null, 2)}\nwritten to ${writeResults('rest', { seconds: SECONDS, connections: CONNS, results, summary })}\n`);
} finally {
  await bench.stop();
}
