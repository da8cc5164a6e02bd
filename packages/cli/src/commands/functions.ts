// basalt functions new <slug> | deploy <ref> <slug> [dir] [--no-verify-jwt] | list <ref> | invoke <ref> <slug> [json] | logs <ref> <slug>
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CliError, flag, subcommand, usageError, type Command } from '../command.js';
import { table } from '../output.js';

const usage = 'basalt functions new <slug> [--dir functions] | deploy <ref> <slug> [--dir functions] [--no-verify-jwt] | list <ref> | invoke <ref> <slug> [json] | logs <ref> <slug>';

const TEMPLATE = `// A Basalt edge function (Supabase-compatible): deploy with \`basalt functions deploy <ref> <slug>\`.
Deno.serve(async (req: Request) => {
  const { name } = await req.json().catch(() => ({ name: 'world' }));
  return Response.json({ message: \`Hello \${name}!\` });
});
`;

/** Every .ts/.js/.json file under the function's folder, as the deploy's files map. */
function readFunctionFiles(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|tsx|js|mjs|json)$/.test(name)) files[relative(dir, p)] = readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return files;
}

export const functionsCommand: Command = {
  name: 'functions',
  summary: 'scaffold, deploy, list, invoke and read logs of edge functions',
  usage,
  async run(ctx) {
    const root = flag(ctx.flags, 'dir') ?? 'functions';
    const [, ref, slug] = ctx.args;
    switch (subcommand(ctx, usage, ['new', 'deploy', 'list', 'invoke', 'logs'])) {
      case 'new': {
        const name = ctx.args[1];
        if (!name || !/^[A-Za-z0-9_-]+$/.test(name)) throw usageError(usage, 'a function slug (letters, digits, - and _) is required');
        const dir = join(root, name);
        if (existsSync(dir)) throw new CliError(`${dir} already exists`);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'index.ts'), TEMPLATE);
        return ctx.out.result({ created: join(dir, 'index.ts') }, (r) => `created ${r.created}`);
      }
      case 'deploy': {
        if (!ref || !slug) throw usageError(usage, 'deploy needs a project ref and a slug');
        const dir = join(root, slug);
        if (!existsSync(join(dir, 'index.ts')) && !existsSync(join(dir, 'index.js'))) throw new CliError(`${dir}/index.ts not found (basalt functions new ${slug})`);
        const files = readFunctionFiles(dir);
        const entrypoint = files['index.ts'] !== undefined ? 'index.ts' : 'index.js';
        const deployed = await ctx.out.step(`deploying ${slug}`, () =>
          ctx.api().post(`/projects/${ref}/functions`, { slug, files, entrypoint, verify_jwt: ctx.flags['no-verify-jwt'] !== true }),
        );
        return ctx.out.result(deployed, (f) => `deployed ${f.slug} version ${f.version} (verify_jwt ${f.verify_jwt})`);
      }
      case 'list':
        if (!ref) throw usageError(usage, 'list needs a project ref');
        return ctx.out.result(await ctx.api().get(`/projects/${ref}/functions`), (rows) =>
          table(rows.map((f: { versions: unknown[] }) => ({ ...f, versions: f.versions.length })), ['slug', 'version', 'versions', 'verify_jwt', 'updated_at']),
        );
      case 'invoke': {
        if (!ref || !slug) throw usageError(usage, 'invoke needs a project ref and a slug');
        let body: unknown = {};
        if (ctx.args[3]) {
          try {
            body = JSON.parse(ctx.args[3]);
          } catch {
            throw usageError(usage, 'the body must be JSON');
          }
        }
        const api = ctx.api();
        const [anon] = await api.get<{ api_key: string }[]>(`/projects/${ref}/api-keys`);
        const r = await fetch(`${api.url}/project/${ref}/functions/v1/${slug}`, {
          method: 'POST',
          headers: { apikey: anon.api_key, authorization: `Bearer ${anon.api_key}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        const text = await r.text();
        if (!r.ok) throw new CliError(`${slug} answered ${r.status}: ${text}`);
        return ctx.out.result((() => { try { return JSON.parse(text); } catch { return text; } })(), (x) => (typeof x === 'string' ? x : JSON.stringify(x, null, 2)));
      }
      case 'logs':
        if (!ref || !slug) throw usageError(usage, 'logs needs a project ref and a slug');
        return ctx.out.result(await ctx.api().get(`/projects/${ref}/functions/${slug}/logs`), (rows) =>
          rows.map((l: { created_at: string; status: number; duration_ms: number; logs: string }) => `${l.created_at}  ${l.status}  ${l.duration_ms} ms\n${l.logs ? l.logs.replace(/^/gm, '    ') : ''}`).join('\n') || '(no invocations)',
        );
    }
  },
};
