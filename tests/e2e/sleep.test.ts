// Sleeping projects end to end: a project put to sleep leaves no session on its database, its realtime feed and
// sockets and its function isolates are released, and the next supabase-js requests wake it without failing,
// however many arrive during the wake.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { createProject, eventually, platform, supabaseClient, testEnv, type TestProject } from '@basalt/testkit';

let p: TestProject;
let admin: pg.Client;
const realtimeClients: SupabaseClient[] = [];

const sessions = async () =>
  Number((await admin.query<{ n: string }>('select count(*) as n from pg_stat_activity where datname = $1', [`proj_${p.ref}`])).rows[0].n);
const status = () => platform<{ sleeping: boolean; released: Record<string, Record<string, number>> }>(`/projects/${p.ref}/sleep`);
/** the sum of one figure over every service replica's report */
const released = (s: { released: Record<string, Record<string, number>> }, service: string, key: string) =>
  Object.entries(s.released).filter(([k]) => k.startsWith(`${service}:`)).reduce((n, [, v]) => n + (v[key] ?? 0), 0);

describe('sleep and wake', () => {
  before(async () => {
    p = await createProject('sleepy');
    await p.sql(`create table notes (id bigint generated always as identity primary key, body text not null);
      alter table notes enable row level security;
      create policy notes_all on notes for all to anon using (true) with check (true);
      insert into notes (body) values ('before sleep');
      create function whoami() returns text language sql stable as $$ select current_user::text $$;
      grant execute on function whoami() to anon;`);
    await platform(`/projects/${p.ref}/functions`, {
      method: 'POST',
      json: { slug: 'echo', verify_jwt: false, source: `Deno.serve(async (req) => Response.json({ echo: (await req.json()).x }))` },
    });
    admin = new pg.Client({ connectionString: testEnv().databaseUrl });
    await admin.connect();
  });
  after(async () => {
    for (const c of realtimeClients) await c.realtime.disconnect();
    await admin?.end();
  });

  it('releases its database sessions, realtime feed and sockets, and function isolates', async () => {
    const db = supabaseClient(p);
    assert.deepEqual((await db.from('notes').select('body')).data, [{ body: 'before sleep' }]);
    const fn = await db.functions.invoke('echo', { body: { x: 1 } });
    assert.equal(fn.error, null);
    assert.deepEqual(fn.data, { echo: 1 });
    // a realtime client that does not reconnect on its own, so what the server closed stays closed
    const rt = createClient(p.url, p.anonKey, {
      auth: { persistSession: false, autoRefreshToken: false },
      realtime: { transport: WebSocket as never, reconnectAfterMs: () => 600_000 },
    });
    realtimeClients.push(rt);
    const statuses: string[] = [];
    await new Promise<void>((resolve, reject) => {
      rt.channel('notes-feed').on('postgres_changes' as never, { event: '*', schema: 'public', table: 'notes' } as never, () => undefined)
        .subscribe((s: string) => {
          statuses.push(s);
          if (s === 'SUBSCRIBED') resolve();
          else if (s === 'CHANNEL_ERROR' || s === 'TIMED_OUT') reject(new Error(s));
        });
    });
    assert.ok((await sessions()) > 0, 'the project database has sessions while awake');
    assert.equal((await platform(`/projects/${p.ref}`)).sleeping, false);

    assert.deepEqual(await platform(`/projects/${p.ref}/sleep`, { method: 'POST' }), { ref: p.ref, sleeping: true });
    assert.equal((await platform(`/projects/${p.ref}`)).sleeping, true);
    // every service reported what it let go: the realtime feed and sockets, the function's isolates, the pools
    const report = (await eventually(async () => {
      const s = await status();
      return Object.keys(s.released).some((k) => k.startsWith('functions:')) && Object.keys(s.released).some((k) => k.startsWith('realtime:'))
        && Object.keys(s.released).some((k) => k.startsWith('rest:')) ? s : null;
    }, 20_000, 100))!;
    assert.equal(report.sleeping, true);
    assert.ok(released(report, 'functions', 'fn_isolates') >= 1, JSON.stringify(report.released));
    assert.equal(released(report, 'functions', 'fn_isolates_left'), 0);
    assert.equal(released(report, 'realtime', 'realtime_feeds'), 1);
    assert.equal(released(report, 'realtime', 'realtime_sockets'), 1);
    assert.ok(released(report, 'rest', 'pools') >= 0);
    await eventually(async () => (await sessions()) === 0, 20_000, 100);
    // the client saw its channel go; the server holds no socket of the project (asked without waking it)
    await eventually(() => statuses.some((s) => s !== 'SUBSCRIBED'), 10_000, 50);
    const stats = await platform<{ connections: number }>(`/projects/${p.ref}/realtime/stats`);
    assert.equal(stats.connections, 0);
    // reading the project's state through the platform API does not wake it
    assert.equal((await status()).sleeping, true);
    await rt.realtime.disconnect();
  });

  it('wakes on the next supabase-js request, which succeeds', async () => {
    assert.equal((await status()).sleeping, true);
    const db = supabaseClient(p);
    const { data, error } = await db.from('notes').select('body').order('id');
    assert.equal(error, null);
    assert.deepEqual(data, [{ body: 'before sleep' }]);
    assert.equal((await status()).sleeping, false);
    assert.equal((await platform(`/projects/${p.ref}`)).sleeping, false);
    assert.ok((await sessions()) > 0, 'the woken project has sessions again');
  });

  it('requests arriving during the wake all wait and succeed (REST reads and writes, RPC, functions, realtime)', async () => {
    await platform(`/projects/${p.ref}/sleep`, { method: 'POST' });
    await eventually(async () => (await sessions()) === 0, 20_000, 100);
    const db = supabaseClient(p);
    const results = await Promise.all([
      ...Array.from({ length: 6 }, () => db.from('notes').select('body').eq('body', 'before sleep')),
      ...Array.from({ length: 4 }, (_, i) => db.from('notes').insert({ body: `during wake ${i}` }).select('body').single()),
      db.rpc('whoami'),
      db.functions.invoke('echo', { body: { x: 2 } }),
    ]);
    for (const r of results) assert.equal(r.error, null, JSON.stringify(r.error));
    for (const r of results.slice(0, 6)) assert.deepEqual(r.data, [{ body: 'before sleep' }]);
    assert.deepEqual(results.slice(6, 10).map((r) => (r.data as { body: string }).body).sort(), ['during wake 0', 'during wake 1', 'during wake 2', 'during wake 3']);
    assert.equal(results[10].data, 'anon');
    assert.deepEqual(results[11].data, { echo: 2 });
    assert.equal((await status()).sleeping, false);
    // realtime works again once awake
    const rt = createClient(p.url, p.anonKey, { auth: { persistSession: false, autoRefreshToken: false }, realtime: { transport: WebSocket as never } });
    realtimeClients.push(rt);
    await new Promise<void>((resolve, reject) => {
      rt.channel('again').subscribe((s: string) => (s === 'SUBSCRIBED' ? resolve() : s === 'CHANNEL_ERROR' || s === 'TIMED_OUT' ? reject(new Error(s)) : undefined));
    });
  });

  it('only an unscoped (operator) token puts a project to sleep; an unknown project is a 404', async () => {
    const scoped = await platform<{ token: string }>('/tokens', { method: 'POST', json: { name: 'scoped-sleep', projects: [p.ref] } });
    const r = await fetch(`${testEnv().gatewayUrl}/platform/v1/projects/${p.ref}/sleep`, { method: 'POST', headers: { authorization: `Bearer ${scoped.token}` } });
    assert.equal(r.status, 403);
    assert.equal(((await r.json()) as { code: string }).code, 'forbidden');
    const seen = await fetch(`${testEnv().gatewayUrl}/platform/v1/projects/${p.ref}/sleep`, { headers: { authorization: `Bearer ${scoped.token}` } });
    assert.equal(seen.status, 200);
    await assert.rejects(platform('/projects/aaaaaaaaaaaaaaaaaaaa/sleep', { method: 'POST' }), /404/);
  });
});
