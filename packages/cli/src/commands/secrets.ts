// basalt secrets set [ref] NAME=value … | list [ref] | unset [ref] NAME …   (the ref may come from `basalt link`)
import { projectRef, subcommand, usageError, type Command } from '../command.js';
import { table } from '../output.js';

const usage = 'basalt secrets set [ref] NAME=value [NAME=value …] | list [ref] | unset [ref] NAME [NAME …]';

export const secretsCommand: Command = {
  name: 'secrets',
  summary: "set, list (names only) and unset a project's function secrets",
  usage,
  subcommands: ['set', 'list', 'unset'],
  flags: ['project-ref'],
  async run(ctx) {
    const sub = subcommand(ctx, usage, ['set', 'list', 'unset']);
    const ref = projectRef(ctx, usage, 1);
    const rest = ctx.args.slice(1);
    const api = ctx.api();
    const show = (rows: unknown) => ctx.out.result(rows, (r) => table(r, ['name', 'updated_at']));
    if (sub === 'list') return show(await api.get(`/projects/${ref}/secrets`));
    if (rest.length === 0) throw usageError(usage, sub === 'set' ? 'give NAME=value pairs' : 'give secret names');
    if (sub === 'set') {
      const pairs = rest.map((kv) => {
        const i = kv.indexOf('=');
        if (i <= 0) throw usageError(usage, `"${kv}" is not NAME=value`);
        return { name: kv.slice(0, i), value: kv.slice(i + 1) };
      });
      return show(await api.post(`/projects/${ref}/secrets`, pairs));
    }
    return show(await api.delete(`/projects/${ref}/secrets`, rest));
  },
};
