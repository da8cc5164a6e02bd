// bench/memory: the memory service at 100,000 memories of 1,536 dimensions in one project, portable index (no
// pgvector). (1) infer=false adds per second through the gateway, each embedded through the AI gateway by a fake
// upstream; (2) the project filled to 100,000 memories straight into its database; (3) search latency, p50 and p95,
// with the query embedding served from the embedding cache (so excluded), straight to the service and through the
// gateway, beside the plain Postgres Hamming scan over the same rows.
// Writes bench/results/memory.json.   node --import tsx bench/memory/run.ts   (on demand, not in CI)
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { benchFleet, projectDatabaseUrl, writeResults } from '../lib.js';
import { DIMS, embed, memoryText, signBits, TOPICS, WORDS } from './vectors.js';

const TOTAL = Number(process.env.BENCH_MEMORIES ?? 100_000);
const ADD_SECONDS = Number(process.env.BENCH_ADD_SECONDS ?? 8);
const ADD_CONCURRENCY = 32;
const SEARCHES = Number(process.env.BENCH_SEARCHES ?? 200);

const fake = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fake-embed.ts', import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'] });
const fakePort = await new Promise<number>((resolve) => fake.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
const bench = await benchFleet('memory', ['platform', 'gateway', 'ai-gateway', 'memory'], { BASALT_EGRESS_ALLOW: '127.0.0.77' });
const quantile = (xs: number[], q: number) => +[...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))].toFixed(2);
const results: Record<string, unknown> = { load_average_at_start: loadavg().map((x) => +x.toFixed(2)) };

try {
  const project = await bench.platform<{ ref: string; service_role_key: string }>('/projects', { name: 'bench-memory' });
  const ref = project.ref;
  await bench.platform(`/projects/${ref}/ai/providers`, { name: 'fake', type: 'openai', base_url: `http://127.0.0.77:${fakePort}/v1`, api_key: 'sk-bench' });
  await bench.platform(`/projects/${ref}/ai/routes`, { routes: [{ model: 'bench-embed', provider: 'fake' }] }, 'PUT');
  await bench.platform(`/projects/${ref}`, { settings: { memory: { embedding_model: 'bench-embed', dimensions: DIMS } } }, 'PATCH');
  const headers = { authorization: `Token ${project.service_role_key}`, 'content-type': 'application/json' };
  const viaGateway = `${bench.fleet.gatewayUrl}/project/${ref}`;
  const direct = bench.fleet.urls.memory;
  const call = async (base: string, path: string, body: unknown) => {
    const r = await fetch(`${base}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return r.json();
  };

  // (1) adds per second, infer=false, each a new text embedded through the AI gateway; first one at a time
  await call(viaGateway, '/v3/memories/add/', { messages: [{ role: 'user', content: 'warm-up' }], user_id: 'warm', infer: false });
  const single: number[] = [];
  for (let i = 0; i < 30; i++) {
    const s = performance.now();
    await call(viaGateway, '/v3/memories/add/', { messages: [{ role: 'user', content: `sequential ${memoryText(TOTAL + i)}` }], user_id: 'warm', infer: false });
    single.push(performance.now() - s);
  }
  results.add_sequential = { adds: single.length, p50_ms: quantile(single, 0.5), p95_ms: quantile(single, 0.95) };
  process.stderr.write(`sequential adds: ${JSON.stringify(results.add_sequential)}\n`);
  let next = 0;
  let ok = 0;
  let failed = 0;
  const latencies: number[] = [];
  const until = Date.now() + ADD_SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: ADD_CONCURRENCY }, async () => {
    while (Date.now() < until) {
      const i = next++;
      const s = performance.now();
      try {
        await call(viaGateway, '/v3/memories/add/', { messages: [{ role: 'user', content: memoryText(i) }], user_id: 'bench', infer: false });
        ok++;
        latencies.push(performance.now() - s);
      } catch {
        failed++;
      }
    }
  }));
  const elapsed = (performance.now() - t0) / 1000;
  results.adds = { concurrency: ADD_CONCURRENCY, seconds: +elapsed.toFixed(2), added: ok, failed, per_second: +(ok / elapsed).toFixed(1), p50_ms: quantile(latencies, 0.5), p95_ms: quantile(latencies, 0.95) };
  process.stderr.write(`adds: ${JSON.stringify(results.adds)}\n`);

  // (2) the rest of the 100,000 straight into the project's database (what the API would take minutes to write)
  const projectUrl = await projectDatabaseUrl(bench.databaseUrl, ref);
  const loadStart = performance.now();
  const BATCH = 500;
  const writers = Array.from({ length: 2 }, () => new pg.Client({ connectionString: projectUrl }));
  await Promise.all(writers.map((w) => w.connect()));
  // an error on an idle client would otherwise end the process before the fleet and databases are dropped
  for (const w of writers) w.on('error', (err) => process.stderr.write(`bench writer: ${err.message}\n`));
  let cursor = ok;
  await Promise.all(writers.map(async (w) => {
    while (cursor < TOTAL) {
      const from = cursor;
      cursor = Math.min(TOTAL, cursor + BATCH);
      const texts: string[] = [];
      const vecs: Buffer[] = [];
      const codes: string[] = [];
      for (let i = from; i < cursor; i++) {
        const v = embed(memoryText(i));
        texts.push(memoryText(i));
        vecs.push(Buffer.from(v.buffer));
        codes.push(signBits(v));
      }
      // the vectors go as one binary parameter and the codes as one string, cut apart in SQL (no hex round trip)
      await w.query(
        `insert into memory.memories (id, user_id, memory, hash, tsv, embedding_model, embedding, code)
         select gen_random_uuid(), 'bench', t.memory, md5(t.memory), to_tsvector('english', t.memory), 'bench-embed',
           substring($2::bytea from (t.k::int - 1) * ${DIMS * 4} + 1 for ${DIMS * 4}), substring($3 from (t.k::int - 1) * ${DIMS} + 1 for ${DIMS})::bit varying
         from unnest($1::text[]) with ordinality as t(memory, k)`,
        [texts, Buffer.concat(vecs), codes.join('')],
      );
    }
  }));
  await writers[0].query('analyze memory.memories');
  const { rows: [{ n }] } = await writers[0].query('select count(*)::int as n from memory.memories');
  results.load = { memories: n, seconds: +((performance.now() - loadStart) / 1000).toFixed(1) };
  process.stderr.write(`load: ${JSON.stringify(results.load)}\n`);

  // (3) search: questions about topics, each embedded once beforehand (the cache then serves it)
  const questions = Array.from({ length: 50 }, (_, k) => `what do I know about topic${(k * 37) % TOPICS} ${WORDS[k % WORDS.length]}`);
  const search = (base: string, q: string) => call(base, '/v3/memories/search/', { query: q, filters: { user_id: 'bench' }, top_k: 10 });
  const warmStart = performance.now();
  await search(direct, questions[0]); // builds the in-process index
  results.index_build_ms = +(performance.now() - warmStart).toFixed(1);
  for (const q of questions) await search(direct, q);
  let hits = 0;
  const measure = async (base: string) => {
    const times: number[] = [];
    for (let k = 0; k < SEARCHES; k++) {
      const q = questions[k % questions.length];
      const s = performance.now();
      const r = await search(base, q) as { results: { memory: string }[] };
      times.push(performance.now() - s);
      const topic = /topic(\d+)/.exec(q)![1];
      if (r.results[0]?.memory.includes(`topic${topic}:`)) hits++;
    }
    return { searches: SEARCHES, p50_ms: quantile(times, 0.5), p95_ms: quantile(times, 0.95), p99_ms: quantile(times, 0.99) };
  };
  results.search_service = await measure(direct);
  results.search_gateway = await measure(viaGateway);
  results.search_top1_on_topic = +(hits / (2 * SEARCHES)).toFixed(3);

  // beside it: the same ranking done by Postgres alone (a Hamming scan of all 100,000 codes, as small projects use)
  const scan: number[] = [];
  for (const q of questions.slice(0, 20)) {
    const code = signBits(embed(q));
    const s = performance.now();
    await writers[0].query(`select m.id from memory.memories m where m.embedding_model = 'bench-embed' and bit_length(m.code) = ${DIMS} and m.user_id = 'bench'
      order by bit_count(m.code # $1::bit varying) limit 40`, [code]);
    scan.push(performance.now() - s);
  }
  results.postgres_hamming_scan = { queries: scan.length, p50_ms: quantile(scan, 0.5), p95_ms: quantile(scan, 0.95) };
  const { rows: [{ vector }] } = await writers[0].query(`select exists (select 1 from pg_available_extensions where name = 'vector') as vector`);
  results.pgvector = vector ? 'installed, not measured by this run' : 'not installed here';
  await Promise.all(writers.map((w) => w.end()));
  const s = results.search_service as { p50_ms: number; p95_ms: number };
  results.load_average_at_end = loadavg().map((x) => +x.toFixed(2));
  const summary = {
    memories: n, dims: DIMS, adds_per_second: (results.adds as { per_second: number }).per_second,
    search_p50_ms: s.p50_ms, search_p95_ms: s.p95_ms, targets: { search_p50_ms: 30, search_p95_ms: 100, adds_per_second: 500 },
  };
  process.stderr.write(`${JSON.stringify({ results, summary }, null, 2)}\nwritten to ${writeResults('memory', { results, summary })}\n`);
} finally {
  await bench.stop();
  fake.kill();
}
