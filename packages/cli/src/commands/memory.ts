// basalt memory add [ref] --user <id> "<text>" [--infer] | search [ref] --user <id> "<query>" [--limit 10]
//   | list [ref] --user <id> | delete [ref] <memory id>
// The project's mem0-compatible memory, called with its service_role key (the mem0 API takes project keys).
import { flag, projectRef, subcommand, usageError, type Command } from '../command.js';
import { table } from '../output.js';

const usage = 'basalt memory add [ref] --user <id> "<text>" [--infer] | search [ref] --user <id> "<query>" [--limit 10] ' +
  '| list [ref] --user <id> | delete [ref] <memory id>';
const SUBCOMMANDS = ['add', 'search', 'list', 'delete'];

const rows = (r: unknown): Record<string, unknown>[] =>
  Array.isArray(r) ? r : ((r as { results?: Record<string, unknown>[] })?.results ?? []);

export const memoryCommand: Command = {
  name: 'memory',
  summary: "add, search, list and delete a project's memories (mem0 API)",
  usage,
  subcommands: SUBCOMMANDS,
  flags: ['user', 'infer', 'limit', 'project-ref'],
  async run(ctx) {
    const sub = subcommand(ctx, usage, SUBCOMMANDS);
    const ref = projectRef(ctx, usage, 1);
    const user = flag(ctx.flags, 'user');
    const text = ctx.args.slice(1).join(' ');
    if (sub !== 'delete' && !user) throw usageError(usage, `memory ${sub} needs --user <id>`);
    if ((sub === 'add' || sub === 'search') && !text) throw usageError(usage, `memory ${sub} needs the ${sub === 'add' ? 'text' : 'query'}`);
    const api = ctx.api();
    const auth = `Token ${await api.projectKey(ref, 'service_role')}`;
    switch (sub) {
      case 'add': {
        const r = await api.call('POST', '/v1/memories/', {
          messages: [{ role: 'user', content: text }], user_id: user, infer: ctx.flags.infer === true, async_mode: false,
        }, auth);
        return ctx.out.result(r, (x) => table(rows(x), ['id', 'event', 'memory']));
      }
      case 'search': {
        const limit = flag(ctx.flags, 'limit') ?? '10';
        if (!/^\d+$/.test(limit) || Number(limit) < 1) throw usageError(usage, '--limit must be a positive whole number');
        const r = await api.call('POST', '/v2/memories/search/', { query: text, filters: { user_id: user }, top_k: Number(limit) }, auth);
        return ctx.out.result(r, (x) => table(rows(x), ['id', 'score', 'memory']));
      }
      case 'list': {
        const r = await api.call('GET', `/v1/memories/?user_id=${encodeURIComponent(user!)}`, undefined, auth);
        return ctx.out.result(r, (x) => table(rows(x), ['id', 'memory', 'created_at']));
      }
      case 'delete': {
        const id = ctx.args[1];
        if (!id) throw usageError(usage, 'memory delete needs a memory id (basalt memory list)');
        await api.call('DELETE', `/v1/memories/${encodeURIComponent(id)}/`, undefined, auth);
        return ctx.out.result({ id, deleted: true }, () => `deleted ${id}`);
      }
    }
  },
};
