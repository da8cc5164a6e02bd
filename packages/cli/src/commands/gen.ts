// basalt gen types typescript [ref] [--schema public,app]   TypeScript types for createClient<Database>(), on stdout
import { flag, projectRef, usageError, type Command } from '../command.js';

const usage = 'basalt gen types typescript [ref] [--schema public,app]';

export const genCommand: Command = {
  name: 'gen',
  summary: 'generate TypeScript types of a project\'s schema (Supabase\'s Database shape)',
  usage,
  subcommands: ['types'],
  flags: ['schema', 'project-ref'],
  async run(ctx) {
    if (ctx.args[0] !== 'types' || ctx.args[1] !== 'typescript') throw usageError(usage, 'only `gen types typescript` exists');
    const ref = projectRef(ctx, usage, 2);
    const schemas = flag(ctx.flags, 'schema') ?? 'public';
    const { types } = await ctx.api().get<{ types: string }>(`/projects/${ref}/types/typescript?included_schemas=${encodeURIComponent(schemas)}`);
    ctx.out.result({ types }, () => types);
  },
};
