// The CLI as a user runs it: its binary in a child process, pointed at the test fleet with the platform token.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '@basalt/fleet';
import { createProject, testEnv } from '@basalt/testkit';

export const BIN = join(ROOT, 'packages/cli/bin/basalt.mjs');

export type CliResult = { code: number | null; out: string; err: string };

export interface RunOptions {
  cwd?: string;
  /** the environment, instead of the test fleet's URL and token (undefined removes a variable) */
  env?: Record<string, string | undefined>;
  input?: string;
}

/** Runs `basalt …` with exactly the given environment changes; BASALT_URL/BASALT_TOKEN only when not overridden. */
export function basaltWith(opts: RunOptions, ...args: string[]): CliResult {
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

/** basaltIn without blocking this process, for tests that serve HTTP (a fake upstream) from it meanwhile. */
export function basaltInAsync(cwd: string, ...args: string[]): Promise<CliResult> {
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

/** the parsed output of `basalt … --json`, which must have succeeded */
function parsed(args: string[], r: CliResult) {
  assert.equal(r.code, 0, `basalt ${args.join(' ')}: ${r.err}${r.out}`);
  return JSON.parse(r.out);
}

/**
 * A test file's project and temporary folder, made before its tests and removed after. The folder is linked to the
 * project as `basalt link` leaves it (.basalt-project.json), so commands need no ref; `linked: false` leaves it
 * unlinked for the tests of `basalt link` itself. ref and dir are set once the file's `before` has run.
 */
export function cliProject(name = 'cli ops', { linked = true } = {}) {
  const project = {
    ref: '',
    dir: '',
    cli: (...args: string[]) => basaltIn(project.dir, ...args),
    json: (...args: string[]) => parsed(args, project.cli(...args, '--json')),
    cliAsync: (...args: string[]) => basaltInAsync(project.dir, ...args),
    jsonAsync: async (...args: string[]) => parsed(args, await project.cliAsync(...args, '--json')),
  };
  before(async () => {
    project.ref = (await createProject(name)).ref;
    project.dir = mkdtempSync(join(tmpdir(), 'basalt-cli-'));
    if (linked) writeFileSync(join(project.dir, '.basalt-project.json'), `${JSON.stringify({ ref: project.ref }, null, 2)}\n`);
  });
  after(() => {
    if (project.dir) rmSync(project.dir, { recursive: true, force: true });
  });
  return project;
}
