// basalt projects create <name> | list | get [ref] | keys [ref] | delete <ref> --yes
import { projectRef, REF, subcommand, usageError, type Command } from '../command.js';
import { table } from '../output.js';

const usage = 'basalt projects create <name> | list | get [ref] | keys [ref] | delete <ref> --yes';

export const projectsCommand: Command = {
  name: 'projects',
  summary: 'create, list, inspect (keys too) and delete projects',
  usage,
  subcommands: ['create', 'list', 'get', 'keys', 'delete'],
  flags: ['yes', 'project-ref'],
  async run(ctx) {
    const sub = subcommand(ctx, usage, ['create', 'list', 'get', 'keys', 'delete']);
    const api = ctx.api();
    switch (sub) {
      case 'create': {
        const name = ctx.args.slice(1).join(' ');
        if (!name) throw usageError(usage, 'missing project name');
        const p = await ctx.out.step(`creating project "${name}"`, () => api.post('/projects', { name }));
        return ctx.out.result(p, (x) => `ref:              ${x.ref}\nurl:              ${x.url}\nanon key:         ${x.anon_key}\nservice_role key: ${x.service_role_key}`);
      }
      case 'list':
        return ctx.out.result(await api.get('/projects'), (rows) => table(rows, ['ref', 'name', 'status', 'url', 'created_at']));
      case 'get':
        return ctx.out.result(await api.get(`/projects/${projectRef(ctx, usage, 1)}`), (p) => table([p], ['ref', 'name', 'status', 'url', 'created_at']));
      case 'keys':
        return ctx.out.result(await api.get(`/projects/${projectRef(ctx, usage, 1)}/api-keys`), (rows) => table(rows, ['name', 'api_key']));
      case 'delete': {
        // never from the folder's link: deleting takes the ref spelled out
        const ref = ctx.args[1];
        if (!ref) throw usageError(usage, 'missing project ref');
        if (!REF.test(ref)) throw usageError(usage, `"${ref}" is not a project ref (20 lowercase letters)`);
        if (ctx.flags.yes !== true) throw usageError(usage, `deleting ${ref} drops its database for good; add --yes to confirm`);
        await ctx.out.step(`deleting ${ref}`, () => api.delete(`/projects/${ref}?confirm=${ref}`));
        return ctx.out.result({ ref, deleted: true }, () => `deleted ${ref}`);
      }
    }
  },
};
