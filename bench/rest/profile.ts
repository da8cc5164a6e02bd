// On demand: a CPU profile of the rest service under GET-by-key load (node --cpu-prof), written to BENCH_PROFILE;
// BENCH_PROFILE_INTERVAL_US samples more often than V8's default 1 ms.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '@basalt/fleet';
import { benchFleet, wrk } from '../lib.js';

const dir = process.env.BENCH_PROFILE ?? '/tmp/rest-profile';
const bench = await benchFleet('restprof', ['platform', 'gateway']);
try {
  const project = await bench.platform<{ ref: string; anon_key: string }>('/projects', { name: 'prof' });
  await bench.platform(`/projects/${project.ref}/sql`, { query: `create table books (id int primary key, title text, author_id int); insert into books select g, 'b' || g, g from generate_series(1, 1000) g; create policy r on books for select using (true);` });
  const port = 47_000 + Math.floor(Math.random() * 1000);
  const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${process.env.BENCH_PROFILE_INTERVAL_US ?? 1000}`, '--import', 'tsx', join(ROOT, 'services/rest/src/main.ts')], { env: { ...process.env, ...bench.fleet.env, PORT: String(port), LOG_LEVEL: 'warn' }, stdio: 'inherit' });
  for (let i = 0; i < 100; i++) {
    if (await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const headers = { apikey: project.anon_key, authorization: `Bearer ${project.anon_key}`, 'x-basalt-ref': project.ref };
  console.log(wrk(`http://127.0.0.1:${port}/rest/v1/books?select=id,title,author_id&id=eq.42`, { connections: 64, seconds: 5, headers }));
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
} finally {
  await bench.stop();
}
