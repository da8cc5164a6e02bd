// Debian's Chromium for the browser tests, driven by playwright-core: installed on first use when we may (root),
// launched with the flags this machine's closed network needs; null (and the reason) when it cannot be had.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const MISSING = `Chromium is not installed (apt-get install chromium) at ${CHROMIUM}`;

function haveChromium(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.getuid?.() === 0) {
    spawnSync('sh', ['-c', 'apt-get install -y -qq chromium || (apt-get update -qq && apt-get install -y -qq chromium)'], {
      stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  }
  return existsSync(CHROMIUM);
}

export async function launchChromium(): Promise<Browser | null> {
  if (!haveChromium()) return null;
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
