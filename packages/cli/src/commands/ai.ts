// basalt ai keys list [ref] | ai keys create [ref] <name> [--rpm n] [--tokens-per-day n] [--models a,b]
//   | ai keys revoke [ref] <id> | ai usage [ref] [--group-by day|model|key|user] [--from 2026-01-01] [--to …]
import { flag, projectRef, usageError, type Command, type Ctx } from '../command.js';
import { table } from '../output.js';

const usage = 'basalt ai keys list [ref] | ai keys create [ref] <name> [--rpm n] [--tokens-per-day n] [--models gpt-*,fast] ' +
  '| ai keys revoke [ref] <id> | ai usage [ref] [--group-by day|model|key|user] [--from date] [--to date]';

function positiveInt(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw usageError(usage, `--${name} must be a positive whole number`);
  return Number(v);
}

async function keys(ctx: Ctx) {
  const sub = ctx.args[1];
  if (!sub || !['list', 'create', 'revoke'].includes(sub)) throw usageError(usage, sub ? `unknown subcommand "keys ${sub}"` : 'ai keys needs list, create or revoke');
  const ref = projectRef(ctx, usage, 2);
  const api = ctx.api();
  if (sub === 'list') {
    return ctx.out.result(await api.get(`/projects/${ref}/ai/keys`), (rows) => table(rows, ['id', 'name', 'prefix', 'limits', 'created_at', 'revoked_at']));
  }
  if (sub === 'create') {
    const name = ctx.args.slice(2).join(' ');
    if (!name) throw usageError(usage, 'ai keys create needs a key name');
    const limits = {
      requests_per_minute: positiveInt(flag(ctx.flags, 'rpm'), 'rpm'),
      tokens_per_day: positiveInt(flag(ctx.flags, 'tokens-per-day'), 'tokens-per-day'),
      allowed_models: flag(ctx.flags, 'models')?.split(',').map((m) => m.trim()).filter(Boolean),
    };
    const set = Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined));
    const key = await api.post(`/projects/${ref}/ai/keys`, { name, ...(Object.keys(set).length ? { limits: set } : {}) });
    return ctx.out.result(key, (k) => `key: ${k.key}\n(shown once; store it now)\nuse it with base URL ${api.url}/project/${ref}/v1`);
  }
  const id = ctx.args[2];
  if (!id) throw usageError(usage, 'ai keys revoke needs a key id (basalt ai keys list)');
  const revoked = await api.delete(`/projects/${ref}/ai/keys/${encodeURIComponent(id)}`);
  return ctx.out.result(revoked, () => `revoked ${id}`);
}

async function usageReport(ctx: Ctx) {
  const ref = projectRef(ctx, usage, 1);
  const groupBy = flag(ctx.flags, 'group-by') ?? 'day';
  if (!['day', 'model', 'key', 'user'].includes(groupBy)) throw usageError(usage, '--group-by is day, model, key or user');
  const q = new URLSearchParams({ group_by: groupBy });
  for (const k of ['from', 'to']) if (flag(ctx.flags, k)) q.set(k, flag(ctx.flags, k)!);
  const report = await ctx.api().get<{ data: Record<string, unknown>[] }>(`/projects/${ref}/ai/usage?${q}`);
  return ctx.out.result(report, (r) => (r.data.length ? table(r.data, Object.keys(r.data[0])) : 'no AI usage in this range'));
}

export const aiCommand: Command = {
  name: 'ai',
  summary: "the AI gateway: a project's keys (list, create, revoke) and its usage",
  usage,
  subcommands: ['keys', 'usage'],
  flags: ['rpm', 'tokens-per-day', 'models', 'group-by', 'from', 'to', 'project-ref'],
  async run(ctx) {
    if (ctx.args[0] === 'keys') return keys(ctx);
    if (ctx.args[0] === 'usage') return usageReport(ctx);
    throw usageError(usage, ctx.args[0] ? `unknown subcommand "${ctx.args[0]}"` : 'missing subcommand');
  },
};
