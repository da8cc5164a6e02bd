// Every Studio page in Chromium at laptop (1280px) and phone (390px) width, on a project with a table, a row and a
// bucket: each renders its heading and data with no console error and no error notice (or, for a module this run
// did not start, says it is unavailable), and nothing at phone width is wider than the screen. Screenshots of
// each go to .basalt/test-artifacts/studio/<page>-<width>.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createProject, testEnv, type TestProject } from '@basalt/testkit';
import { launchChromium, MISSING } from './chromium.js';
import { ARTIFACTS, down, openStudio, SERVICE_OF, up } from './studio-browser.js';

const env = testEnv();
const HEADINGS: Record<string, string> = {
  overview: 'studio pages', database: 'Tables', policies: 'Policies', sql: 'SQL', auth: 'Auth', storage: 'Storage',
  functions: 'Functions', cron: 'Cron', ai: 'AI', memory: 'Memory', realtime: 'Realtime', documents: 'Documents',
};
let browser: Browser | undefined;
let p: TestProject;

before(async () => {
  p = await createProject('studio pages');
  await p.sql(`create table notes (id bigint generated always as identity primary key, body text); insert into notes (body) values ('seen in studio')`);
  if (up('storage')) {
    const r = await fetch(`${p.url}/storage/v1/bucket`, {
      method: 'POST', headers: { apikey: p.serviceKey, authorization: `Bearer ${p.serviceKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'files' }),
    });
    assert.equal(r.status, 200, await r.text());
  }
});

after(async () => {
  await browser?.close();
});

async function visit(page: Page, key: string, width: 'desktop' | 'phone') {
  await page.goto(`${env.gatewayUrl}/studio#/p/${p.ref}/${key}`);
  await page.getByRole('heading', { level: 1, name: HEADINGS[key], exact: true }).waitFor({ timeout: 20_000 });
  // locators, not string predicates: Studio's CSP forbids eval
  await page.getByText('Loading…', { exact: true }).first().waitFor({ state: 'detached', timeout: 20_000 });
  await page.screenshot({ path: join(ARTIFACTS, `${key}-${width}.png`), fullPage: true });
  if (width === 'phone') {
    // nothing is wider than the screen but the tables' own scrolling boxes
    const overflow = await page.evaluate(() => {
      const g = globalThis as unknown as { document: { documentElement: { scrollWidth: number } }; innerWidth: number };
      return g.document.documentElement.scrollWidth - g.innerWidth;
    });
    assert.ok(overflow <= 1, `${key}: the page is ${overflow}px wider than a 390px screen`);
  }
  const alerts = await page.locator('.notice.error').allInnerTexts();
  if (down.has(SERVICE_OF[key])) assert.ok(alerts.length > 0, `${key}: the page says its service is unavailable`);
  else assert.deepEqual(alerts, [], `${key} at ${width} width shows no error`);
}

test('Studio: every page renders at laptop and phone width with no console error', { timeout: 110_000 }, async (t) => {
  browser = (await launchChromium()) ?? undefined;
  if (!browser) return t.skip(MISSING);
  mkdirSync(ARTIFACTS, { recursive: true });
  const { page, problems } = await openStudio(browser);
  await page.getByRole('link', { name: 'Open studio pages' }).waitFor();

  for (const key of Object.keys(HEADINGS)) await visit(page, key, 'desktop');
  // the table editor reads the row over REST
  await page.goto(`${env.gatewayUrl}/studio#/p/${p.ref}/database`);
  await page.getByRole('button', { name: 'Open notes' }).click();
  await page.getByRole('cell', { name: 'seen in studio', exact: true }).waitFor();
  if (up('storage')) {
    await page.getByRole('link', { name: 'Storage' }).click();
    await page.getByRole('cell', { name: 'files', exact: true }).waitFor();
  }

  await page.setViewportSize({ width: 390, height: 844 });
  for (const key of Object.keys(HEADINGS)) await visit(page, key, 'phone');
  assert.deepEqual(problems, []);
});
