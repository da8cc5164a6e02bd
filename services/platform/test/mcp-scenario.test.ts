// The agent's whole story through the MCP SDK client only, starting from a platform token: a project, a notes
// schema under RLS by migration, clean advisors, a function with a secret, a cron job calling it, a site published
// with assets_upload — then headless Chromium uses the live site as two users who cannot see each other's notes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';
import { eventually, platform, testEnv } from '@basalt/testkit';
import { connectMcp, type Mcp } from './mcp-client.js';

const CHROMIUM = '/usr/bin/chromium';
const env = testEnv();
let mcp: Mcp;
let project: { ref: string; url: string; anon_key: string };
let browser: Browser | undefined;

const MIGRATION = `
  create table public.notes (
    id bigint generated always as identity primary key,
    body text not null check (length(body) between 1 and 1000),
    owner uuid not null default auth.uid(),
    created_at timestamptz not null default now()
  );
  alter table public.notes enable row level security;
  create policy "read own notes" on public.notes for select to authenticated using (owner = (select auth.uid()));
  create policy "write own notes" on public.notes for insert to authenticated with check (owner = (select auth.uid()));
  create policy "delete own notes" on public.notes for delete to authenticated using (owner = (select auth.uid()));`;

// The page: supabase-js's UMD bundle served from the site itself (no CDN), a config script, and the app.
const APP = `
const sb = supabase.createClient(BASALT.url, BASALT.anonKey, { auth: { persistSession: false } });
const show = (x) => { document.getElementById('out').textContent = JSON.stringify(x); return x; };
window.app = {
  async signUp(email, password) { const r = await sb.auth.signUp({ email, password }); if (r.error) throw r.error; return show(r.data.user.id); },
  async signIn(email, password) { const r = await sb.auth.signInWithPassword({ email, password }); if (r.error) throw r.error; return show(r.data.user.id); },
  async add(body) { const r = await sb.from('notes').insert({ body }).select().single(); if (r.error) throw r.error; return show(r.data); },
  async list() { const r = await sb.from('notes').select('body, owner').order('id'); if (r.error) throw r.error; return show(r.data); },
  async removeAll() { const r = await sb.from('notes').delete().neq('id', 0).select(); if (r.error) throw r.error; return show(r.data.length); },
};
document.title = 'ready';
`;

before(async () => {
  mcp = await connectMcp(env.platformToken);
});
after(async () => {
  await browser?.close();
  if (project) await platform(`/projects/${project.ref}?confirm=${project.ref}`, { method: 'DELETE' }).catch(() => undefined);
  await mcp?.close();
});

test('an agent builds a multi-user notes app through MCP and two browser users stay apart', async (t) => {
  project = await mcp.call('create_project', { name: 'notes-app' });
  const { ref } = project;

  assert.equal((await mcp.call('apply_migration', { ref, name: 'create_notes', query: MIGRATION })).applied, true);
  assert.deepEqual((await mcp.call('list_migrations', { ref })).map((m: any) => m.name), ['create_notes']);
  const notes = (await mcp.call<any[]>('list_tables', { ref })).find((x) => x.name === 'notes');
  assert.equal(notes.rls_enabled, true);
  assert.deepEqual(notes.policies.map((p: any) => p.name).sort(), ['delete own notes', 'read own notes', 'write own notes']);
  assert.deepEqual((await mcp.call('get_advisors', { ref, type: 'security' })).lints, [], 'security advisors are clean');
  assert.deepEqual((await mcp.call('get_advisors', { ref, type: 'performance' })).lints, [], 'performance advisors are clean');
  assert.match((await mcp.call('generate_typescript_types', { ref })).types, /notes: \{\n\s+Row: \{\n\s+id: number\n\s+body: string\n\s+owner: string/);

  // a function with a secret, called by a cron job every second
  await mcp.call('functions_secrets_set', { ref, secrets: [{ name: 'GREETING', value: 'hello from a secret' }] });
  const fn = await mcp.call('functions_deploy', {
    ref, slug: 'heartbeat', verify_jwt: true,
    source: `Deno.serve(async (req) => Response.json({ greeting: Deno.env.get('GREETING'), body: req.method === 'POST' ? await req.text() : null }))`,
  });
  assert.equal(fn.slug, 'heartbeat');
  const invoked = await mcp.call('functions_invoke', { ref, slug: 'heartbeat', body: { from: 'agent' } });
  assert.equal(invoked.status, 200);
  assert.deepEqual(JSON.parse(invoked.body), { greeting: 'hello from a secret', body: '{"from":"agent"}' });
  assert.match(await mcp.fail('functions_invoke', { ref, slug: 'missing' }), /404/);
  const job = await mcp.call('cron_create', { ref, name: 'heartbeat', schedule: '* * * * * *', target: { type: 'edge_function', slug: 'heartbeat', body: { from: 'cron' } } });
  assert.deepEqual((await mcp.call<any[]>('cron_list', { ref })).map((j) => j.id), [job.id]);
  const runs = await eventually(async () => {
    const r = await mcp.call<any[]>('cron_runs', { ref, job_id: job.id });
    assert.ok(r.some((x) => x.status === 'succeeded'), JSON.stringify(r));
    return r;
  }, 15_000, 500);
  assert.ok(runs.length >= 1);
  const fnLogs = await mcp.call('get_logs', { ref, service: 'functions' });
  assert.ok(fnLogs.entries.length >= 2 && fnLogs.entries.every((e: any) => e.slug === 'heartbeat'), JSON.stringify(fnLogs.entries[0]));
  assert.ok((await mcp.call('get_logs', { ref, service: 'cron' })).entries.some((e: any) => e.job_id === job.id));
  await mcp.call('execute_sql', { ref, query: 'select 1' }); // the agent can still query while cron runs
  assert.match(await mcp.fail('cron_create', { ref, name: 'bad', schedule: 'not a schedule', target: { type: 'edge_function', slug: 'heartbeat' } }), /schedule/i);

  // the site
  const umdPath = createRequire(import.meta.url).resolve('@supabase/supabase-js').replace(/dist\/.*$/, 'dist/umd/supabase.js');
  const published = await mcp.call('assets_upload', {
    ref,
    files: [
      { path: 'index.html', content: '<!doctype html><title>loading</title><pre id="out"></pre><script src="/supabase.js"></script><script src="/config.js"></script><script src="/app.js"></script>' },
      { path: 'supabase.js', content: Buffer.from(readFileSync(umdPath)).toString('base64'), encoding: 'base64' },
      { path: 'config.js', content: `window.BASALT = ${JSON.stringify({ url: project.url, anonKey: project.anon_key })};` },
      { path: 'app.js', content: APP },
    ],
  });
  const index = published.files.find((f: any) => f.path === 'index.html');
  assert.match(index.url, new RegExp(`${ref}.*index\\.html$`));
  assert.match(await (await fetch(index.url)).text(), /<pre id="out">/, 'the returned URL serves the page');

  if (!existsSync(CHROMIUM)) return t.skip(`Chromium is not installed at ${CHROMIUM}`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const port = new URL(env.gatewayUrl).port;
  const open = async (): Promise<Page> => {
    const page = await (await browser!.newContext()).newPage();
    await page.goto(`http://${ref}.localhost:${port}/`);
    await page.waitForFunction("document.title === 'ready'", undefined, { timeout: 30_000 });
    return page;
  };
  const run = <T>(page: Page, fn: string, ...args: unknown[]) =>
    page.evaluate(([f, a]) => (globalThis as any).app[f as string](...(a as unknown[])), [fn, args] as const) as Promise<T>;

  const alice = await open();
  const bob = await open();
  const aliceId = await run<string>(alice, 'signUp', `alice${Date.now()}@notes.test`, 'alice-pass-1');
  const bobEmail = `bob${Date.now()}@notes.test`;
  const bobId = await run<string>(bob, 'signUp', bobEmail, 'bob-pass-1');
  assert.notEqual(aliceId, bobId);
  await run(alice, 'add', 'alice: buy milk');
  await run(bob, 'add', 'bob: call mum');
  await run(alice, 'add', 'alice: fix bike');
  assert.deepEqual(await run(alice, 'list'), [{ body: 'alice: buy milk', owner: aliceId }, { body: 'alice: fix bike', owner: aliceId }]);
  assert.deepEqual(await run(bob, 'list'), [{ body: 'bob: call mum', owner: bobId }]);
  assert.equal(await run(bob, 'removeAll'), 1, "bob's delete reaches only his own note");

  // bob signs in again on a fresh page: still only his (now none), and alice's notes survived his delete
  const bobAgain = await open();
  assert.equal(await run<string>(bobAgain, 'signIn', bobEmail, 'bob-pass-1'), bobId);
  assert.deepEqual(await run(bobAgain, 'list'), []);
  assert.match(await alice.evaluate('document.getElementById("out").textContent') as string, /alice/);
  const rows = await mcp.call('execute_sql', { ref, query: 'select body, owner::text from public.notes order by id' });
  assert.deepEqual(rows, [{ body: 'alice: buy milk', owner: aliceId }, { body: 'alice: fix bike', owner: aliceId }]);
  const users = (await mcp.call('auth_list_users', { ref })).users.map((u: any) => u.id).sort();
  assert.deepEqual(users, [aliceId, bobId].sort());
});
