// .basalt/ in the checkout: credentials.json (URL, platform token, demo project keys) and secrets.json
// (the local master key and platform token `basalt dev` starts the fleet with). Both git-ignored, mode 600.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '@basalt/fleet';

export const BASALT_DIR = join(ROOT, '.basalt');
const CREDENTIALS = join(BASALT_DIR, 'credentials.json');
const SECRETS = join(BASALT_DIR, 'secrets.json');

export interface Credentials {
  url: string;
  platform_token: string;
  demo?: { ref: string; url: string; anon_key: string; service_role_key: string };
}

function readJson<T>(path: string): T | null {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

function writeJson(path: string, value: unknown): void {
  mkdirSync(BASALT_DIR, { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
}

export const readCredentials = () => readJson<Credentials>(CREDENTIALS);
export const writeCredentials = (c: Credentials) => writeJson(CREDENTIALS, c);
export const credentialsPath = CREDENTIALS;

/** The local install's master key and platform token, created once. */
export function localSecrets(): { master_key: string; platform_token: string } {
  const existing = readJson<{ master_key: string; platform_token: string }>(SECRETS);
  if (existing?.master_key && existing.platform_token) return existing;
  const created = { master_key: randomBytes(32).toString('hex'), platform_token: `bsp_${randomBytes(24).toString('hex')}` };
  writeJson(SECRETS, created);
  return created;
}
