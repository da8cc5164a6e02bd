// A project over its db_bytes quota is read-only (the platform's quota check): every API's writes are refused in
// its own shape, naming the quota and what to do, never a 500; reads and signing in with an existing session's
// token go on. (REST's own case, with a function lifting the read-only default, is services/rest/test.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject, overDbBytesQuota, supabaseClient, type TestProject } from '@basalt/testkit';

let p: TestProject;
let accessToken = '';
let undo: (() => Promise<void>) | undefined;
const email = `reader-${Date.now().toString(36)}@app.test`;
const password = 'read-only-pass-1';

before(async () => {
  p = await createProject('read-only-quota');
  await p.sql(`create table notes (id bigint generated always as identity primary key, body text);
    alter table notes enable row level security;
    create policy notes_all on notes for all to anon, authenticated using (true) with check (true);
    insert into notes (body) values ('kept');`);
  const admin = supabaseClient(p, { key: p.serviceKey });
  assert.equal((await admin.storage.createBucket('files')).error, null);
  assert.equal((await admin.storage.from('files').upload('kept.txt', 'kept')).error, null);
  const signedUp = await supabaseClient(p).auth.signUp({ email, password });
  assert.equal(signedUp.error, null);
  accessToken = signedUp.data.session!.access_token;
  undo = await overDbBytesQuota(p, async () => (await supabaseClient(p).from('notes').insert({ body: 'over' })).error?.code === '25006');
});

after(() => undo?.());

const QUOTA = /over its plan's db_bytes quota.*read-only.*larger plan/s;

test('auth: sign-up and sign-in, which write, are a 405 naming db_bytes in GoTrue\'s shape; a session token still reads', async () => {
  const signUp = await fetch(`${p.url}/auth/v1/signup`, {
    method: 'POST', headers: { apikey: p.anonKey, 'content-type': 'application/json' }, body: JSON.stringify({ email: `new-${email}`, password }),
  });
  const body = await signUp.json() as { code: number; error_code: string; msg: string };
  assert.equal(signUp.status, 405, JSON.stringify(body));
  assert.equal(body.error_code, 'db_bytes');
  assert.match(body.msg, QUOTA);
  const signIn = await supabaseClient(p).auth.signInWithPassword({ email, password });
  assert.equal(signIn.error?.status, 405);
  assert.equal(signIn.error?.code, 'db_bytes');
  // a session from before reads its user, and RLS-bound rows
  const user = await fetch(`${p.url}/auth/v1/user`, { headers: { apikey: p.anonKey, authorization: `Bearer ${accessToken}` } });
  assert.equal(user.status, 200);
  assert.equal(((await user.json()) as { email: string }).email, email);
  const rows = await supabaseClient(p, { accessToken }).from('notes').select('body');
  assert.deepEqual(rows.data, [{ body: 'kept' }]);
});

test('storage: an upload and a new bucket are refused naming db_bytes, in Storage\'s shape; downloads go on', async () => {
  const admin = supabaseClient(p, { key: p.serviceKey }).storage;
  const up = await admin.from('files').upload('new.txt', 'new');
  assert.equal((up.error as { statusCode?: string } | null)?.statusCode, '405');
  assert.match(up.error!.message, QUOTA);
  const bucket = await admin.createBucket('more');
  assert.match(bucket.error!.message, QUOTA);
  assert.equal(await (await admin.from('files').download('kept.txt')).data!.text(), 'kept');
});

test('documents: an insert is refused as Atlas refuses a cluster over its space quota (8000); a find goes on', async () => {
  const call = (action: string, body: unknown) => fetch(`${p.url}/mongo/v1/action/${action}`, {
    method: 'POST', headers: { apikey: p.serviceKey, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  const r = await call('insertOne', { collection: 'things', document: { a: 1 } });
  const body = await r.json() as { error: string; error_code: string; code: number };
  assert.equal(r.status, 405, JSON.stringify(body));
  assert.deepEqual([body.error_code, body.code], ['AtlasError', 8000]);
  assert.match(body.error, QUOTA);
  assert.equal((await call('find', { collection: 'things', filter: {} })).status, 200);
});

test('REST: reads go on; a write is 25006 naming the quota', async () => {
  const sb = supabaseClient(p);
  assert.deepEqual((await sb.from('notes').select('body')).data, [{ body: 'kept' }]);
  const w = await sb.from('notes').insert({ body: 'no' });
  assert.equal(w.error?.code, '25006');
  assert.match(`${w.error?.details} ${w.error?.hint}`, QUOTA);
});

test('memory: an add is refused naming db_bytes in mem0\'s shape; a list goes on', async () => {
  const call = (path: string, body: unknown) => fetch(`${p.url}${path}`, {
    method: 'POST', headers: { authorization: `Token ${p.serviceKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  const add = await call('/v1/memories/', { messages: [{ role: 'user', content: 'I like tea' }], user_id: 'u1', infer: false });
  const body = await add.json() as { detail: string; code: string };
  assert.equal(add.status, 405, JSON.stringify(body));
  assert.equal(body.code, 'db_bytes');
  assert.match(body.detail, QUOTA);
  assert.equal((await call('/v2/memories/', { filters: { user_id: 'u1' } })).status, 200);
});
