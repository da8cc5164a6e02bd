// pg_dump and pg_restore as child processes. The password travels in PGPASSWORD, never on the command line, where
// any local user could read it; a tool's exit status decides, with the tail of its stderr as the reason.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export type PgTool = 'pg_dump' | 'pg_restore';

/**
 * The directory of the client tools: the configured one, else the newest Debian/Ubuntu install (a newer pg_dump
 * reads older servers, an older one refuses newer servers), else whatever PATH holds ('').
 */
export function pgBinDir(configured: string | undefined): string {
  if (configured) return configured;
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.find((v) => existsSync(join(base, v, 'bin', 'pg_dump')));
  return found ? join(base, found, 'bin') : '';
}

/** A libpq URL split into the URL the tool is given (no password) and the environment carrying the password. */
function connection(url: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { dbname: u.toString(), env: { ...process.env, PGPASSWORD: password || undefined, PGCONNECT_TIMEOUT: '10' } };
}

export interface ToolRun {
  /** the tool's stdout (pg_dump's archive) */
  stdout: Readable;
  /** the tool's stdin (pg_restore's archive) */
  stdin: Writable;
  /** resolves when the tool exits with 0; rejects with its last error lines otherwise */
  done: Promise<void>;
  kill: () => void;
}

export function runPgTool(binDir: string, tool: PgTool, url: string, args: string[]): ToolRun {
  const { dbname, env } = connection(url);
  const child = spawn(binDir ? join(binDir, tool) : tool, [...args, `--dbname=${dbname}`, '--no-password'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-4000)));
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', (e) => reject(new Error(`${tool} could not start: ${e.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) return resolve();
      const why = stderr.trim().split('\n').filter((l) => !/^\s*$/.test(l)).slice(-5).join('\n');
      reject(new Error(`${tool} ${signal ? `was stopped (${signal})` : `exited with ${code}`}${why ? `: ${why}` : ''}`));
    });
  });
  done.catch(() => undefined); // observed by the caller; never an unhandled rejection when a pipe fails first
  // a reader that stops early must not leave EPIPE unhandled; the exit status reports the failure
  child.stdin.on('error', () => undefined);
  return { stdout: child.stdout, stdin: child.stdin, done, kill: () => void child.kill('SIGTERM') };
}

/** Feeds source into the tool's stdin and waits for both; the tool's own error wins over a broken pipe. */
export async function feedPgTool(run: ToolRun, source: Readable): Promise<void> {
  const fed = pipeline(source, run.stdin).catch((e: Error) => e);
  await run.done;
  const err = await fed;
  if (err) throw err;
}
