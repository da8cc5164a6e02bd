// On demand: two builds of the rest service side by side on one fleet and one project database, GET by key straight
// to each, alternated round by round, with each one's CPU per request (and its Postgres backends') from /proc.
//   REST_AB_OLD=/path/to/old/services/rest/src/main.ts node --import tsx bench/rest/ab.ts
// (the old tree needs the workspace's services/rest/node_modules beside its src/, a symlink will do); REST_AB_OLD
// may also be a bundle (npm run build, then REST_AB_OLD=dist/rest.mjs) to compare built output with tsx; REST_AB_NEW
// names the other side the same way (two bundles compare without tsx's own cost in either). BENCH_USERS=n sends
// each request as the next of n signed-in users (authenticated tokens, one sub each) instead of the anon key: reads
// that go together then share no settings.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort, ROOT, waitForHealth } from '@basalt/fleet';
import { backendPids, benchFleet, projectDatabaseUrl, usersScript, wrk } from '../lib.js';
import { withCpu } from './cpu.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PATH = process.env.BENCH_PATH ?? '/books?select=id,title,author_id&id=eq.42';
const USERS = Number(process.env.BENCH_USERS ?? 0);
const old = process.env.REST_AB_OLD;
if (!old) throw new Error('REST_AB_OLD: the main.ts of the build to compare with');
const variants: Record<string, string> = { old, new: process.env.REST_AB_NEW ?? join(ROOT, 'services/rest/src/main.ts') };

const bench = await benchFleet('restab', ['platform', 'gateway']);
const children: ChildProcess[] = [];
try {
  const project = await bench.platform<{ ref: string; anon_key: string }>('/projects', { name: 'ab' });
  await bench.platform(`/projects/${project.ref}/sql`, {
    query: `create table authors (id int primary key, name text);
      create table books (id int primary key, title text, author_id int references authors);
      insert into authors select g, 'author ' || g from generate_series(1, 100) g;
      insert into books select g, 'book ' || g, 1 + g % 100 from generate_series(1, 10000) g;
      create policy r on authors for select using (true); create policy r on books for select using (true);`,
  });
  const dbUrl = await projectDatabaseUrl(bench.databaseUrl, project.ref);
  const headers = { apikey: project.anon_key, authorization: `Bearer ${project.anon_key}`, 'x-basalt-ref': project.ref };
  const script = USERS > 0 ? await usersScript(bench, project.ref, USERS) : undefined;
  const urls: Record<string, string> = {};
  const pids: Record<string, number> = {};
  for (const [name, main] of Object.entries(variants)) {
    const port = await freePort();
    // a built bundle (npm run build: dist/rest.mjs) runs as plain JavaScript, a source entry under tsx
    const child = spawn(process.execPath, main.endsWith('.mjs') ? [main] : ['--import', 'tsx', main], { env: { ...process.env, ...bench.fleet.env, PORT: String(port), LOG_LEVEL: 'warn', REST_TIMEOUT_ANON_MS: '10000' }, stdio: 'inherit' });
    children.push(child);
    await waitForHealth(`http://127.0.0.1:${port}`, 20_000, child);
    urls[name] = `http://127.0.0.1:${port}/rest/v1${PATH}`;
    pids[name] = child.pid!;
    wrk(urls[name], { connections: 64, seconds: 3, headers, script }); // warm-up: pool, prepared statements, JIT
  }
  const rows: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? ['new', 'old'] : ['old', 'new'];
    for (const name of order) {
      const r = await withCpu({ rest: () => [pids[name]], postgres: () => backendPids(dbUrl) }, SECONDS, () => wrk(urls[name], { connections: 64, seconds: SECONDS, headers, script }));
      rows.push(`${round} ${name.padEnd(4)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50_ms.toFixed(2).padStart(6)}  p99 ${r.p99_ms.toFixed(2).padStart(6)} ms  rest ${r.cpu_us_per_request.rest.toFixed(1).padStart(6)} µs  postgres ${r.cpu_us_per_request.postgres.toFixed(1).padStart(6)} µs/req  errors ${r.errors}`);
      process.stderr.write(`${rows[rows.length - 1]}\n`);
    }
  }
} finally {
  for (const c of children) {
    c.kill('SIGTERM');
    if (c.exitCode === null) await new Promise((r) => c.once('exit', r));
  }
  await bench.stop();
}
