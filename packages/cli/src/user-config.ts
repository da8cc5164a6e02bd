// Where `basalt login` keeps the platform URL and token: $XDG_CONFIG_HOME/basalt/config.json (else
// ~/.config/basalt, or %APPDATA%\basalt on Windows), mode 0600 in a 0700 folder, since the token is a credential.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError } from './command.js';

export interface UserConfig {
  url: string;
  token: string;
}

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'basalt');
  if (process.platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'basalt');
  return join(homedir(), '.config', 'basalt');
}

export const configPath = (env: NodeJS.ProcessEnv = process.env) => join(configDir(env), 'config.json');

export function readUserConfig(env: NodeJS.ProcessEnv = process.env): UserConfig | null {
  const path = configPath(env);
  if (!existsSync(path)) return null;
  try {
    const c = JSON.parse(readFileSync(path, 'utf8')) as Partial<UserConfig>;
    return typeof c.url === 'string' && typeof c.token === 'string' ? { url: c.url, token: c.token } : null;
  } catch (e) {
    throw new CliError(`${path} is not valid JSON (${(e as Error).message}); run \`basalt login\` again or delete it`);
  }
}

export function writeUserConfig(config: UserConfig, env: NodeJS.ProcessEnv = process.env): string {
  const dir = configDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = configPath(env);
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600); // writeFileSync keeps the mode of a file that already existed
  return path;
}

/** Removes the saved login; true when there was one. */
export function removeUserConfig(env: NodeJS.ProcessEnv = process.env): boolean {
  const path = configPath(env);
  if (!existsSync(path)) return false;
  rmSync(path);
  return true;
}
