// What every CLI command is: a name, a one-line summary, usage text, and run(ctx).
import type { PlatformApi } from './api.js';
import type { Output } from './output.js';
import { findLink } from './project-link.js';

export type Flags = Record<string, string | boolean>;

export interface Ctx {
  /** positional arguments after the command (and subcommand) name */
  args: string[];
  flags: Flags;
  out: Output;
  /** the platform API client, from --url/--token, BASALT_URL/BASALT_TOKEN, `basalt login`, or .basalt/credentials.json */
  api: () => PlatformApi;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** what shell completion offers after the command name */
  subcommands?: string[];
  /** flags the command takes, for completion (without --) */
  flags?: string[];
  run: (ctx: Ctx) => Promise<void>;
}

/** Exit codes scripts can rely on (listed in `basalt --help`). */
export const EXIT = { ok: 0, api: 1, usage: 2, config: 78 } as const;

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

/** A project ref as the platform issues it: 20 lowercase letters. */
export const REF = /^[a-z]{20}$/;

/**
 * The project a command acts on: a ref at args[index] (taken out of args, so the rest shift down), else
 * --project-ref, else the folder's `basalt link`. Usage error (exit 2) when there is none.
 */
export function projectRef(ctx: Ctx, usage: string, index = 0): string {
  const given = ctx.args[index];
  if (given !== undefined && REF.test(given)) {
    ctx.args.splice(index, 1);
    return given;
  }
  const flagged = flag(ctx.flags, 'project-ref');
  if (flagged) {
    if (!REF.test(flagged)) throw usageError(usage, `--project-ref "${flagged}" is not a project ref (20 lowercase letters)`);
    return flagged;
  }
  const linked = findLink();
  if (linked) return linked.link.ref;
  throw usageError(usage, 'which project? give its ref, pass --project-ref <ref>, or run `basalt link <ref>` in this folder');
}
