// basalt cron list [ref] | create [ref] <name> "<schedule>" (--function <slug> [--body json] | --db-function <name> [--args json])
//   [--timeout-ms n] | runs [ref] <job> [--limit 50] | pause|resume|delete [ref] <job>     (<job>: its id or name)
import { CliError, flag, projectRef, subcommand, usageError, type Command, type Ctx } from '../command.js';
import { table } from '../output.js';

const usage = 'basalt cron list [ref] | create [ref] <name> "<schedule>" (--function <slug> [--body json] | --db-function <name> [--args json]) ' +
  '[--timeout-ms 30000] | runs [ref] <job> [--limit 50] | pause|resume|delete [ref] <job>   (<job> is an id or a name)';
const SUBCOMMANDS = ['list', 'create', 'runs', 'pause', 'resume', 'delete'];

interface Job {
  id: string;
  name: string;
  schedule: string;
  paused: boolean;
  next_run_at: string | null;
  target: { type: string; slug?: string; name?: string };
}

function jsonFlag(ctx: Ctx, name: string): unknown {
  const v = flag(ctx.flags, name);
  if (v === undefined) return undefined;
  try {
    return JSON.parse(v);
  } catch {
    throw usageError(usage, `--${name} must be JSON`);
  }
}

function target(ctx: Ctx) {
  const fn = flag(ctx.flags, 'function');
  const dbFn = flag(ctx.flags, 'db-function');
  if (!fn === !dbFn) throw usageError(usage, 'give exactly one target: --function <slug> or --db-function <name>');
  if (fn) {
    const body = jsonFlag(ctx, 'body');
    return { type: 'edge_function', slug: fn, ...(body !== undefined ? { body } : {}) };
  }
  const args = jsonFlag(ctx, 'args');
  if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) throw usageError(usage, '--args must be a JSON object of named arguments');
  return { type: 'db_function', name: dbFn, ...(args !== undefined ? { args } : {}) };
}

const showJobs = (rows: Job[]) =>
  table(rows.map((j) => ({ ...j, target: j.target.type === 'edge_function' ? `fn:${j.target.slug}` : `db:${j.target.name}` })),
    ['id', 'name', 'schedule', 'target', 'paused', 'next_run_at']);

export const cronCommand: Command = {
  name: 'cron',
  summary: 'schedule edge functions or database functions; list, pause, resume, delete jobs and read their runs',
  usage,
  subcommands: SUBCOMMANDS,
  flags: ['function', 'db-function', 'body', 'args', 'timeout-ms', 'limit', 'project-ref'],
  async run(ctx) {
    const sub = subcommand(ctx, usage, SUBCOMMANDS);
    const ref = projectRef(ctx, usage, 1);
    const api = ctx.api();
    const cron = <T = any>(method: string, path: string, body?: unknown) => api.project<T>(ref, method, `/cron/admin/v1${path}`, body);
    if (sub === 'list') return ctx.out.result(await cron<Job[]>('GET', '/jobs'), showJobs);
    if (sub === 'create') {
      const [, name, schedule] = ctx.args;
      if (!name || !schedule) throw usageError(usage, 'create needs a job name and a schedule (quote it: "*/5 * * * *")');
      const timeout = flag(ctx.flags, 'timeout-ms');
      if (timeout !== undefined && !/^\d+$/.test(timeout)) throw usageError(usage, '--timeout-ms must be a whole number');
      const job = await cron<Job>('POST', '/jobs', { name, schedule, target: target(ctx), ...(timeout ? { timeout_ms: Number(timeout) } : {}) });
      return ctx.out.result(job, (j: Job) => `created ${j.name} (${j.id}), next run ${j.next_run_at}`);
    }
    const given = ctx.args[1];
    if (!given) throw usageError(usage, `${sub} needs a job id or name`);
    // a name is looked up, so scripts can use the names they chose
    const id = /^[0-9a-f-]{36}$/i.test(given) ? given : (await cron<Job[]>('GET', '/jobs')).find((j) => j.name === given)?.id;
    if (!id) throw new CliError(`no cron job named "${given}" in ${ref}`);
    if (sub === 'runs') {
      const limit = flag(ctx.flags, 'limit') ?? '50';
      if (!/^\d+$/.test(limit) || Number(limit) < 1) throw usageError(usage, '--limit must be a positive whole number');
      return ctx.out.result(await cron('GET', `/jobs/${id}/runs?limit=${limit}`), (rows) =>
        table(rows, ['id', 'status', 'scheduled_at', 'duration_ms', 'error']));
    }
    if (sub === 'delete') {
      await cron('DELETE', `/jobs/${id}`);
      return ctx.out.result({ id, deleted: true }, () => `deleted ${given}`);
    }
    const job = await cron<Job>('POST', `/jobs/${id}/${sub}`);
    return ctx.out.result(job, (j: Job) => `${sub === 'pause' ? 'paused' : 'resumed'} ${j.name}${j.next_run_at ? `, next run ${j.next_run_at}` : ''}`);
  },
};
