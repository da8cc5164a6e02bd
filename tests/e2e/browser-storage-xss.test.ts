// Stored XSS through Storage, checked in a real browser: files crafted to run script (HTML, SVG with <script> and
// onload, XML and XHTML, HTML behind an image type) are uploaded to a public bucket and opened in Chromium on the
// API's own origin, by public and signed URL. No payload may run; content types that are not one type/subtype are
// refused at upload. A control page proves the payload does run when a browser is let to.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, MISSING } from './chromium.js';
import { createProject, supabaseClient, type TestProject } from '@basalt/testkit';

let browser: Browser | undefined;
let p: TestProject;

/** Every payload reports through a binding, sets a global and renames the page: any one of them means it ran. */
const RUN = (tag: string) => `window.__pwned='${tag}';document.title='pwned';window.__pwn&&window.__pwn('${tag}')`;
const HTML = (tag: string) => `<!doctype html><html><head><title>x</title></head><body><script>${RUN(tag)}</script>`
  + `<img src="data:," onerror="${RUN(`${tag}-onerror`)}"></body></html>`;
const SVG = (tag: string) => `<svg xmlns="http://www.w3.org/2000/svg" onload="${RUN(`${tag}-onload`)}"><script>${RUN(tag)}</script></svg>`;
const XHTML = (tag: string) => `<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body><script>${RUN(tag)}</script></body></html>`;
const XML = (tag: string) => `<?xml version="1.0"?><doc><script xmlns="http://www.w3.org/1999/xhtml">${RUN(tag)}</script></doc>`;

/** name, body, the content type it is uploaded with, and the type Chromium must be handed (null: refused). */
const FILES: [string, string, string, string | null][] = [
  ['page.html', HTML('html'), 'text/html', 'text/plain; charset=utf-8'],
  ['page-utf8.html', HTML('html-charset'), 'Text/HTML; charset=UTF-8', 'text/plain; charset=utf-8'],
  ['list.html', HTML('list'), 'text/plain, text/html', null],
  ['stray.html', HTML('stray'), 'text/plain html', null],
  ['mixed.html', HTML('mixed'), 'multipart/x-mixed-replace; boundary=x', null],
  ['image.svg', SVG('svg'), 'image/svg+xml', 'image/svg+xml'],
  ['page.xhtml', XHTML('xhtml'), 'application/xhtml+xml', 'text/plain; charset=utf-8'],
  ['data.xml', XML('xml'), 'text/xml', 'text/xml'],
  ['looks-like.html', HTML('png-type'), 'image/png', 'image/png'],
  ['sniffable.txt', HTML('plain-type'), 'text/plain', 'text/plain'],
];

before(async () => {
  p = await createProject('browser-xss');
  const s = supabaseClient(p, { key: p.serviceKey }).storage;
  assert.equal((await s.createBucket('xss', { public: true })).error, null);
  for (const [name, body, contentType, served] of FILES) {
    const up = await s.from('xss').upload(name, Buffer.from(body), { contentType });
    if (served === null) {
      assert.equal((up.error as { statusCode?: string } | null)?.statusCode, '400', `${contentType} was accepted`);
      assert.match(up.error!.message, /Content-Type must be exactly one type\/subtype/);
    } else {
      assert.equal(up.error, null, `${name}: ${up.error?.message}`);
    }
  }
  // a row written before content types were parsed: served as bytes, not as HTML
  assert.equal((await s.from('xss').upload('legacy.html', Buffer.from(HTML('legacy')), { contentType: 'text/plain' })).error, null);
  await p.sql(`update storage.objects set metadata = jsonb_set(metadata, '{mimetype}', '"text/html foo"') where name = 'legacy.html'`);
});

after(async () => {
  await browser?.close();
});

/** Opens url in a fresh page; returns what Chromium was served and every sign of a payload having run. */
async function open(url: string): Promise<{ contentType: string | undefined; ran: string[] }> {
  const page: Page = await browser!.newPage();
  const ran: string[] = [];
  await page.exposeBinding('__pwn', (_source, tag: string) => void ran.push(tag));
  try {
    let contentType: string | undefined;
    try {
      const response = await page.goto(url, { waitUntil: 'load', timeout: 15_000 });
      contentType = response?.headers()['content-type'];
    } catch (e) {
      // a response Chromium downloads instead of rendering aborts the navigation: nothing was rendered
      if (!/ERR_ABORTED|Download is starting/.test((e as Error).message)) throw e;
      contentType = 'download';
    }
    await page.waitForTimeout(300); // onload handlers and queued tasks
    const state = (await page.evaluate('[String(window.__pwned), document.title]').catch(() => ['undefined', ''])) as string[];
    if (state[0] !== 'undefined') ran.push(`global:${state[0]}`);
    if (state[1] === 'pwned') ran.push('title');
    return { contentType, ran };
  } finally {
    await page.close();
  }
}

test('files crafted to run script never run on the API origin, by public or signed URL', async (t) => {
  browser = (await launchChromium()) ?? undefined;
  if (!browser) return t.skip(MISSING);
  // the control: the same payloads do run where a browser is let to, so a clean result below means something
  const control = await browser.newPage();
  const controlRan: string[] = [];
  await control.exposeBinding('__pwn', (_source, tag: string) => void controlRan.push(tag));
  await control.setContent(HTML('control') + SVG('control-svg'));
  await control.waitForTimeout(300);
  await control.close();
  assert.ok(controlRan.includes('control') && controlRan.includes('control-svg-onload'), `the control payloads ran: ${controlRan.join(', ')}`);

  const s = supabaseClient(p, { key: p.serviceKey }).storage;
  for (const [name, , uploaded, served] of FILES) {
    if (served === null) continue;
    const signed = (await s.from('xss').createSignedUrl(name, 60)).data!.signedUrl;
    for (const [how, url] of [['public', s.from('xss').getPublicUrl(name).data.publicUrl], ['signed', signed]]) {
      const seen = await open(url);
      assert.deepEqual(seen.ran, [], `${how} ${name} (uploaded as ${uploaded}) ran script`);
      assert.equal(seen.contentType, served, `${how} ${name} was served as ${seen.contentType}`);
    }
  }
  const legacy = await open(s.from('xss').getPublicUrl('legacy.html').data.publicUrl);
  assert.deepEqual(legacy.ran, [], 'a row stored with a malformed type ran script');
  assert.ok(legacy.contentType === 'application/octet-stream' || legacy.contentType === 'download', String(legacy.contentType));
  // what was refused was never stored
  const names = ((await s.from('xss').list()).data ?? []).map((o) => o.name);
  for (const [name, , , served] of FILES) assert.equal(names.includes(name), served !== null, name);
});
