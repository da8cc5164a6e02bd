// bench/documents: the Data API through the gateway — find by an indexed path against, in the same run, a
// minimal node:http + pg server running the equivalent JSONB query; the insertOne rate; a $group over 100k
// documents. Writes bench/results/documents.json.   node --import tsx bench/documents/run.ts
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchFleet, projectDatabaseUrl, requireTool, startMinimalServer, wrk, writeResults } from '../lib.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const CONNS = 64;
requireTool('wrk', 'wrk');

// The same lookup the service runs for {sku: "sku-4242"} with an index on sku, answered as JSON.
const MINIMAL_SERVER = `
const pg = require(process.env.PG_PATH);
const pool = new pg.Pool({ connectionString: process.env.DB_URL, max: 10 });
const server = require('node:http').createServer(async (_req, res) => {
  const r = await pool.query("select doc from documents.items where (doc #> '{sku}') = $1::jsonb limit 1000", ['"sku-4242"']);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ documents: r.rows.map((x) => x.doc) }));
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;

function wrkPost(url: string, body: unknown, headers: Record<string, string>, seconds = SECONDS) {
  const lua = [
    'wrk.method = "POST"',
    `wrk.body = ${JSON.stringify(JSON.stringify(body))}`,
    ...Object.entries({ 'content-type': 'application/json', ...headers }).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`),
  ].join('\n');
  const script = join(mkdtempSync(join(tmpdir(), 'bench-docs-')), 'post.lua');
  writeFileSync(script, lua);
  const out = execFileSync('wrk', ['-t', '2', '-c', String(CONNS), '-d', `${seconds}s`, '--latency', '-s', script, url], { encoding: 'utf8' });
  const pick = (re: RegExp) => re.exec(out)?.[1] ?? '';
  return { rps: Number(pick(/Requests\/sec:\s+([\d.]+)/)), p50: pick(/\s50%\s+(\S+)/), p99: pick(/\s99%\s+(\S+)/), non2xx: Number(pick(/Non-2xx or 3xx responses: (\d+)/) || 0) };
}

const bench = await benchFleet('documents', ['platform', 'gateway', 'documents'], { DOCUMENTS_WIRE_PORT: '0' });
const results: Record<string, unknown> = {};
try {
  const project = await bench.platform<{ ref: string; service_role_key: string }>('/projects', { name: 'bench-documents' });
  await bench.platform(`/projects/${project.ref}`, { settings: { rate_limit_rps: 1_000_000 } }, 'PATCH');
  const headers = { apikey: project.service_role_key, authorization: `Bearer ${project.service_role_key}` };
  const base = `${bench.fleet.gatewayUrl}/project/${project.ref}/mongo/v1/action`;
  const call = async (action: string, body: unknown) => {
    const r = await fetch(`${base}/${action}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`${action}: ${r.status} ${await r.text()}`);
    return r.json();
  };

  // 10k items with an index on sku
  for (let i = 0; i < 10; i++) {
    await call('insertMany', { collection: 'items', documents: Array.from({ length: 1000 }, (_, j) => ({ sku: `sku-${i * 1000 + j}`, price: j % 100, tags: ['a', 'b'] })) });
  }
  await call('createIndex', { collection: 'items', index: { key: { sku: 1 } } });
  const findBody = { collection: 'items', filter: { sku: 'sku-4242' } };
  const check: any = await call('find', findBody);
  if (check.documents.length !== 1) throw new Error('find by sku did not return the document');
  wrkPost(`${base}/find`, findBody, headers, 2); // warm-up: pools opened, JIT warm
  results.findIndexed = wrkPost(`${base}/find`, findBody, headers);
  results.findIndexedDirect = wrkPost(`${bench.fleet.urls.documents}/mongo/v1/action/find`, findBody, { ...headers, 'x-basalt-ref': project.ref });

  const dbUrl = await projectDatabaseUrl(bench.databaseUrl, project.ref);
  const { port, child: minimal } = await startMinimalServer(MINIMAL_SERVER, dbUrl);
  wrk(`http://127.0.0.1:${port}/`, { connections: CONNS, seconds: 2 });
  results.minimalPg = wrk(`http://127.0.0.1:${port}/`, { connections: CONNS, seconds: SECONDS });
  minimal.kill();

  results.insertOne = wrkPost(`${base}/insertOne`, { collection: 'writes', document: { kind: 'click', v: 1, at: { $date: '2024-01-01T00:00:00Z' } } }, headers);

  // $group over 100k documents (computed by Postgres), and the same grouping through the in-memory stage
  const t0 = Date.now();
  for (let i = 0; i < 20; i++) {
    await call('insertMany', { collection: 'events', documents: Array.from({ length: 5000 }, (_, j) => ({ kind: `k${(i * 5000 + j) % 10}`, v: j % 100 })) });
  }
  results.load100k_ms = Date.now() - t0;
  const group = [{ $group: { _id: '$kind', n: { $sum: 1 }, total: { $sum: '$v' }, avg: { $avg: '$v' } } }];
  const timed = async (pipeline: unknown[]) => {
    const runs: number[] = [];
    let out: any;
    for (let i = 0; i < 3; i++) {
      const t = Date.now();
      out = await call('aggregate', { collection: 'events', pipeline });
      runs.push(Date.now() - t);
    }
    return { ms: Math.min(...runs), runs, groups: out.documents.length, n: out.documents.reduce((s: number, d: any) => s + d.n, 0) };
  };
  results.group100k = await timed(group);
  results.group100kInMemory = await timed([{ $group: { _id: '$kind', n: { $sum: 1 }, vs: { $addToSet: '$v' } } }]);

  const f = results.findIndexed as { rps: number; p99: string };
  const m = results.minimalPg as { rps: number };
  const summary = { findIndexedVsMinimal: +(f.rps / m.rps).toFixed(3), findIndexedP99: f.p99, insertOneRps: (results.insertOne as { rps: number }).rps, group100kMs: (results.group100k as { ms: number }).ms };
  process.stderr.write(`${JSON.stringify({ results, summary }, null, 2)}\nwritten to ${writeResults('documents', { seconds: SECONDS, connections: CONNS, results, summary })}\n`);
} finally {
  await bench.stop();
}
