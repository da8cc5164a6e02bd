// Object names of every allowed character (catalogue Z3): spaces, %, ?, #, +, &, quotes, brackets, unicode from
// accents to emoji and right-to-left marks: the upload is read back byte for byte under exactly that name, listed
// under it, served by a signed URL, and removed. Through supabase-js, which puts the name in the URL unencoded, so
// '#', '?', '%' and a trailing space cannot reach any server intact from it (Supabase's own key rule refuses the
// first three); through HTTP with the name percent-encoded, every character. Seeded: a failure names its seed (BASALT_TEST_SEED repeats it).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, test } from 'node:test';
import { createProject, seededRandom, supabaseClient, type TestProject, testSeed } from '@basalt/testkit';

const seed = testSeed();
const KEYS = 60;
let p: TestProject;

before(async () => {
  p = await createProject('object-keys');
  const { error } = await supabaseClient(p, { key: p.serviceKey }).storage.createBucket('keys');
  assert.equal(error, null);
});

const ASCII = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).filter((c) => c !== '/' && c !== '\\');
const UNICODE = ['é', 'ß', 'Ω', '日本', '語', '😀', '👩‍👩‍👧', 'e\u0301', '\u202e', '\u00a0', 'ﬁ', '𝔘', 'Ж', 'ا', '\u2028', '\ufeff'];

const UNENCODED = ASCII.filter((c) => c !== '#' && c !== '?' && c !== '%');

function key(next: () => number, ascii = ASCII): string {
  const segments = 1 + Math.floor(next() * 3);
  const parts: string[] = [];
  for (let s = 0; s < segments; s++) {
    let seg = '';
    const n = 1 + Math.floor(next() * 12);
    for (let i = 0; i < n; i++) seg += next() < 0.75 ? ascii[Math.floor(next() * ascii.length)] : UNICODE[Math.floor(next() * UNICODE.length)];
    parts.push(seg === '.' || seg === '..' ? `${seg}x` : seg);
  }
  return parts.join('/');
}

test(`${KEYS} object names of every allowed character round-trip exactly through supabase-js`, async () => {
  const next = seededRandom(seed);
  const storage = supabaseClient(p, { key: p.serviceKey }).storage.from('keys');
  // a URL's trailing spaces are cut by the URL parser (WHATWG): a name ending in one cannot pass unencoded either
  const names = [...new Set(Array.from({ length: KEYS }, () => key(next, UNENCODED).replace(/ +$/, '_')))];
  const wrong: string[] = [];
  for (const [i, name] of names.entries()) {
    const bytes = randomBytes(16 + i);
    const label = JSON.stringify(name);
    const up = await storage.upload(name, bytes, { contentType: 'application/octet-stream' });
    if (up.error) {
      wrong.push(`upload ${label}: ${up.error.message}`);
      continue;
    }
    if (up.data.path !== name) wrong.push(`upload ${label} answered the path ${JSON.stringify(up.data.path)}`);
    const down = await storage.download(name);
    if (down.error || !Buffer.from(await down.data!.arrayBuffer()).equals(bytes)) wrong.push(`download ${label}: ${down.error?.message ?? 'other bytes'}`);
    const slash = name.lastIndexOf('/');
    const listed = await storage.list(slash < 0 ? '' : name.slice(0, slash), { limit: 1000, search: '' });
    if (!listed.data?.some((o) => o.name === name.slice(slash + 1))) wrong.push(`list ${label}: not listed (${listed.error?.message ?? ''})`);
    const signed = await storage.createSignedUrl(name, 60);
    if (signed.error) wrong.push(`sign ${label}: ${signed.error.message}`);
    else {
      const r = await fetch(signed.data.signedUrl);
      if (r.status !== 200 || !Buffer.from(await r.arrayBuffer()).equals(bytes)) wrong.push(`signed URL ${label}: ${r.status}`);
    }
    const removed = await storage.remove([name]);
    if (removed.error || removed.data?.length !== 1) wrong.push(`remove ${label}: ${removed.error?.message ?? `${removed.data?.length} removed`}`);
  }
  assert.deepEqual(wrong, [], `seed ${seed}`);
});

test(`${KEYS} object names of every allowed character, '#', '?' and '%' too, round-trip exactly when percent-encoded`, async () => {
  const next = seededRandom(seed + 1);
  const base = `${p.url}/storage/v1/object`;
  const headers = { apikey: p.serviceKey, authorization: `Bearer ${p.serviceKey}` };
  const path = (name: string) => name.split('/').map(encodeURIComponent).join('/');
  const json = (body: unknown) => ({ method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const names = [...new Set(Array.from({ length: KEYS }, () => key(next)))];
  const wrong: string[] = [];
  for (const [i, name] of names.entries()) {
    const bytes = randomBytes(16 + i);
    const label = JSON.stringify(name);
    const up = await fetch(`${base}/keys/${path(name)}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/octet-stream' }, body: bytes });
    const upBody = (await up.json()) as { Key?: string };
    if (up.status !== 200 || upBody.Key !== `keys/${name}`) {
      wrong.push(`upload ${label}: ${up.status} ${JSON.stringify(upBody)}`);
      continue;
    }
    const down = await fetch(`${base}/keys/${path(name)}`, { headers });
    if (down.status !== 200 || !Buffer.from(await down.arrayBuffer()).equals(bytes)) wrong.push(`download ${label}: ${down.status}`);
    const slash = name.lastIndexOf('/');
    const listed = (await (await fetch(`${base}/list/keys`, json({ prefix: slash < 0 ? '' : `${name.slice(0, slash)}/`, limit: 1000 }))).json()) as { name: string }[];
    if (!listed.some?.((o) => o.name === name.slice(slash + 1))) wrong.push(`list ${label}: not listed`);
    const signed = (await (await fetch(`${base}/sign/keys/${path(name)}`, json({ expiresIn: 60 }))).json()) as { signedURL?: string };
    // signedURL names the object as supabase-js expects it (it applies encodeURI), which no name with '#' or '?'
    // survives: an HTTP client encodes the name itself and takes the token
    const token = signed.signedURL?.slice(signed.signedURL.lastIndexOf('?token=') + 7);
    const viaSigned = token ? await fetch(`${base}/sign/keys/${path(name)}?token=${token}`) : null;
    if (!viaSigned || viaSigned.status !== 200 || !Buffer.from(await viaSigned.arrayBuffer()).equals(bytes)) wrong.push(`signed URL ${label}: ${viaSigned?.status ?? JSON.stringify(signed)}`);
    const removed = await fetch(`${base}/keys`, { method: 'DELETE', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ prefixes: [name] }) });
    const gone = (await removed.json()) as unknown[];
    if (removed.status !== 200 || gone.length !== 1) wrong.push(`remove ${label}: ${removed.status} ${JSON.stringify(gone).slice(0, 100)}`);
  }
  assert.deepEqual(wrong, [], `seed ${seed}`);
});
