// bench/realtime: (1) broadcast fan-out to 1,000 sockets, realtime against a bare `ws` server relaying the same
// frames in the same run; (2) Postgres changes under RLS to 100 subscribers (throughput, commit → delivery
// latency); (3) 10,000 idle sockets held, with the realtime process's RSS. Clients are raw Phoenix v2 sockets
// (what realtime-js sends: kind-3 binary broadcasts). Writes bench/results/realtime.json.
//   node --import tsx bench/realtime/run.ts
//   BENCH_ONLY=changes (or idle, fanout; comma-separated) runs only those parts.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import pg from 'pg';
import { ROOT } from '@basalt/fleet';
import { hmacKey, signJwt } from '@basalt/jwt';
import { benchFleet, cpuMicros, writeResults } from '../lib.js';

const req = createRequire(join(ROOT, 'services/realtime/package.json'));
const WS_PATH = req.resolve('ws');
// `ws` and @basalt/crypto come from the packages that depend on them (the bench package does not)
interface WS {
  on(event: 'message', fn: (data: Buffer, binary: boolean) => void): void;
  off(event: 'message', fn: (data: Buffer, binary: boolean) => void): void;
  once(event: string, fn: (...args: any[]) => void): void;
  send(data: string | Buffer): void;
  terminate(): void;
}
const { default: WebSocket } = (await import(WS_PATH)) as { default: new (url: string, opts: object) => WS };
const { SecretBox } = (await import(createRequire(join(ROOT, 'packages/testkit/package.json')).resolve('@basalt/crypto'))) as {
  SecretBox: new (key: string) => { decrypt: (sealed: string) => string };
};

const FANOUT_CLIENTS = Number(process.env.BENCH_FANOUT_CLIENTS ?? 1000);
const FANOUT_SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CHANGE_SUBSCRIBERS = 100;
const CHANGES = Number(process.env.BENCH_CHANGES ?? 10_000);
const IDLE = Number(process.env.BENCH_IDLE ?? 10_000);


const open = (url: string) =>
  new Promise<WS>((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });

async function openMany(url: string, n: number, parallel = 200): Promise<WS[]> {
  const out: WS[] = [];
  for (let i = 0; i < n; i += parallel) out.push(...(await Promise.all(Array.from({ length: Math.min(parallel, n - i) }, () => open(url)))));
  return out;
}

/** Joins a topic and resolves on the join reply. */
function joinTopic(ws: WS, topic: string, payload: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMsg = (d: Buffer, binary: boolean) => {
      if (binary) return;
      const f = JSON.parse(d.toString());
      if (f[1] !== 'j' || f[3] !== 'phx_reply') return;
      ws.off('message', onMsg);
      if (f[4].status === 'ok') resolve();
      else reject(new Error(JSON.stringify(f[4])));
    };
    ws.on('message', onMsg);
    ws.send(JSON.stringify(['j', 'j', topic, 'phx_join', payload]));
  });
}

/** A kind-3 user broadcast push, byte for byte what realtime-js sends for channel.send(). */
function kind3(topic: string, event: string, payload: unknown): Buffer {
  const t = Buffer.from(topic), e = Buffer.from(event), j = Buffer.from('j'), body = Buffer.from(JSON.stringify(payload));
  return Buffer.concat([Buffer.from([3, j.length, 0, t.length, e.length, 0, 1]), j, t, e, body]);
}

/**
 * A load-generator socket: a raw TCP WebSocket that only counts the bytes it receives (no frame parsing), so
 * the clients' own cost stays small next to the server's. Frames it sends are unmasked-key (all-zero mask).
 */
interface Counter {
  sock: net.Socket;
  bytes: number;
  sendText: (text: string) => void;
}

function rawClient(url: string): Promise<Counter> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(u.port), u.hostname);
    const c: Counter = {
      sock, bytes: 0,
      sendText: (text) => {
        const body = Buffer.from(text);
        const head = body.length < 126 ? Buffer.from([0x81, 0x80 | body.length]) : Buffer.from([0x81, 0x80 | 126, body.length >> 8, body.length & 255]);
        sock.write(Buffer.concat([head, Buffer.alloc(4), body]));
      },
    };
    let handshake = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      handshake = Buffer.concat([handshake, d]);
      const end = handshake.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (!handshake.subarray(0, 12).toString().includes('101')) return reject(new Error(handshake.toString()));
      sock.off('data', onData);
      c.bytes = handshake.length - end - 4;
      sock.on('data', (chunk: Buffer) => (c.bytes += chunk.length));
      resolve(c);
    };
    sock.on('data', onData);
    sock.once('error', reject);
    sock.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
      + `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  });
}

async function rawMany(url: string, n: number): Promise<Counter[]> {
  const out: Counter[] = [];
  for (let i = 0; i < n; i += 200) out.push(...(await Promise.all(Array.from({ length: Math.min(200, n - i) }, () => rawClient(url)))));
  return out;
}

/**
 * Bursts of `burst` messages from one publisher; a burst ends when every client has received all its bytes
 * (`frameBytes` per message). Returns messages/s published-and-fully-delivered and deliveries/s.
 */
async function fanout(clients: Counter[], frameBytes: number, publish: () => void, burst: number, seconds: number) {
  for (const c of clients) c.bytes = 0;
  const total = () => clients.reduce((n, c) => n + c.bytes, 0);
  const deadline = Date.now() + seconds * 1000;
  let sent = 0;
  const started = Date.now();
  while (Date.now() < deadline) {
    for (let i = 0; i < burst; i++) publish();
    sent += burst;
    const target = sent * clients.length * frameBytes;
    const waitUntil = Date.now() + 10_000;
    while (total() < target && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 1));
    if (total() < target) throw new Error(`fan-out stalled: ${total()}/${target} bytes`);
  }
  const secs = (Date.now() - started) / 1000;
  return { clients: clients.length, messages_per_s: Math.round(sent / secs), deliveries_per_s: Math.round((sent * clients.length) / secs) };
}

const BARE_SERVER = `
const { WebSocketServer } = require(process.env.WS_PATH);
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
wss.on('listening', () => console.log(wss.address().port));
wss.on('connection', (ws) => ws.on('message', (data, binary) => {
  for (const c of wss.clients) if (c !== ws) c.send(data, { binary });
}));`;

const TOPIC = 'realtime:bench';
const PAYLOAD = { x: 1, y: 2 };
/** a server frame's bytes: 2-byte header (payload < 126) + payload */
const frameSize = (payload: number) => 2 + payload;

async function bareFanout() {
  const child = spawn(process.execPath, ['-e', BARE_SERVER], { env: { ...process.env, WS_PATH }, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((r) => child.stdout!.once('data', (d: Buffer) => r(Number(d.toString().trim()))));
  try {
    const clients = await rawMany(`ws://127.0.0.1:${port}/`, FANOUT_CLIENTS);
    const pub = await open(`ws://127.0.0.1:${port}`);
    const frame = kind3(TOPIC, 'cursor', PAYLOAD);
    await fanout(clients, frameSize(frame.length), () => pub.send(frame), 20, 1); // warm-up
    const r = await fanout(clients, frameSize(frame.length), () => pub.send(frame), 50, FANOUT_SECONDS);
    for (const c of clients) c.sock.destroy();
    pub.terminate();
    return r;
  } finally {
    child.kill();
  }
}

async function realtimeFanout(url: string) {
  const clients = await rawMany(url, FANOUT_CLIENTS);
  for (const c of clients) c.sendText(JSON.stringify(['j', 'j', TOPIC, 'phx_join', { config: { broadcast: { self: false }, presence: { enabled: false } } }]));
  const pub = await open(url);
  await joinTopic(pub, TOPIC, { config: { broadcast: { self: false }, presence: { enabled: false } } });
  // every join reply is in (they are the only frames so far) before counting starts
  const reply = JSON.stringify(['j', 'j', TOPIC, 'phx_reply', { status: 'ok', response: {} }]).length;
  const deadline = Date.now() + 30_000;
  while (clients.some((c) => c.bytes < frameSize(reply)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const frame = kind3(TOPIC, 'cursor', PAYLOAD);
  const out = 5 + Buffer.byteLength(TOPIC) + 'cursor'.length + JSON.stringify(PAYLOAD).length; // kind-4 frame
  await fanout(clients, frameSize(out), () => pub.send(frame), 20, 1); // warm-up
  const r = await fanout(clients, frameSize(out), () => pub.send(frame), 50, FANOUT_SECONDS);
  for (const c of clients) c.sock.destroy();
  pub.terminate();
  return r;
}

/**
 * CPU the work costs, whatever else the machine runs meanwhile: the realtime process and every backend of the
 * project database (the writer's, whose trigger captures, and the service's listener and row checks).
 */
function cpuMeter(realtimePid: number, db: pg.Client) {
  const backends = async () => (await db.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database()')).rows.map((r) => r.pid);
  let start = { rt: 0, pg: new Map<number, number>() };
  let writer = 0;
  return {
    async begin() {
      writer ||= (await db.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0].pid;
      start = { rt: cpuMicros(realtimePid) / 1e6, pg: new Map((await backends()).map((pid) => [pid, cpuMicros(pid) / 1e6])) };
    },
    async end() {
      let pgCpu = 0, writerCpu = 0;
      for (const pid of await backends()) {
        const used = cpuMicros(pid) / 1e6 - (start.pg.get(pid) ?? 0);
        pgCpu += used;
        if (pid === writer) writerCpu = used;
      }
      const r = (n: number) => Math.round(n * 100) / 100;
      // writer: the benchmark's own inserts with the capture trigger they fire
      return { realtime_cpu_s: r(cpuMicros(realtimePid) / 1e6 - start.rt), postgres_cpu_s: r(pgCpu), of_which_writer_s: r(writerCpu) };
    },
  };
}

/**
 * 100 subscribers (one user JWT each) on a table with RLS. `owner`: each row is visible to its owner only, so
 * every change costs 100 row checks and is delivered once; `shared`: a policy lets every user read every row,
 * so each change is delivered 100 times. changes_per_s counts changes committed and delivered to every
 * subscriber allowed to see them, per second from the first write to the last delivery (owner: deliveries,
 * one per change; shared: deliveries / 100). cpu: CPU seconds the phase cost the realtime process and the
 * project database's backends (a figure that load elsewhere on the machine leaves alone).
 */
async function postgresChanges(url: string, secret: string, sql: (q: string) => Promise<unknown>, dbUrl: string, realtimePid: number) {
  const key = hmacKey(secret);
  const users = Array.from({ length: CHANGE_SUBSCRIBERS }, (_, i) => `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`);
  await sql(`create table public.items (id bigserial primary key, owner uuid not null, v int);
    create policy own on public.items for select using (owner = auth.uid());`);
  const now = Math.floor(Date.now() / 1000);
  const subs = await openMany(url, CHANGE_SUBSCRIBERS);
  await Promise.all(subs.map((ws, i) => joinTopic(ws, `realtime:items-${i}`, {
    config: { postgres_changes: [{ event: 'INSERT', schema: 'public', table: 'items' }] },
    access_token: signJwt({ sub: users[i], role: 'authenticated', aud: 'authenticated', iat: now, exp: now + 3600 }, key),
  })));
  const latencies: number[] = [];
  let delivered = 0;
  /** owner-only rows that reached someone other than their owner (RLS must make this 0) */
  let misdelivered = 0;
  let ownerOnly = true;
  subs.forEach((ws, i) => {
    ws.on('message', (d: Buffer, binary: boolean) => {
      if (binary) return;
      const s = d.toString();
      if (!s.includes('"postgres_changes",{"ids"')) return;
      delivered++;
      if (ownerOnly && !s.includes(`"owner":"${users[i]}"`)) misdelivered++;
      const ts = /"commit_timestamp":"([^"]+)"/.exec(s)?.[1];
      if (ts) latencies.push(Date.now() - Date.parse(ts));
    });
  });
  // the project database directly (as the platform's SQL API would, without its per-request overhead)
  const db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  const cpu = cpuMeter(realtimePid, db);
  try {
    // throughput: batches of 500 rows, each row owned by one of the 100 users (RLS: each change reaches one)
    await cpu.begin();
    const started = Date.now();
    for (let done = 0; done < CHANGES; done += 500) {
      await db.query(`insert into public.items (owner, v) select ('00000000-0000-0000-0000-' || lpad((g % ${CHANGE_SUBSCRIBERS})::text, 12, '0'))::uuid, g from generate_series(1, 500) g`);
    }
    while (delivered < CHANGES && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 5));
    const secs = (Date.now() - started) / 1000;
    const throughput = { changes: CHANGES, delivered, misdelivered, changes_per_s: Math.round(delivered / secs), cpu: await cpu.end() };
    // shared rows: every subscriber may read every change
    await db.query(`create policy shared on public.items for select using (v < 0)`);
    ownerOnly = false;
    delivered = 0;
    const sharedChanges = Math.round(CHANGES / 10);
    await cpu.begin();
    const sharedStart = Date.now();
    for (let done = 0; done < sharedChanges; done += 500) {
      await db.query(`insert into public.items (owner, v) select '${users[0]}', -g from generate_series(1, 500) g`);
    }
    while (delivered < sharedChanges * CHANGE_SUBSCRIBERS && Date.now() - sharedStart < 20_000) await new Promise((r) => setTimeout(r, 5));
    const sharedSecs = (Date.now() - sharedStart) / 1000;
    const shared = {
      changes: sharedChanges, deliveries: delivered, changes_per_s: Math.round(delivered / CHANGE_SUBSCRIBERS / sharedSecs),
      deliveries_per_s: Math.round(delivered / sharedSecs), cpu: await cpu.end(),
    };
    // latency at a steady pace (single-row transactions, about 400/s), once earlier deliveries have drained
    for (let last = -1, quietUntil = Date.now() + 20_000; delivered !== last && Date.now() < quietUntil;) {
      last = delivered;
      await new Promise((r) => setTimeout(r, 500));
    }
    latencies.length = 0;
    delivered = 0;
    await cpu.begin();
    const paced = 800;
    for (let i = 0; i < paced; i++) {
      await db.query(`insert into public.items (owner, v) values ('${users[i % CHANGE_SUBSCRIBERS]}', ${i})`);
      if (i % 4 === 3) await new Promise((r) => setTimeout(r, 10));
    }
    const pacedEnd = Date.now() + 15_000;
    while (latencies.length < paced && Date.now() < pacedEnd) await new Promise((r) => setTimeout(r, 5));
    latencies.sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))];
    const latency = { changes: paced, delivered: latencies.length, p50_ms: q(0.5), p99_ms: q(0.99), cpu: await cpu.end() };
    return { subscribers: CHANGE_SUBSCRIBERS, owner_only: throughput, shared, latency };
  } finally {
    await db.end();
    for (const ws of subs) ws.terminate();
  }
}

const rssMb = (pid: number) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);

async function idle(url: string, pid: number) {
  const before = rssMb(pid);
  const sockets = await openMany(url, IDLE, 250);
  await Promise.all(sockets.map((ws, i) => joinTopic(ws, `realtime:idle-${i % 100}`, { config: {} })));
  await new Promise((r) => setTimeout(r, 2000));
  const held = rssMb(pid);
  for (const ws of sockets) ws.terminate();
  return { connections: sockets.length, rss_before_mb: before, rss_held_mb: held, kb_per_connection: Math.round(((held - before) * 1024) / sockets.length * 10) / 10 };
}

const bench = await benchFleet('realtime', ['platform', 'gateway', 'realtime'], { LOG_LEVEL: 'warn' });
const results: Record<string, unknown> = {};
try {
  const project = await bench.platform<{ ref: string; anon_key: string }>('/projects', { name: 'bench-realtime' });
  await bench.platform(`/projects/${project.ref}`, {
    settings: { realtime: { max_connections: 50_000, max_events_per_second: 1_000_000, max_joins_per_second: 100_000 }, rate_limit_rps: 1_000_000 },
  }, 'PATCH');
  const control = new pg.Client({ connectionString: bench.databaseUrl });
  await control.connect();
  const row = (await control.query(`select p.jwt_secret_enc, p.db_name, c.admin_url_enc from platform.projects p join platform.clusters c on c.id = p.cluster_id where ref = $1`, [project.ref])).rows[0];
  await control.end();
  const box = new SecretBox(bench.fleet.env.BASALT_MASTER_KEY);
  const dbUrl = Object.assign(new URL(box.decrypt(row.admin_url_enc)), { pathname: `/${row.db_name}` }).toString();
  const direct = `${bench.fleet.urls.realtime.replace(/^http/, 'ws')}/realtime/v1/websocket?apikey=${project.anon_key}&vsn=2.0.0`;
  const viaGateway = `${bench.fleet.gatewayUrl.replace(/^http/, 'ws')}/project/${project.ref}/realtime/v1/websocket?apikey=${project.anon_key}&vsn=2.0.0`;
  const sql = (query: string) => bench.platform(`/projects/${project.ref}/sql`, { query });
  await new Promise((r) => setTimeout(r, 300));

  const only = (part: string) => !process.env.BENCH_ONLY || process.env.BENCH_ONLY.split(',').includes(part);
  // idle first: the RSS baseline is the freshly started process
  if (only('idle')) {
    results.idle = await idle(direct, bench.fleet.processes.get('realtime')!.pid!);
    console.log('idle', JSON.stringify(results.idle));
  }
  if (only('fanout')) {
    // the baseline runs before and after, so load from elsewhere on the machine weighs on both sides alike
    const bareBefore = await bareFanout();
    const rt = await realtimeFanout(direct);
    const rtGateway = await realtimeFanout(viaGateway);
    const bareAfter = await bareFanout();
    const bare = Math.round((bareBefore.messages_per_s + bareAfter.messages_per_s) / 2);
    const ratio = (n: number) => Math.round((n / bare) * 100) / 100;
    results.fanout = {
      bare_ws: { clients: FANOUT_CLIENTS, messages_per_s: bare, deliveries_per_s: bare * FANOUT_CLIENTS, runs: [bareBefore.messages_per_s, bareAfter.messages_per_s] },
      realtime: rt, realtime_via_gateway: rtGateway, ratio: ratio(rt.messages_per_s), ratio_via_gateway: ratio(rtGateway.messages_per_s),
    };
    console.log('fan-out', JSON.stringify(results.fanout));
  }
  if (only('changes')) {
    results.postgres_changes = await postgresChanges(direct, box.decrypt(row.jwt_secret_enc), sql, dbUrl, bench.fleet.processes.get('realtime')!.pid!);
    console.log('postgres changes', JSON.stringify(results.postgres_changes));
  }
  console.log(`written to ${writeResults('realtime', results)}`);
} finally {
  await bench.stop();
}
