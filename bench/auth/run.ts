// bench/auth: password sign-ins/s through the gateway against the raw bcrypt.compare ceiling at the same cost on
// the same machine, token refreshes/s (each connection rotates its own chain), and GET /user/s — in one run,
// against a fleet (platform, gateway, auth) started here on a throwaway control database.
// Writes bench/results/auth.json.   node --import tsx bench/auth/run.ts
// BENCH_SECONDS (default 10) sets each run's length; BENCH_ONLY=refresh,user runs only those parts (of signin,
// refresh, user, direct), for quick A/B runs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ROOT } from '@basalt/fleet';
import { benchFleet, cpuMicros, projectDatabaseUrl, reapedChildrenCpuMicros, requireTool, toMs, writeResults, type WrkResult } from '../lib.js';

// bcrypt is the auth service's dependency; load the very same build it uses.
const bcrypt = createRequire(join(ROOT, 'services/auth/package.json'))('bcrypt') as {
  hash(data: string, rounds: number): Promise<string>;
  compare(data: string, hash: string): Promise<boolean>;
};

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const COST = 10;
const ONLY = new Set((process.env.BENCH_ONLY ?? 'signin,refresh,user,direct').split(',').map((x) => x.trim()));
requireTool('wrk', 'wrk');

/**
 * CPU per request by process over `run`: auth, gateway, Redis, and Postgres as every backend connected to the
 * project database plus the WAL writer (the commits' flushes), whatever else the machine runs meanwhile; and wrk,
 * the load generator, which shares the machine (from this process's reaped children: wrk is the only one).
 */
async function cpuPerRequest(pids: { auth: number; gateway: number; redis: number }, projectDb: pg.Client, run: () => WrkResult) {
  const pgPids = async () => (await projectDb.query<{ pid: number }>(
    `select pid from pg_stat_activity where datname = current_database() or backend_type = 'walwriter'`)).rows.map((r) => r.pid);
  const before = new Map([...Object.entries(pids), ...(await pgPids()).map((p) => [`pg${p}`, p] as const)].map(([k, p]) => [k, { pid: p, us: cpuMicros(p) }]));
  const wrkBefore = reapedChildrenCpuMicros();
  const result = run();
  const wrkUsed = reapedChildrenCpuMicros() - wrkBefore;
  for (const p of await pgPids()) if (!before.has(`pg${p}`)) before.set(`pg${p}`, { pid: p, us: 0 });
  const per = (used: number) => Math.round(used / (result.requests || 1));
  const used = (k: string) => cpuMicros(before.get(k)!.pid) - before.get(k)!.us;
  const postgres = [...before.keys()].filter((k) => k.startsWith('pg')).reduce((n, k) => n + used(k), 0);
  return { result, cpu_us_per_request: { postgres: per(postgres), auth: per(used('auth')), gateway: per(used('gateway')), redis: per(used('redis')), wrk: per(wrkUsed) } };
}

/**
 * wrk runs two threads: the load generator shares the two cores with the fleet, and a thread per connection cost it
 * enough CPU to take ~10% off GET /user (4,489 and 4,569/s on 32 threads, 5,122 and 4,821 on 2) and 20-30 µs of CPU
 * per refresh.
 */
const WRK_THREADS = 2;

/** wrk with a Lua script */
function wrkScript(url: string, script: string, connections: number, seconds: number): WrkResult {
  const dir = mkdtempSync(join(tmpdir(), 'basalt-bench-auth-'));
  const file = join(dir, 'script.lua');
  writeFileSync(file, script);
  const out = execFileSync('wrk', ['-t', String(WRK_THREADS), '-c', String(connections), '-d', `${seconds}s`, '--latency', '-s', file, url], { encoding: 'utf8' });
  const pick = (re: RegExp) => re.exec(out)?.[1] ?? '';
  return {
    rps: Number(pick(/Requests\/sec:\s+([\d.]+)/)),
    requests: Number(pick(/(\d+) requests in /) || 0),
    p50_ms: toMs(pick(/\s50%\s+(\S+)/)),
    p99_ms: toMs(pick(/\s99%\s+(\S+)/)),
    errors: Number(pick(/Non-2xx or 3xx responses: (\d+)/) || 0),
  };
}

const lua = (s: string) => JSON.stringify(s);
const headerLua = (h: Record<string, string>) => `{${Object.entries(h).map(([k, v]) => `[${lua(k)}]=${lua(v)}`).join(',')}}`;

async function bcryptCeiling(hash: string, seconds: number): Promise<number> {
  // libuv runs bcrypt on its thread pool (4 threads by default), exactly as in the service.
  let done = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (Date.now() < until) {
      await bcrypt.compare('bench-password-1', hash);
      done++;
    }
  }));
  return done / seconds;
}

const bench = await benchFleet('auth', ['platform', 'gateway', 'auth']);
const fleet = bench.fleet;

try {
  const project = await bench.platform<{ ref: string; anon_key: string }>('/projects', { name: 'bench-auth' });
  const huge = { per_ip: 1e9, per_email: 1e9, window_seconds: 60 };
  await bench.platform(`/projects/${project.ref}`, { settings: { rate_limit_rps: 1_000_000, auth: { rate_limits: { signup: huge, token: huge, otp: huge, recover: huge, verify: huge, refresh: huge } } } }, 'PATCH');
  await new Promise((r) => setTimeout(r, 300));
  const authUrl = `${fleet.gatewayUrl}/project/${project.ref}/auth/v1`;
  const headers = { apikey: project.anon_key, 'content-type': 'application/json' };
  const call = async (path: string, body: unknown) => {
    const r = await fetch(`${authUrl}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`${path} → ${r.status} ${await r.text()}`);
    return r.json() as Promise<{ access_token: string; refresh_token: string }>;
  };
  const email = 'bench@example.com';
  const first = await call('/signup', { email, password: 'bench-password-1' });

  /** `run` with the CPU per request each process spent meanwhile (cpuPerRequest) */
  const withCpu = async (run: () => WrkResult) => {
    const projectDb = new pg.Client({ connectionString: await projectDatabaseUrl(bench.databaseUrl, project.ref) });
    await projectDb.connect();
    try {
      const redisPid = Number(execFileSync('sh', ['-c', 'pidof redis-server || echo 0'], { encoding: 'utf8' }).trim().split(' ')[0]);
      return await cpuPerRequest({ auth: fleet.processes.get('auth')!.pid!, gateway: fleet.processes.get('gateway')!.pid!, redis: redisPid }, projectDb, run);
    } finally {
      await projectDb.end();
    }
  };

  let ceiling = NaN;
  let signIn: WrkResult | null = null;
  if (ONLY.has('signin')) {
    const hash = await bcrypt.hash('bench-password-1', COST);
    ceiling = await bcryptCeiling(hash, Math.max(3, SECONDS / 2));
    process.stderr.write(`bcrypt.compare ceiling (cost ${COST}): ${ceiling.toFixed(1)}/s\n`);
    const signInScript = `wrk.method = "POST"; wrk.headers = ${headerLua(headers)}; wrk.body = ${lua(JSON.stringify({ email, password: 'bench-password-1' }))}`;
    wrkScript(`${authUrl}/token?grant_type=password`, signInScript, 4, 2);
    signIn = wrkScript(`${authUrl}/token?grant_type=password`, signInScript, 8, SECONDS);
    process.stderr.write(`sign-ins ${signIn.rps.toFixed(1)}/s p50 ${signIn.p50_ms} ms errors ${signIn.errors}\n`);
  }

  let refresh: WrkResult | null = null;
  let refreshCpu: Record<string, number> | null = null;
  if (ONLY.has('refresh')) {
    const CONNS = 16;
    // Every connection rotates a chain of its own session, one refresh at a time: a thread keeps its chains'
    // next tokens in a queue, takes one for each request and queues the child its response brings. A thread
    // holds one token more than it has connections, for the request wrk builds once to check the script (it is
    // never sent); a spare token simply waits its turn.
    const chains = async () => {
      const tokens: string[] = [];
      for (let i = 0; i < CONNS + WRK_THREADS; i++) tokens.push((await call('/token?grant_type=password', { email, password: 'bench-password-1' })).refresh_token);
      return tokens;
    };
    const refreshScript = (tokens: string[]) => `
      local tokens = {${tokens.map(lua).join(',')}}
      local threads, n = ${WRK_THREADS}, 0
      function setup(thread)
        n = n + 1
        local mine = {}
        for i = n, #tokens, threads do mine[#mine + 1] = tokens[i] end
        thread:set("mine", table.concat(mine, " "))
      end
      local queue = nil
      function request()
        if queue == nil then
          queue = {}
          for t in string.gmatch(mine or "", "%S+") do queue[#queue + 1] = t end
        end
        local token = table.remove(queue, 1) or ""
        return wrk.format("POST", nil, ${headerLua(headers)}, '{"refresh_token":"' .. token .. '"}')
      end
      function response(status, hdrs, body)
        local t = body:match('"refresh_token":"([^"]+)"')
        if t then queue[#queue + 1] = t end
      end`;
    // Warm up as the other parts do: the first seconds after start run slower (JIT, first plans, caches).
    wrkScript(`${authUrl}/token?grant_type=refresh_token`, refreshScript(await chains()), CONNS, 2);
    const measuredChains = await chains();
    ({ result: refresh, cpu_us_per_request: refreshCpu } = await withCpu(() => wrkScript(`${authUrl}/token?grant_type=refresh_token`, refreshScript(measuredChains), CONNS, SECONDS)));
    process.stderr.write(`refreshes ${refresh.rps.toFixed(0)}/s p50 ${refresh.p50_ms} ms errors ${refresh.errors}; CPU µs per refresh ${JSON.stringify(refreshCpu)}\n`);
  }

  let getUser: WrkResult | null = null;
  let getUserCpu: Record<string, number> | null = null;
  if (ONLY.has('user')) {
    const userScript = `wrk.method = "GET"; wrk.headers = ${headerLua({ apikey: project.anon_key, authorization: `Bearer ${first.access_token}` })}`;
    wrkScript(`${authUrl}/user`, userScript, 8, 2);
    ({ result: getUser, cpu_us_per_request: getUserCpu } = await withCpu(() => wrkScript(`${authUrl}/user`, userScript, 32, SECONDS)));
    process.stderr.write(`GET /user ${getUser.rps.toFixed(0)}/s p50 ${getUser.p50_ms} ms errors ${getUser.errors}; CPU µs per request ${JSON.stringify(getUserCpu)}\n`);
  }
  // The same request straight to the auth process (as the gateway forwards it), and the auth process's bare
  // /health: what the gateway hop costs, and what an Express process does on this machine with no work at all.
  let getUserDirect: WrkResult | null = null;
  let healthDirect: WrkResult | null = null;
  if (ONLY.has('direct')) {
    const direct = `${fleet.urls.auth}/auth/v1/user`;
    const directScript = `wrk.method = "GET"; wrk.headers = ${headerLua({ apikey: project.anon_key, authorization: `Bearer ${first.access_token}`, 'x-basalt-ref': project.ref })}`;
    getUserDirect = wrkScript(direct, directScript, 32, SECONDS);
    healthDirect = wrkScript(`${fleet.urls.auth}/health`, 'wrk.method = "GET"', 32, Math.max(3, SECONDS / 2));
    process.stderr.write(`GET /user direct ${getUserDirect.rps.toFixed(0)}/s, /health direct ${healthDirect.rps.toFixed(0)}/s\n`);
  }

  const summary = {
    cores: availableParallelism(),
    bcrypt_cost: COST,
    bcrypt_compare_ceiling_per_s: signIn ? +ceiling.toFixed(1) : null,
    sign_ins_per_s: signIn ? +signIn.rps.toFixed(1) : null,
    sign_in_vs_ceiling: signIn ? +(signIn.rps / ceiling).toFixed(3) : null,
    refreshes_per_s: refresh ? Math.round(refresh.rps) : null,
    refresh_cpu_us_per_request: refreshCpu,
    get_user_per_s: getUser ? Math.round(getUser.rps) : null,
    get_user_cpu_us_per_request: getUserCpu,
    get_user_direct_per_s: getUserDirect ? Math.round(getUserDirect.rps) : null,
    health_direct_per_s: healthDirect ? Math.round(healthDirect.rps) : null,
    targets: { sign_in_vs_ceiling: '>= 0.85', refreshes_per_s: '>= 2000', get_user_per_s: '>= 4000' },
  };
  process.stderr.write(`${JSON.stringify(summary, null, 2)}\n`);
  process.stderr.write(`written to ${writeResults('auth', { seconds: SECONDS, results: { signIn, refresh, getUser, getUserDirect, healthDirect }, summary })}\n`);
} finally {
  await bench.stop();
}
