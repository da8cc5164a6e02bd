// basalt sql [ref] "<query>" | basalt sql [ref] -f file.sql
import { readFileSync } from 'node:fs';
import { CliError, flag, projectRef, usageError, type Command } from '../command.js';
import { table } from '../output.js';

const usage = 'basalt sql [ref] "<query>" | basalt sql [ref] -f <file.sql>';

export const sqlCommand: Command = {
  name: 'sql',
  summary: "run SQL in a project's database as its owner",
  usage,
  flags: ['file', 'project-ref'],
  async run(ctx) {
    const ref = projectRef(ctx, usage);
    const file = flag(ctx.flags, 'f') ?? flag(ctx.flags, 'file');
    let query = ctx.args.join(' ');
    if (file) {
      try {
        query = readFileSync(file, 'utf8');
      } catch (e) {
        throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
      }
    }
    if (!query.trim()) throw usageError(usage, 'missing query');
    const rows = await ctx.out.step('running SQL', () => ctx.api().post<Record<string, unknown>[]>(`/projects/${ref}/sql`, { query }));
    ctx.out.result(rows, (r: Record<string, unknown>[]) => (r.length ? table(r, Object.keys(r[0])) : 'OK (no rows)'));
  },
};
