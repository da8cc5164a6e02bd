// basalt db push [ref] [--dir migrations]   apply migrations/*.sql in name order, each recorded once (as apply_migration)
// basalt db pull [ref] [--dir migrations]   write the project's current schema as a new migration file
// basalt db migrations [ref]                list what is applied
// A file is named <version>_<name>.sql (the Supabase CLI's layout); its name part is the migration's recorded name.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, flag, projectRef, subcommand, type Command } from '../command.js';
import { table } from '../output.js';

const usage = 'basalt db push|pull|migrations [ref] [--dir migrations]';

/** `20260102030405_create_notes.sql` → `20260102030405_create_notes`; names are snake_case as the API wants */
const nameOf = (file: string) => file.replace(/\.sql$/i, '').toLowerCase().replace(/[^a-z0-9_]+/g, '_');

function migrationFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.toLowerCase().endsWith('.sql')).sort();
  } catch (e) {
    throw new CliError(`cannot read ${dir}: ${(e as Error).message}`);
  }
}

const stamp = () => new Date().toISOString().replace(/\D/g, '').slice(0, 14);

export const dbCommand: Command = {
  name: 'db',
  summary: 'apply a migrations/ folder (push), write the schema as a migration (pull), list what is applied',
  usage,
  subcommands: ['push', 'pull', 'migrations'],
  flags: ['dir', 'project-ref'],
  async run(ctx) {
    const sub = subcommand(ctx, usage, ['push', 'pull', 'migrations']);
    const ref = projectRef(ctx, usage, 1);
    const dir = flag(ctx.flags, 'dir') ?? 'migrations';
    const api = ctx.api();
    if (sub === 'migrations') {
      const rows = await api.get<Record<string, unknown>[]>(`/projects/${ref}/database/migrations`);
      return ctx.out.result(rows, (r: Record<string, unknown>[]) => (r.length ? table(r, ['version', 'name', 'applied_at']) : 'no migrations applied'));
    }
    if (sub === 'pull') {
      const sql = await ctx.out.step('reading the schema', () => api.get<string>(`/projects/${ref}/schema/export`));
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `${stamp()}_remote_schema.sql`);
      writeFileSync(file, typeof sql === 'string' ? sql : JSON.stringify(sql));
      return ctx.out.result({ file }, () => `wrote ${file}`);
    }
    const files = migrationFiles(dir);
    if (files.length === 0) throw new CliError(`no .sql files in ${dir}`);
    const results: { file: string; name: string; applied: boolean }[] = [];
    const bar = ctx.out.progress('migrating', files.length);
    for (const file of files) {
      const query = readFileSync(join(dir, file), 'utf8');
      const name = nameOf(file);
      const r = await api.post<{ applied: boolean }>(`/projects/${ref}/database/migrations`, { name, query }).catch((e: CliError) => {
        bar.done(`failed at ${file}`);
        throw new CliError(`${file}: ${e.message}`);
      });
      results.push({ file, name, applied: r.applied });
      bar.tick(1, file);
    }
    bar.done(`${results.filter((r) => r.applied).length} applied`);
    ctx.out.result(results, (r: typeof results) => table(r.map((x) => ({ ...x, applied: x.applied ? 'applied' : 'already applied' })), ['file', 'applied']));
  },
};
