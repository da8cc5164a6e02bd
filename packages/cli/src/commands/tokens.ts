// basalt tokens create <name> [--project <ref>] | list | revoke <id>
import { flag, subcommand, usageError, type Command } from '../command.js';
import { table } from '../output.js';

const usage = 'basalt tokens create <name> [--project <ref>] | list | revoke <id>';

export const tokensCommand: Command = {
  name: 'tokens',
  summary: 'issue, list and revoke platform tokens',
  usage,
  async run(ctx) {
    const api = ctx.api();
    switch (subcommand(ctx, usage, ['create', 'list', 'revoke'])) {
      case 'create': {
        const name = ctx.args.slice(1).join(' ');
        if (!name) throw usageError(usage, 'missing token name');
        const project = flag(ctx.flags, 'project');
        const t = await api.post('/tokens', { name, ...(project ? { projects: [project] } : {}) });
        return ctx.out.result(t, (x) => `token: ${x.token}\n(shown once; store it now)`);
      }
      case 'list':
        return ctx.out.result(await api.get('/tokens'), (rows) => table(rows, ['id', 'name', 'prefix', 'project_refs', 'last_used_at']));
      case 'revoke':
        if (!ctx.args[1]) throw usageError(usage, 'missing token id');
        await api.delete(`/tokens/${ctx.args[1]}`);
        return ctx.out.result({ id: ctx.args[1], revoked: true }, () => `revoked ${ctx.args[1]}`);
    }
  },
};
