// Test helpers for integration and end-to-end tests. `npm test` (tests/run.ts) starts the fleet once on a fresh
// control database and hands its coordinates to every test file through BASALT_TEST_* variables.
// Each test file creates its own projects; they are deleted when the file ends.
import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import pg from 'pg';
import { SecretBox } from '@basalt/crypto';
import { hmacKey, signJwt, type Claims } from '@basalt/jwt';

export interface TestEnv {
  gatewayUrl: string;
  platformToken: string;
  databaseUrl: string;
  redisUrl: string;
  masterKey: string;
  /** direct URLs of each running service, by name */
  services: Record<string, string>;
  /** the env every service was started with */
  fleetEnv: Record<string, string>;
}

export function testEnv(): TestEnv {
  const e = process.env;
  if (!e.BASALT_TEST_GATEWAY_URL) throw new Error('BASALT_TEST_* is not set: run integration tests with `npm test`');
  return {
    gatewayUrl: e.BASALT_TEST_GATEWAY_URL,
    platformToken: e.BASALT_TEST_PLATFORM_TOKEN!,
    databaseUrl: e.BASALT_TEST_DATABASE_URL!,
    redisUrl: e.BASALT_TEST_REDIS_URL!,
    masterKey: e.BASALT_TEST_MASTER_KEY!,
    services: JSON.parse(e.BASALT_TEST_SERVICES ?? '{}'),
    fleetEnv: JSON.parse(e.BASALT_TEST_FLEET_ENV ?? '{}'),
  };
}

/** fetch against the platform API with the test platform token; throws on a non-2xx unless `expect` says otherwise. */
export async function platform<T = any>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
  const env = testEnv();
  const r = await fetch(`${env.gatewayUrl}/platform/v1${path}`, {
    ...init,
    headers: { authorization: `Bearer ${env.platformToken}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
    body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`platform ${init.method ?? 'GET'} ${path} → ${r.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export interface TestProject {
  ref: string;
  /** the project's URL through the gateway (path style), what supabase-js is given */
  url: string;
  anonKey: string;
  serviceKey: string;
  jwtSecret: string;
  /** runs SQL as the project owner through the platform API; returns the last statement's rows */
  sql: <R = any>(query: string) => Promise<R[]>;
  /** a token signed with the project's secret, as auth would issue (role authenticated unless given) */
  token: (claims?: Claims) => string;
  remove: () => Promise<void>;
}

const created = new Set<string>();
after(async () => {
  for (const ref of created) await platform(`/projects/${ref}?confirm=${ref}`, { method: 'DELETE' }).catch(() => undefined);
});

async function projectSecret(ref: string): Promise<string> {
  const env = testEnv();
  const client = new pg.Client({ connectionString: env.databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query('select jwt_secret_enc from platform.projects where ref = $1', [ref]);
    return new SecretBox(env.masterKey).decrypt(rows[0].jwt_secret_enc);
  } finally {
    await client.end();
  }
}

/** A project for this test file; `cluster` places it on a registered cluster instead of by the usual rule. */
export async function createProject(name = 'test', o: { cluster?: string } = {}): Promise<TestProject> {
  const env = testEnv();
  const p = await platform<{ ref: string; anon_key: string; service_role_key: string }>('/projects', { method: 'POST', json: { name, ...o } });
  created.add(p.ref);
  const jwtSecret = await projectSecret(p.ref);
  const key = hmacKey(jwtSecret);
  return {
    ref: p.ref,
    url: `${env.gatewayUrl}/project/${p.ref}`,
    anonKey: p.anon_key,
    serviceKey: p.service_role_key,
    jwtSecret,
    sql: (query) => platform(`/projects/${p.ref}/sql`, { method: 'POST', json: { query } }),
    token: (claims = {}) => {
      const now = Math.floor(Date.now() / 1000);
      return signJwt({ aud: 'authenticated', role: 'authenticated', ref: p.ref, iat: now, exp: now + 3600, ...claims }, key);
    },
    remove: async () => {
      created.delete(p.ref);
      await platform(`/projects/${p.ref}?confirm=${p.ref}`, { method: 'DELETE' });
    },
  };
}

/** Polls until fn returns a truthy value or the time is up. */
export async function eventually<T>(fn: () => Promise<T> | T, timeoutMs = 5_000, stepMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw lastError ?? new Error(`condition not met in ${timeoutMs} ms`);
}
export { supabaseClient, type ClientOptions } from './supabase.js';
export { rawHttp, type RawReply } from './raw-http.js';
export { testDatabase, type TestDatabase } from './test-database.js';
import { tcpProxy, type TcpProxy } from './tcp-proxy.js';

export { tcpProxy, type TcpProxy };

/**
 * A cluster registered with the platform through a TCP proxy to the test database, for tests that stall or stop
 * that database (create projects on it with `{ cluster: id }`). It is kept out of automatic placement, so no other
 * file's project lands behind the proxy. remove() resumes and starts the proxy, deletes the cluster, closes it.
 */
export async function proxiedCluster(prefix: string): Promise<{ id: string; proxy: TcpProxy; remove: () => Promise<void> }> {
  const url = new URL(testEnv().databaseUrl);
  const proxy = await tcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  const admin = Object.assign(new URL(url), { host: `${proxy.host}:${proxy.port}`, pathname: '/postgres' }).toString();
  const id = `${prefix}-${randomBytes(4).toString('hex')}`;
  await platform('/clusters', { method: 'POST', json: { id, admin_url: admin, accepts_new_projects: false } });
  return {
    id,
    proxy,
    remove: async () => {
      proxy.resume();
      await proxy.start().catch(() => undefined);
      await platform(`/clusters/${id}`, { method: 'DELETE' }).catch(() => undefined);
      await proxy.close();
    },
  };
}
export { pick, seededRandom, testSeed } from './seeded.js';

/**
 * Puts the project on a plan of its own whose db_bytes quota is one byte, and waits (20 s at most) until `refused`
 * (a write it tries) says the platform's quota check has made the database read-only. The function it returns puts
 * the project back on `unlimited` and deletes the plan (call it in after()).
 */
export async function overDbBytesQuota(p: TestProject, refused: () => Promise<boolean>): Promise<() => Promise<void>> {
  const plan = `ro-${p.ref.slice(0, 8)}-${randomBytes(3).toString('hex')}`;
  const undo = async () => {
    await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { plan: 'unlimited' } }).catch(() => undefined);
    await platform(`/plans/${plan}`, { method: 'DELETE' }).catch(() => undefined);
  };
  try {
    await platform(`/plans/${plan}`, { method: 'PUT', json: { quotas: { db_bytes: 1 } } });
    await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { plan } });
    await eventually(refused, 20_000, 200);
  } catch (e) {
    await undo();
    throw e;
  }
  return undo;
}
