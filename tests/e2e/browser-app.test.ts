// The whole story in a real browser: a generated frontend published as the project's static site, loaded from
// the project's own origin (<ref>.localhost), signing up, uploading to storage under an RLS folder policy,
// listing, downloading, writing a row over REST and fetching a signed URL — cross-origin to the API, so every
// CORS preflight (x-upsert, cache-control, apikey…) is exercised by Chromium itself.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium, MISSING } from './chromium.js';
import { ROOT } from '@basalt/fleet';
import { createProject, supabaseClient, testEnv, type TestProject } from '@basalt/testkit';

const env = testEnv();
let browser: Browser | undefined;
let p: TestProject;

const APP = `
const { createClient } = supabase;
const sb = createClient(BASALT.url, BASALT.anonKey);
(async () => {
  const email = 'browser' + Date.now() + '@app.test';
  const su = await sb.auth.signUp({ email, password: 'browser-pass-1' });
  if (su.error) throw su.error;
  const uid = su.data.user.id;
  const file = new File(['hello from the browser'], 'hello.txt', { type: 'text/plain' });
  const up = await sb.storage.from('uploads').upload(uid + '/hello.txt', file, { upsert: true, cacheControl: '60' });
  if (up.error) throw up.error;
  const intrude = await sb.storage.from('uploads').upload('someone-else/x.txt', file);
  const list = await sb.storage.from('uploads').list(uid);
  const dl = await sb.storage.from('uploads').download(uid + '/hello.txt');
  if (dl.error) throw dl.error;
  const text = await dl.data.text();
  const ins = await sb.from('notes').insert({ body: text }).select().single();
  if (ins.error) throw ins.error;
  // the count comes in Content-Range, which the page reads only if the answer exposes it
  const counted = await sb.from('notes').select('*', { count: 'exact', head: true });
  if (counted.error) throw counted.error;
  const signed = await sb.storage.from('uploads').createSignedUrl(uid + '/hello.txt', 60);
  const viaSigned = await (await fetch(signed.data.signedUrl)).text();
  window.RESULT = { uid, count: counted.count, listed: list.data.map((f) => f.name), text, note: ins.data.body, viaSigned, intruded: !intrude.error };
  document.title = 'done';
})().catch((e) => { window.RESULT = { error: String((e && e.message) || e) }; document.title = 'failed'; });
`;

before(async () => {
  p = await createProject('browser-app');
  await p.sql(`
    create table notes (id bigint generated always as identity primary key, body text not null, owner uuid not null default auth.uid());
    create policy "own notes" on notes for all to authenticated using (owner = auth.uid()) with check (owner = auth.uid());
    create policy "own folder" on storage.objects for all to authenticated
      using (bucket_id = 'uploads' and (storage.foldername(name))[1] = auth.uid()::text)
      with check (bucket_id = 'uploads' and (storage.foldername(name))[1] = auth.uid()::text);`);
  assert.equal((await supabaseClient(p, { key: p.serviceKey }).storage.createBucket('uploads', { public: false })).error, null);
  const port = new URL(env.gatewayUrl).port;
  const umd = readFileSync(join(ROOT, 'tests/node_modules/@supabase/supabase-js/dist/umd/supabase.js'), 'utf8');
  const files = [
    { path: 'index.html', content: '<!doctype html><title>loading</title><script src="/supabase.js"></script><script src="/config.js"></script><script src="/assets/app-7c1e9a2f.js"></script>' },
    { path: 'supabase.js', content: umd },
    // the API on another origin than the site: every call is cross-origin
    { path: 'config.js', content: `window.BASALT = ${JSON.stringify({ url: `http://localhost:${port}/project/${p.ref}`, anonKey: p.anonKey })};` },
    { path: 'assets/app-7c1e9a2f.js', content: APP },
  ];
  const r = await fetch(`${p.url}/assets/admin/v1/upload`, {
    method: 'POST', headers: { authorization: `Bearer ${p.serviceKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ files }),
  });
  assert.equal(r.status, 200, await r.text());
});

after(async () => {
  await browser?.close();
});

test('a site published to the project runs in Chromium and uses auth, storage (RLS) and REST cross-origin', async (t) => {
  browser = (await launchChromium()) ?? undefined;
  if (!browser) return t.skip(MISSING);
  const page = await browser.newPage();
  const failed: string[] = [];
  page.on('requestfailed', (r) => failed.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  const port = new URL(env.gatewayUrl).port;
  await page.goto(`http://${p.ref}.localhost:${port}/`);
  await page.waitForFunction("document.title === 'done' || document.title === 'failed'", undefined, { timeout: 30_000 });
  const result = (await page.evaluate('window.RESULT')) as Record<string, unknown>;
  assert.equal(result.error, undefined, `${String(result.error)} (failed requests: ${failed.join('; ')})`);
  assert.deepEqual(result.listed, ['hello.txt']);
  assert.equal(result.text, 'hello from the browser');
  assert.equal(result.note, 'hello from the browser');
  assert.equal(result.count, 1, 'Content-Range was readable cross-origin');
  assert.equal(result.viaSigned, 'hello from the browser');
  assert.equal(result.intruded, false, 'the folder policy refused an upload outside the user\'s folder');
  const [row] = await p.sql(`select owner::text, body from notes`);
  assert.deepEqual(row, { owner: result.uid, body: 'hello from the browser' });
  const [obj] = await p.sql(`select owner_id, metadata->>'cacheControl' as cache from storage.objects where bucket_id = 'uploads'`);
  assert.deepEqual(obj, { owner_id: result.uid, cache: 'max-age=60' });
});
