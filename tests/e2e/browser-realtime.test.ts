// Realtime in a real browser: two users, each in their own Chromium page on the project's site, use supabase-js's
// own channel API over the browser's WebSocket: presence sees both, a broadcast reaches the other page (and the
// sender, with self), and Postgres changes under RLS reach only the user who may read the row.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, MISSING } from './chromium.js';
import { ROOT } from '@basalt/fleet';
import { createProject, testEnv, type TestProject } from '@basalt/testkit';

const env = testEnv();
let browser: Browser | undefined;
let p: TestProject;

// each page signs up, joins a broadcast+presence room and a Postgres changes channel, then waits for commands
const APP = `
const { createClient } = supabase;
const sb = createClient(BASALT.url, BASALT.anonKey);
window.LOG = { broadcasts: [], changes: [], presence: 0, status: [] };
window.ready = (async () => {
  const name = new URLSearchParams(location.search).get('who');
  const su = await sb.auth.signUp({ email: name + Date.now() + '@rt.test', password: 'browser-pass-1' });
  if (su.error) throw su.error;
  const room = sb.channel('room', { config: { broadcast: { self: true, ack: true }, presence: { key: name } } })
    .on('broadcast', { event: 'say' }, (m) => LOG.broadcasts.push(m.payload.text))
    .on('presence', { event: 'sync' }, () => { LOG.presence = Object.keys(room.presenceState()).length; });
  const db = sb.channel('db').on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'notes' }, (m) => LOG.changes.push(m.new.body));
  const joined = (ch) => new Promise((resolve, reject) => ch.subscribe((s, err) => {
    LOG.status.push(s);
    if (s === 'SUBSCRIBED') resolve(); else if (s === 'CHANNEL_ERROR' || s === 'TIMED_OUT') reject(err || new Error(s));
  }));
  await Promise.all([joined(room), joined(db)]);
  await room.track({ who: name });
  window.say = (text) => room.send({ type: 'broadcast', event: 'say', payload: { text } });
  window.note = async (body) => { const r = await sb.from('notes').insert({ body }); if (r.error) throw r.error; };
  document.title = 'ready';
})().catch((e) => { window.FAILED = String((e && e.message) || e); document.title = 'failed'; });
`;

before(async () => {
  p = await createProject('browser-realtime');
  await p.sql(`
    create table notes (id bigint generated always as identity primary key, body text not null, owner uuid not null default auth.uid());
    create policy "own notes" on notes for all to authenticated using (owner = auth.uid()) with check (owner = auth.uid());`);
  const port = new URL(env.gatewayUrl).port;
  const umd = readFileSync(join(ROOT, 'tests/node_modules/@supabase/supabase-js/dist/umd/supabase.js'), 'utf8');
  const files = [
    { path: 'index.html', content: '<!doctype html><title>loading</title><script src="/supabase.js"></script><script src="/config.js"></script><script src="/app.js"></script>' },
    { path: 'supabase.js', content: umd },
    { path: 'config.js', content: `window.BASALT = ${JSON.stringify({ url: `http://localhost:${port}/project/${p.ref}`, anonKey: p.anonKey })};` },
    { path: 'app.js', content: APP },
  ];
  const r = await fetch(`${p.url}/assets/admin/v1/upload`, {
    method: 'POST', headers: { authorization: `Bearer ${p.serviceKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ files }),
  });
  assert.equal(r.status, 200, await r.text());
});

after(async () => {
  await browser?.close();
});

const log = (page: Page) => page.evaluate('window.LOG') as Promise<{ broadcasts: string[]; changes: string[]; presence: number; status: string[] }>;

async function until(page: Page, fn: string) {
  await page.waitForFunction(fn, undefined, { timeout: 30_000 });
}

test('two users in Chromium: presence, broadcast with self, and Postgres changes each sees only under RLS', async (t) => {
  browser = (await launchChromium()) ?? undefined;
  if (!browser) return t.skip(MISSING);
  const port = new URL(env.gatewayUrl).port;
  const errors: string[] = [];
  const open = async (who: string) => {
    const page = await browser!.newPage();
    page.on('pageerror', (e) => errors.push(`${who}: ${e.message}`));
    await page.goto(`http://${p.ref}.localhost:${port}/?who=${who}`);
    await page.waitForFunction("document.title === 'ready' || document.title === 'failed'", undefined, { timeout: 30_000 });
    assert.equal(await page.title(), 'ready', String(await page.evaluate('window.FAILED')));
    return page;
  };
  const alice = await open('alice');
  const bob = await open('bob');
  await until(alice, 'window.LOG.presence === 2');
  await until(bob, 'window.LOG.presence === 2');

  assert.equal(await alice.evaluate("window.say('hi from alice')"), 'ok', 'the broadcast is acknowledged');
  await until(bob, "window.LOG.broadcasts.includes('hi from alice')");
  await until(alice, "window.LOG.broadcasts.includes('hi from alice')");

  await alice.evaluate("window.note('alice private')");
  await bob.evaluate("window.note('bob private')");
  await until(alice, "window.LOG.changes.includes('alice private')");
  await until(bob, "window.LOG.changes.includes('bob private')");
  // a last change each, so anything wrongly delivered would have arrived before it
  await alice.evaluate("window.note('alice last')");
  await bob.evaluate("window.note('bob last')");
  await until(alice, "window.LOG.changes.includes('alice last')");
  await until(bob, "window.LOG.changes.includes('bob last')");
  assert.deepEqual((await log(alice)).changes, ['alice private', 'alice last']);
  assert.deepEqual((await log(bob)).changes, ['bob private', 'bob last']);

  await bob.close();
  await until(alice, 'window.LOG.presence === 1');
  assert.deepEqual(errors, []);
});
