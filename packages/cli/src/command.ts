// What every CLI command is: a name, a one-line summary, usage text, and run(ctx).
import type { PlatformApi } from './api.js';
import type { Output } from './output.js';

export type Flags = Record<string, string | boolean>;

export interface Ctx {
  /** positional arguments after the command (and subcommand) name */
  args: string[];
  flags: Flags;
  out: Output;
  /** the platform API client, from --url/--token, BASALT_URL/BASALT_TOKEN or .basalt/credentials.json */
  api: () => PlatformApi;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  run: (ctx: Ctx) => Promise<void>;
}

/** An error the user caused or can fix; printed without a stack, exit code 1 (2 for usage errors). */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export const usageError = (usage: string, problem: string) => new CliError(`${problem}\nusage: ${usage}`, 2);

export function flag(flags: Flags, name: string): string | undefined {
  const v = flags[name];
  return typeof v === 'string' ? v : undefined;
}

/** The subcommand of a command with several (projects create|list|delete): args[0], checked against the list. */
export function subcommand(ctx: Ctx, usage: string, names: string[]): string {
  const sub = ctx.args[0];
  if (!sub || !names.includes(sub)) throw usageError(usage, sub ? `unknown subcommand "${sub}"` : 'missing subcommand');
  return sub;
}
