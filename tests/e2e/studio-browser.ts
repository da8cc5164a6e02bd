// What the Studio browser tests share: where screenshots go, which services this run started, and a signed-in
// Studio page that records every console error and uncaught exception.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ROOT } from '@basalt/fleet';
import { testEnv } from '@basalt/testkit';

const env = testEnv();
export const ARTIFACTS = join(ROOT, '.basalt/test-artifacts/studio');

// the service each page reads beyond the platform (the table editor reads REST only once a table is open); a
// service this run did not start (BASALT_TEST_ONLY) answers 503 through the gateway: its steps are left out and
// its page must say it is unavailable
export const SERVICE_OF: Record<string, string> = {
  auth: 'auth', storage: 'storage', functions: 'functions', cron: 'scheduler',
  ai: 'ai-gateway', memory: 'memory', realtime: 'realtime', documents: 'documents',
};
export const up = (service: string) => Boolean(env.services[service]);
export const down = new Set(Object.values(SERVICE_OF).filter((s) => !up(s)));

/** A page at laptop size, signed in to Studio with the test platform token; `problems` collects console errors. */
export async function openStudio(browser: Browser): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // a module this run did not start answers 503 through the gateway: the page shows the error, which is right
    if (down.size && /status of 503/.test(m.text())) return;
    problems.push(`console: ${m.text()} @ ${m.location().url}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('dialog', (d) => void d.accept());
  await page.goto(`${env.gatewayUrl}/studio`);
  await page.getByLabel('Platform token').fill(env.platformToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Projects' }).waitFor();
  return { page, problems };
}
