// The CLI as a user runs it: its binary in a child process, pointed at the test fleet with the platform token.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '@basalt/fleet';
import { testEnv } from '@basalt/testkit';

export const BIN = join(ROOT, 'packages/cli/bin/basalt.mjs');

export interface RunOptions {
  cwd?: string;
  /** the environment, instead of the test fleet's URL and token (undefined removes a variable) */
  env?: Record<string, string | undefined>;
  input?: string;
}

/** Runs `basalt …` with exactly the given environment changes; BASALT_URL/BASALT_TOKEN only when not overridden. */
export function basaltWith(opts: RunOptions, ...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: opts.cwd ?? ROOT, env, input: opts.input ?? '', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

export const basaltIn = (cwd: string, ...args: string[]) => {
  const env = testEnv();
  return basaltWith({ cwd, env: { BASALT_URL: env.gatewayUrl, BASALT_TOKEN: env.platformToken } }, ...args);
};

export const basalt = (...args: string[]) => basaltIn(ROOT, ...args);

/** A temporary folder linked to the project as `basalt link` leaves it (cli-link.test.ts runs the command itself). */
export function linkedDir(ref: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'basalt-cli-'));
  writeFileSync(join(dir, '.basalt-project.json'), `${JSON.stringify({ ref }, null, 2)}\n`);
  return dir;
}

/** basaltIn without blocking this process, for tests that serve HTTP (a fake upstream) from it meanwhile. */
export function basaltInAsync(cwd: string, ...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const env = testEnv();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd, env: { ...process.env, BASALT_URL: env.gatewayUrl, BASALT_TOKEN: env.platformToken }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}
