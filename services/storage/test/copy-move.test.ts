// Copy and move through supabase-js write their destination exactly as an upload would: its bucket's size
// limit and MIME allow-list, and the caller's RLS insert permission there. A refusal leaves no row and no bytes.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createProject, supabaseClient, testEnv, type TestProject } from '@basalt/testkit';

const root = testEnv().fleetEnv.STORAGE_FS_ROOT;
let p: TestProject;

before(async () => {
  p = await createProject('copy-move');
  const s = admin();
  await s.createBucket('src');
  await s.createBucket('small', { public: false, fileSizeLimit: 10 });
  await s.createBucket('images', { public: false, allowedMimeTypes: ['image/*'] });
  await s.createBucket('closed');
  await s.createBucket('open');
  await s.createBucket('readonly');
  await s.from('readonly').upload('r.txt', Buffer.from('r'), { contentType: 'text/plain' });
  await s.from('src').upload('page.html', Buffer.from('<p>'.repeat(20)), { contentType: 'text/html' });
  await p.sql(`
    create policy "src: read" on storage.objects for select to authenticated using (bucket_id = 'src');
    create policy "src: move out" on storage.objects for update to authenticated using (bucket_id = 'src') with check (true);
    create policy "open: write" on storage.objects for insert to authenticated with check (bucket_id = 'open');
    create policy "readonly: read" on storage.objects for select to authenticated using (bucket_id = 'readonly');
    create policy "open: read" on storage.objects for select to authenticated using (bucket_id = 'open');`);
});

const admin = () => supabaseClient(p, { key: p.serviceKey }).storage;
const asUser = () => supabaseClient(p, { accessToken: p.token({ sub: randomUUID() }) }).storage;
const errorOf = (e: unknown) => {
  const { statusCode, message } = (e ?? {}) as { statusCode?: string; message?: string };
  return { statusCode, message };
};
const fileCount = () => {
  let n = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else n++;
    }
  };
  walk(join(root, p.ref));
  return n;
};
const names = async (bucket: string) => ((await admin().from(bucket).list()).data ?? []).map((o) => o.name);

test('copy and move refuse a destination whose size limit or MIME allow-list an upload would break', async () => {
  const s = admin();
  const files = fileCount();
  const tooBig = await s.from('small').upload('page.html', Buffer.from('<p>'.repeat(20)), { contentType: 'text/html' });
  const wrongType = await s.from('images').upload('page.html', Buffer.from('<p>'), { contentType: 'text/html' });
  assert.deepEqual(errorOf(tooBig.error), { statusCode: '413', message: 'The object exceeded the maximum allowed size' });
  assert.deepEqual(errorOf(wrongType.error), { statusCode: '415', message: 'mime type text/html is not supported' });
  for (const op of ['copy', 'move'] as const) {
    const big = await s.from('src')[op]('page.html', 'page.html', { destinationBucket: 'small' });
    assert.deepEqual(errorOf(big.error), errorOf(tooBig.error), `${op} to a bucket with a smaller limit`);
    const typed = await s.from('src')[op]('page.html', 'page.html', { destinationBucket: 'images' });
    assert.deepEqual(errorOf(typed.error), errorOf(wrongType.error), `${op} to a bucket that allows other types`);
  }
  assert.deepEqual([await names('small'), await names('images'), await names('src')], [[], [], ['page.html']]);
  assert.equal(fileCount(), files, 'no bytes were left behind');
});

test('a user who may read the source but not insert into the destination gets the error an upload gets', async () => {
  const user = asUser();
  const files = fileCount();
  const upload = await user.from('closed').upload('page.html', Buffer.from('<p>'), { contentType: 'text/html' });
  assert.equal(errorOf(upload.error).statusCode, '403');
  assert.match(upload.error!.message, /row-level security/);
  assert.equal((await user.from('src').download('page.html')).error, null, 'the user can read the source');
  for (const op of ['copy', 'move'] as const) {
    const r = await user.from('src')[op]('page.html', 'stolen.html', { destinationBucket: 'closed' });
    assert.deepEqual(errorOf(r.error), errorOf(upload.error), op);
  }
  assert.deepEqual([await names('closed'), await names('src')], [[], ['page.html']]);
  assert.equal(fileCount(), files, 'the refused copy left no bytes');
});

test('with an insert policy on the destination the user copies (needing only SELECT on the source) and moves', async () => {
  const user = asUser();
  assert.equal((await user.from('src').copy('page.html', 'copied.html', { destinationBucket: 'open' })).error, null);
  assert.equal((await user.from('open').info('copied.html')).data!.contentType, 'text/html');
  await admin().from('src').upload('movable.txt', Buffer.from('m'), { contentType: 'text/plain' });
  assert.equal((await user.from('src').move('movable.txt', 'moved.txt', { destinationBucket: 'open' })).error, null);
  // copying needs only SELECT on the source, no UPDATE policy
  assert.equal((await user.from('readonly').copy('r.txt', 'r.txt', { destinationBucket: 'open' })).error, null);
  assert.deepEqual(await names('open'), ['copied.html', 'moved.txt', 'r.txt']);
  assert.equal(await (await user.from('open').download('moved.txt')).data!.text(), 'm');
});

test('a row stored with a malformed type copies as application/octet-stream, and an allow-list sees that type', async () => {
  const s = admin();
  await s.from('src').upload('legacy.bin', Buffer.from('x'), { contentType: 'application/octet-stream' });
  await p.sql(`update storage.objects set metadata = jsonb_set(metadata, '{mimetype}', '"image/png, text/html"') where bucket_id = 'src' and name = 'legacy.bin'`);
  const refused = await s.from('src').copy('legacy.bin', 'legacy.bin', { destinationBucket: 'images' });
  assert.deepEqual(errorOf(refused.error), { statusCode: '415', message: 'mime type application/octet-stream is not supported' });
  assert.equal((await s.from('src').copy('legacy.bin', 'legacy-copy.bin')).error, null);
  assert.equal((await s.from('src').info('legacy-copy.bin')).data!.contentType, 'application/octet-stream');
});
