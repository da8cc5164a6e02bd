// basalt keys [ref] [--rotate]
import { projectRef, type Command } from '../command.js';
import { table } from '../output.js';

const usage = 'basalt keys [ref] [--rotate]';

export const keysCommand: Command = {
  name: 'keys',
  summary: "show (or rotate) a project's anon and service_role keys",
  usage,
  flags: ['rotate', 'project-ref'],
  async run(ctx) {
    const ref = projectRef(ctx, usage);
    const api = ctx.api();
    const keys = ctx.flags.rotate === true
      ? await ctx.out.step(`rotating keys of ${ref}`, () => api.post(`/projects/${ref}/api-keys/rotate`))
      : await api.get(`/projects/${ref}/api-keys`);
    ctx.out.result(keys, (rows) => table(rows, ['name', 'api_key']));
  },
};
