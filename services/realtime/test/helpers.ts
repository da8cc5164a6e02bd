// Realtime test helpers: supabase-js clients (as a user when given a token), subscribing as a promise, a raw
// Phoenix socket for protocol-level checks, and a second realtime replica started as its own process.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createClient, type RealtimeChannel, type SupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { eventually, supabaseClient, testEnv, type TestProject } from '@basalt/testkit';

const clients: SupabaseClient[] = [];

/** supabase-js for the project (through the gateway unless `url` names a replica); `token` signs in a user the
 *  way supabase-js hands a session to realtime (its accessToken callback, asked again at every heartbeat). */
export function rt(p: TestProject, o: { key?: string; token?: string | (() => string); url?: string } = {}): SupabaseClient {
  const token = o.token;
  const c = o.url || token
    ? createClient(o.url ?? p.url, o.key ?? p.anonKey, {
      ...(token ? { accessToken: async () => (typeof token === 'function' ? token() : token) } : { auth: { persistSession: false, autoRefreshToken: false } }),
      realtime: { transport: WebSocket as never },
    })
    : supabaseClient(p, { key: o.key });
  // as an app does after sign-in: the token is on the socket before the first join
  if (token) void c.realtime.setAuth(typeof token === 'function' ? token() : token);
  clients.push(c);
  return c;
}

/** Disconnects every client made by rt() (before the projects go, so nothing is left reconnecting). */
export async function closeClients(): Promise<void> {
  await Promise.all(clients.splice(0).map(async (c) => {
    await Promise.race([c.removeAllChannels(), sleep(1000)]).catch(() => undefined);
    await c.realtime.disconnect();
  }));
}

/** Subscribes; resolves on SUBSCRIBED, rejects with the server's reason on CHANNEL_ERROR / TIMED_OUT. */
export function subscribed(ch: RealtimeChannel): Promise<RealtimeChannel> {
  return new Promise((resolve, reject) => {
    ch.subscribe((status, err) => {
      if (status === 'SUBSCRIBED') resolve(ch);
      else if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT') {
        // a refused channel would otherwise rejoin with backoff forever (and reconnect a closed client)
        void ch.unsubscribe();
        reject(err ?? new Error(status));
      }
    });
  });
}

/**
 * As the service role, subscribes to INSERTs on public.<table>: the new rows' ids as they arrive, every status the
 * channel reports (a channel that never errors reports SUBSCRIBED alone), and leaving. Resolves once subscribed.
 */
export async function watchInserts(p: TestProject, table: string, name: string, timeoutMs = 30_000) {
  const client = rt(p, { key: p.serviceKey });
  const got: number[] = [];
  const statuses: string[] = [];
  const ch = client.channel(name).on('postgres_changes', { event: 'INSERT', schema: 'public', table } as never, (m: any) => got.push(m.new.id));
  ch.subscribe((status) => statuses.push(status));
  await eventually(() => statuses.includes('SUBSCRIBED'), timeoutMs, 50);
  return { got, statuses, leave: () => client.removeChannel(ch) };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A bare Phoenix socket: send frames, await the frame a predicate picks. */
export async function rawSocket(url: string) {
  const ws = new WebSocket(url);
  const frames: (string | Buffer)[] = [];
  ws.on('message', (d: Buffer, binary: boolean) => frames.push(binary ? d : d.toString()));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => reject(Object.assign(new Error(body), { status: res.statusCode, body })));
    });
    ws.once('error', reject);
  });
  return {
    ws,
    frames,
    send: (f: unknown) => ws.send(typeof f === 'string' || Buffer.isBuffer(f) ? f : JSON.stringify(f)),
    next: async <T = unknown>(pick: (f: any) => boolean, timeoutMs = 5000): Promise<T> =>
      eventually(() => {
        const i = frames.findIndex((f) => {
          try {
            return pick(typeof f === 'string' ? JSON.parse(f) : f);
          } catch {
            return false;
          }
        });
        if (i < 0) return null;
        const [f] = frames.splice(i, 1);
        return (typeof f === 'string' ? JSON.parse(f) : f) as T;
      }, timeoutMs, 10) as Promise<T>,
    close: () => ws.close(),
  };
}

export function socketUrl(p: TestProject, key = p.anonKey, vsn = '2.0.0'): string {
  return `${p.url.replace(/^http/, 'ws')}/realtime/v1/websocket?apikey=${key}&vsn=${vsn}`;
}

export function directUrl(key: string, vsn = '2.0.0'): string {
  return `${testEnv().services.realtime.replace(/^http/, 'ws')}/realtime/v1/websocket?apikey=${key}&vsn=${vsn}`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Another realtime process sharing the fleet's Redis and databases. */
export async function secondReplica(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', main], {
    env: { ...process.env, ...testEnv().fleetEnv, PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await eventually(async () => (await fetch(`${url}/health`).catch(() => null))?.ok, 20_000, 100);
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return; // it ended already (a crash a test provoked)
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
