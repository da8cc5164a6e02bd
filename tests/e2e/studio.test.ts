// Studio in Chromium, the tour: sign in with the platform token, create a project, create a table, a
// column and a policy, add a row, upload an image and preview it, deploy a function, invoke it and read its logs,
// create and pause a cron job, create a user, an AI key and its usage charts, a realtime channel, a document and
// its rules, the SQL editor; no console error on the way. Every page at both widths: studio-pages.test.ts.
// Screenshots go to .basalt/test-artifacts/studio/.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { Browser } from 'playwright-core';
import { platform, testEnv } from '@basalt/testkit';
import { launchChromium, MISSING } from './chromium.js';
import { ARTIFACTS, openStudio, up } from './studio-browser.js';

const env = testEnv();
// a 2×2 PNG, enough for the render endpoint to transform
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFElEQVR4nGP4z8DAwPAfjP///w8AIe0F+22VJnQAAAAASUVORK5CYII=', 'base64');

let browser: Browser | undefined;
let ref: string | undefined;

after(async () => {
  await browser?.close();
  if (ref) await platform(`/projects/${ref}?confirm=${ref}`, { method: 'DELETE' }).catch(() => undefined);
});

test('Studio: the tour in Chromium, with no console error', { timeout: 110_000 }, async (t) => {
  browser = (await launchChromium()) ?? undefined;
  if (!browser) return t.skip(MISSING);
  mkdirSync(ARTIFACTS, { recursive: true });
  const { page, problems } = await openStudio(browser);
  try {
    await page.screenshot({ path: join(ARTIFACTS, 'projects-desktop.png'), fullPage: true });

    // create a project: Studio opens it
    await page.getByRole('form', { name: 'New project' }).getByLabel('Name').fill('studio tour');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.waitForURL(/#\/p\/[a-z]{20}\/overview$/, { timeout: 60_000 });
    ref = /#\/p\/([a-z]{20})\//.exec(page.url())![1];
    await page.getByRole('heading', { level: 1, name: 'studio tour' }).waitFor();
    const keys = await platform(`/projects/${ref}/api-keys?reveal=true`);
    const anon = keys.find((k: { name: string }) => k.name === 'anon').api_key as string;
    await page.getByText(anon).waitFor();

    // a table, a column, a row
    if (up('rest')) {
      await page.getByRole('link', { name: 'Tables' }).click();
      // the list first: its arrival moves the form down, and a click aimed before that lands beside the button
      await page.getByText('No tables yet.').waitFor();
      await page.getByLabel('New table name').fill('notes');
      await page.getByRole('button', { name: 'Create table' }).click();
      await page.getByRole('status').filter({ hasText: 'Table notes created' }).waitFor();
      await page.locator('summary', { hasText: 'Columns of notes' }).click();
      await page.getByLabel('Column name').fill('body');
      await page.getByRole('button', { name: 'Add column' }).click();
      await page.getByRole('form', { name: 'Filter rows' }).getByLabel('Filter column').locator('option', { hasText: 'body' }).waitFor({ state: 'attached' });
      await page.getByRole('button', { name: 'Insert row' }).first().click();
      const insert = page.getByRole('form', { name: 'Insert row' });
      await insert.getByLabel('body (text)').fill('hello from studio');
      // the rows refreshing while the form is open (here: the filter applied again) keeps what was typed
      const refreshed = page.waitForResponse((r) => r.url().includes('/rest/v1/notes?'));
      await page.getByRole('form', { name: 'Filter rows' }).getByRole('button', { name: 'Apply filter' }).click();
      await refreshed;
      await insert.getByRole('button', { name: 'Insert row' }).click();
      await page.getByRole('cell', { name: 'hello from studio', exact: true }).waitFor();
      await page.screenshot({ path: join(ARTIFACTS, 'tour-table-editor.png'), fullPage: true });
    }

    // a policy that lets anon read it; the advisor's warning about a table with RLS and no policy is shown first
    if (up('rest')) {
      await page.getByRole('link', { name: 'Policies' }).click();
      const section = page.getByRole('region', { name: 'Policies on notes' });
      await section.locator('.lint').first().waitFor();
      await section.locator('summary', { hasText: 'New policy on notes' }).click();
      await section.getByLabel('Policy name').fill('anyone reads');
      await section.getByLabel('Command').selectOption('select');
      await section.getByRole('button', { name: 'Create policy' }).click();
      await section.getByRole('cell', { name: 'anyone reads', exact: true }).waitFor();
      const viaRest = await fetch(`${env.gatewayUrl}/project/${ref}/rest/v1/notes?select=body`, { headers: { apikey: anon } });
      assert.deepEqual(await viaRest.json(), [{ body: 'hello from studio' }]);
    }

    // storage: a bucket, an upload, its preview through the render endpoint, a signed link
    if (up('storage')) {
      await page.getByRole('link', { name: 'Storage' }).click();
      await page.getByLabel('Bucket name').fill('files');
      await page.getByRole('button', { name: 'Create bucket' }).click();
      await page.getByRole('heading', { name: 'Bucket files' }).waitFor();
      await page.getByLabel('Upload files (or drop them here)').setInputFiles({ name: 'pixel.png', mimeType: 'image/png', buffer: PNG });
      await page.getByRole('cell', { name: 'pixel.png', exact: true }).waitFor();
      await page.getByRole('button', { name: 'Preview' }).click();
      const img = page.getByRole('img', { name: 'Preview of pixel.png' });
      await img.waitFor();
      for (let i = 0; i < 50 && !(await img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth)); i++) await page.waitForTimeout(200);
      assert.ok(await img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth), 'the preview image decoded');
      await page.getByRole('button', { name: 'Sign link' }).click();
      const signed = await page.getByRole('link', { name: 'open' }).getAttribute('href');
      const bytes = Buffer.from(await (await fetch(signed!)).arrayBuffer());
      assert.deepEqual(bytes, PNG, 'the signed link serves the uploaded bytes');
      await page.screenshot({ path: join(ARTIFACTS, 'tour-storage-preview.png'), fullPage: true });
    }

    // a function: deploy, invoke, read its logs
    if (up('functions')) {
      await page.getByRole('link', { name: 'Functions' }).click();
      // the list's arrival moves the form down: a click aimed before it lands beside the button
      await page.getByText('No functions yet.').waitFor();
      await page.getByRole('button', { name: 'Deploy' }).click();
      await page.getByRole('status').filter({ hasText: 'Deployed hello.' }).waitFor({ timeout: 60_000 });
      await page.getByRole('button', { name: 'Invoke' }).click();
      await page.getByLabel('Invocation result').filter({ hasText: 'Hello Studio!' }).waitFor({ timeout: 60_000 });
      const logged = page.getByRole('cell', { name: /hello called for Studio/ });
      for (let i = 0; i < 20 && !(await logged.count()); i++) {
        await page.getByRole('button', { name: 'Refresh logs' }).click();
        await page.waitForTimeout(500);
      }
      await logged.first().waitFor();
      await page.screenshot({ path: join(ARTIFACTS, 'tour-function-logs.png'), fullPage: true });
    }

    // a cron job on it, paused
    if (up('scheduler')) {
      await page.getByRole('link', { name: 'Cron' }).click();
      await page.getByLabel('Job name').fill('tick');
      await page.getByLabel('Function (slug or SQL name)').fill('hello');
      await page.getByRole('button', { name: 'Create job' }).click();
      await page.getByRole('button', { name: 'Pause tick' }).click();
      await page.getByRole('button', { name: 'Resume tick' }).waitFor();
    }

    // a user
    if (up('auth')) {
      await page.getByRole('link', { name: 'Auth' }).click();
      await page.getByLabel('Email', { exact: true }).fill('someone@studio.test');
      await page.getByLabel('Password').fill('studio-pass-1');
      await page.getByRole('button', { name: 'Create user' }).click();
      await page.getByRole('cell', { name: 'someone@studio.test', exact: true }).waitFor();
    }

    // AI: a key, and usage charts over two recorded requests (written as the AI gateway records them: no model here)
    if (up('ai-gateway')) {
      const control = new pg.Client({ connectionString: env.databaseUrl });
      await control.connect();
      try {
        await control.query(
          `insert into platform.ai_usage (ref, request_id, principal, endpoint, model, input_tokens, output_tokens, cost_usd, status)
           values ($1, 'studio-1', 'service_role', 'chat', 'gpt-small', 100, 20, 0.0012, 200), ($1, 'studio-2', 'service_role', 'chat', 'claude-big', 300, 40, 0.02, 200)`, [ref]);
      } finally {
        await control.end();
      }
      await page.getByRole('link', { name: 'AI', exact: true }).click();
      await page.getByRole('img', { name: 'requests by day' }).waitFor();
      await page.getByLabel('Group by').selectOption('model');
      await page.getByLabel('Measure').selectOption('tokens');
      const chart = page.getByRole('img', { name: 'tokens by model' });
      await chart.getByText('claude-big').waitFor();
      assert.equal(await chart.locator('rect').count(), 2);
      await chart.getByText('340', { exact: true }).waitFor();
      await page.getByLabel('Key name').fill('web-app');
      await page.getByRole('button', { name: 'Create key' }).click();
      assert.match(await page.locator('code.secret').innerText(), /^bsk_/);
      await page.getByRole('button', { name: 'Revoke web-app' }).waitFor();
      await page.screenshot({ path: join(ARTIFACTS, 'tour-ai-usage.png'), fullPage: true });
    }

    // realtime: join a channel, broadcast to it (self: the message comes back), track presence
    if (up('realtime')) {
      await page.getByRole('link', { name: 'Realtime' }).click();
      await page.getByRole('button', { name: 'Join' }).click();
      await page.getByRole('status').filter({ hasText: 'Channel room-1: joined' }).waitFor();
      await page.getByRole('button', { name: 'Broadcast' }).click();
      await page.getByRole('cell', { name: '{"text":"hello"}', exact: true }).waitFor();
      await page.getByRole('button', { name: 'Track' }).click();
      await page.getByRole('region', { name: 'Channel inspector' }).getByRole('cell', { name: 'studio', exact: true }).first().waitFor();
    }

    // documents: a collection, a document, its rules saved and tested
    if (up('documents')) {
      await page.getByRole('link', { name: 'Documents' }).click();
      // as with functions: the list's arrival moves the form down, and an early click lands beside the button
      await page.getByText('No collections yet.').waitFor();
      await page.getByLabel('Collection name').fill('todos');
      await page.getByRole('button', { name: 'Open collection' }).click();
      await page.getByLabel('New document (JSON)').fill('{"title":"from studio"}');
      await page.getByRole('button', { name: 'Insert document' }).click();
      await page.getByRole('cell', { name: /from studio/ }).first().waitFor();
      await page.getByRole('button', { name: 'Save rules' }).click();
      await page.getByRole('status').filter({ hasText: 'Rules saved.' }).waitFor();
      await page.getByRole('button', { name: 'Test rule' }).click();
      await page.getByLabel('Rule test result').filter({ hasText: '"allowed"' }).waitFor();
    }

    // the SQL editor
    await page.getByRole('link', { name: 'SQL' }).click();
    await page.getByLabel('Query (Ctrl+Enter runs it)').fill('select 41 + 1 as answer');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.getByRole('cell', { name: '42', exact: true }).waitFor();

    assert.deepEqual(problems, []);
    if (up('storage')) {
      const [row] = await platform(`/projects/${ref}/sql`, { method: 'POST', json: { query: `select count(*)::int as n from storage.objects where bucket_id = 'files' and name = 'pixel.png'` } });
      assert.equal(row.n, 1);
    }
  } catch (e) {
    // what the page showed when a step timed out: the next reader of a flake sees it, not only the selector
    await page.screenshot({ path: join(ARTIFACTS, 'tour-failure.png'), fullPage: true }).catch(() => undefined);
    const statuses = await page.getByRole('status').allInnerTexts().catch(() => []);
    t.diagnostic(`at ${page.url()}: status ${JSON.stringify(statuses)}; console problems ${JSON.stringify(problems)}; screenshot tour-failure.png`);
    throw e;
  }
});
