// basalt login [--url <url>] [--token <bsp_…>] | basalt logout
// Saves the platform URL and a platform token in the user's config (see user-config.ts) after checking them.
import { createInterface } from 'node:readline/promises';
import { PlatformApi } from '../api.js';
import { CliError, flag, usageError, type Command } from '../command.js';
import { configPath, readUserConfig, removeUserConfig, writeUserConfig } from '../user-config.js';

const usage = 'basalt login [--url http://localhost:8000] [--token bsp_…]   (else the token is read from stdin, or BASALT_TOKEN)';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

async function tokenFrom(flags: Record<string, string | boolean>): Promise<string | undefined> {
  const given = flag(flags, 'token');
  if (given) return given;
  if (process.stdin.isTTY) {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return (await rl.question('platform token (bsp_…): ')).trim() || undefined;
    } finally {
      rl.close();
    }
  }
  return (await readStdin()) || process.env.BASALT_TOKEN || undefined;
}

export const loginCommand: Command = {
  name: 'login',
  summary: 'save the platform URL and token for later commands (checked first)',
  usage,
  flags: ['url', 'token'],
  async run(ctx) {
    const url = (flag(ctx.flags, 'url') ?? process.env.BASALT_URL ?? readUserConfig()?.url ?? 'http://localhost:8000').replace(/\/$/, '');
    if (!/^https?:\/\/[^/]+/.test(url)) throw usageError(usage, `"${url}" is not an http(s) URL`);
    const token = await tokenFrom(ctx.flags);
    if (!token) throw usageError(usage, 'no token: pass --token, pipe it on stdin, or set BASALT_TOKEN');
    if (!token.startsWith('bsp_')) throw usageError(usage, 'a platform token starts with bsp_');
    const projects = await new PlatformApi(url, token).get<unknown[]>('/projects').catch((e: CliError) => {
      throw new CliError(`${url} refused the token: ${e.message}`);
    });
    const path = writeUserConfig({ url, token });
    ctx.out.result({ url, config: path, projects: projects.length }, (r) => `logged in to ${r.url} (${r.projects} project(s) visible)\nsaved to ${r.config}`);
  },
};

export const logoutCommand: Command = {
  name: 'logout',
  summary: 'forget the saved platform URL and token',
  usage: 'basalt logout',
  async run(ctx) {
    const removed = removeUserConfig();
    ctx.out.result({ config: configPath(), removed }, (r) => (r.removed ? `removed ${r.config}` : 'not logged in'));
  },
};
