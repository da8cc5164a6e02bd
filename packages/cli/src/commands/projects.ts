// basalt projects create <name> | list | get <ref> | delete <ref> --yes
import { subcommand, usageError, type Command } from '../command.js';
import { table } from '../output.js';

const usage = 'basalt projects create <name> | list | get <ref> | delete <ref> --yes';

export const projectsCommand: Command = {
  name: 'projects',
  summary: 'create, list, inspect and delete projects',
  usage,
  async run(ctx) {
    const api = ctx.api();
    switch (subcommand(ctx, usage, ['create', 'list', 'get', 'delete'])) {
      case 'create': {
        const name = ctx.args.slice(1).join(' ');
        if (!name) throw usageError(usage, 'missing project name');
        const p = await ctx.out.step(`creating project "${name}"`, () => api.post('/projects', { name }));
        return ctx.out.result(p, (x) => `ref:              ${x.ref}\nurl:              ${x.url}\nanon key:         ${x.anon_key}\nservice_role key: ${x.service_role_key}`);
      }
      case 'list':
        return ctx.out.result(await api.get('/projects'), (rows) => table(rows, ['ref', 'name', 'status', 'url', 'created_at']));
      case 'get':
        if (!ctx.args[1]) throw usageError(usage, 'missing project ref');
        return ctx.out.result(await api.get(`/projects/${ctx.args[1]}`), (p) => table([p], ['ref', 'name', 'status', 'url', 'created_at']));
      case 'delete': {
        const ref = ctx.args[1];
        if (!ref) throw usageError(usage, 'missing project ref');
        if (ctx.flags.yes !== true) throw usageError(usage, `deleting ${ref} drops its database for good; add --yes to confirm`);
        await ctx.out.step(`deleting ${ref}`, () => api.delete(`/projects/${ref}?confirm=${ref}`));
        return ctx.out.result({ ref, deleted: true }, () => `deleted ${ref}`);
      }
    }
  },
};
