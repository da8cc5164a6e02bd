// basalt functions new <slug> | serve | deploy [ref] [slug …] | list [ref] | invoke [ref] <slug> [json] | logs [ref] <slug> | delete [ref] <slug>
// Functions live in functions/<slug>/index.ts (--dir to change), as Supabase's supabase/functions/<slug>/index.ts.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CliError, flag, projectRef, subcommand, usageError, type Command, type Ctx } from '../command.js';
import { entryOf } from '../functions/entry.js';
import { table } from '../output.js';

const usage = 'basalt functions new <slug> | serve [--port 8787] [--env-file functions/.env] [--no-watch] | deploy [ref] [slug …] [--no-verify-jwt] ' +
  '| list [ref] | invoke [ref] <slug> [json] [--method GET] | logs [ref] <slug> [--limit 50] | delete [ref] <slug>   (all take --dir functions)';

const SUBCOMMANDS = ['new', 'serve', 'deploy', 'list', 'invoke', 'logs', 'delete'];
const SLUG = /^[A-Za-z0-9_-]{1,128}$/;

const TEMPLATE = `// A Basalt edge function (Supabase-compatible). Run it locally with \`basalt functions serve\`,
// deploy it with \`basalt functions deploy <slug>\`, call it with \`basalt functions invoke <slug> '{"name":"you"}'\`.
// Secrets are in Deno.env (basalt secrets set NAME=value); SUPABASE_URL and SUPABASE_ANON_KEY are set for you.
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
      else if (/\.(ts|tsx|js|mjs|json)$/.test(name)) files[relative(dir, p).split('\\').join('/')] = readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return files;
}

/** The slugs given, or every folder of the root with an index.ts. */
function slugsToDeploy(root: string, given: string[]): string[] {
  if (given.length) return given;
  const all = existsSync(root) ? readdirSync(root).filter((n) => SLUG.test(n) && entryOf(join(root, n))) : [];
  if (!all.length) throw new CliError(`no functions in ${root}/ (basalt functions new <slug>)`);
  return all;
}

async function deploy(ctx: Ctx, root: string) {
  const ref = projectRef(ctx, usage, 1);
  const given = ctx.args.slice(1);
  for (const s of given) if (!SLUG.test(s)) throw usageError(usage, `"${s}" is not a function slug (letters, digits, - and _)`);
  const slugs = slugsToDeploy(root, given);
  const api = ctx.api();
  const bar = ctx.out.progress('deploying', slugs.length);
  const deployed: Record<string, unknown>[] = [];
  for (const slug of slugs) {
    const dir = join(root, slug);
    const entry = entryOf(dir);
    if (!entry) {
      bar.done();
      throw new CliError(`${dir}/index.ts not found (basalt functions new ${slug})`);
    }
    const files = readFunctionFiles(dir);
    const body = { slug, files, entrypoint: relative(dir, entry), verify_jwt: ctx.flags['no-verify-jwt'] !== true };
    deployed.push(await api.post(`/projects/${ref}/functions`, body).catch((e: CliError) => {
      bar.done(`failed at ${slug}`);
      throw new CliError(`${slug}: ${e.message}`);
    }));
    bar.tick(1, slug);
  }
  bar.done(`${deployed.length} deployed`);
  const line = (f: any) => `deployed ${f.slug} version ${f.version} (verify_jwt ${f.verify_jwt})`;
  // one named slug prints that function (as before); several, or all, print an array
  if (given.length === 1) return ctx.out.result(deployed[0], line);
  return ctx.out.result(deployed, (rows: any[]) => rows.map(line).join('\n'));
}

async function invoke(ctx: Ctx) {
  const ref = projectRef(ctx, usage, 1);
  const slug = ctx.args[1];
  if (!slug) throw usageError(usage, 'invoke needs a function slug');
  let body: unknown;
  if (ctx.args[2] !== undefined) {
    try {
      body = JSON.parse(ctx.args[2]);
    } catch {
      throw usageError(usage, 'the body must be JSON');
    }
  }
  const method = (flag(ctx.flags, 'method') ?? 'POST').toUpperCase();
  if (!['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) throw usageError(usage, `--method ${method} is not GET, POST, PUT, PATCH or DELETE`);
  const api = ctx.api();
  const key = await api.projectKey(ref, ctx.flags['service-role'] === true ? 'service_role' : 'anon');
  let r: Response;
  try {
    r = await fetch(`${api.url}/project/${ref}/functions/v1/${slug}`, {
      method,
      headers: { apikey: key, authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: method === 'GET' ? undefined : JSON.stringify(body ?? {}),
    });
  } catch (e) {
    throw new CliError(`cannot reach ${api.url} (${(e as Error).message})`);
  }
  const text = await r.text();
  if (!r.ok) throw new CliError(`${slug} answered ${r.status}: ${text}`);
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch { /* a text answer stays text */ }
  return ctx.out.result(parsed, (x) => (typeof x === 'string' ? x : JSON.stringify(x, null, 2)));
}

export const functionsCommand: Command = {
  name: 'functions',
  summary: 'scaffold, serve locally (reload on change), deploy, list, invoke, read logs of and delete edge functions',
  usage,
  subcommands: SUBCOMMANDS,
  flags: ['dir', 'port', 'env-file', 'no-watch', 'no-verify-jwt', 'method', 'service-role', 'limit', 'project-ref'],
  async run(ctx) {
    const root = flag(ctx.flags, 'dir') ?? 'functions';
    const sub = subcommand(ctx, usage, SUBCOMMANDS);
    switch (sub) {
      case 'new': {
        const name = ctx.args[1];
        if (!name || !SLUG.test(name)) throw usageError(usage, 'a function slug (letters, digits, - and _) is required');
        const dir = join(root, name);
        if (existsSync(dir)) throw new CliError(`${dir} already exists`);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'index.ts'), TEMPLATE);
        return ctx.out.result({ created: join(dir, 'index.ts') }, (r) => `created ${r.created}`);
      }
      case 'serve':
        return (await import('./functions-serve.js')).serveCommandRun(ctx, root, usage);
      case 'deploy':
        return deploy(ctx, root);
      case 'invoke':
        return invoke(ctx);
      case 'list': {
        const ref = projectRef(ctx, usage, 1);
        return ctx.out.result(await ctx.api().get(`/projects/${ref}/functions`), (rows) =>
          table(rows.map((f: { versions: unknown[] }) => ({ ...f, versions: f.versions.length })), ['slug', 'version', 'versions', 'verify_jwt', 'updated_at']),
        );
      }
      case 'logs': {
        const ref = projectRef(ctx, usage, 1);
        const slug = ctx.args[1];
        if (!slug) throw usageError(usage, 'logs needs a function slug');
        const limit = Number(flag(ctx.flags, 'limit') ?? 50);
        if (!Number.isInteger(limit) || limit < 1) throw usageError(usage, '--limit must be a positive whole number');
        return ctx.out.result(await ctx.api().get(`/projects/${ref}/functions/${encodeURIComponent(slug)}/logs?limit=${limit}`), (rows) =>
          rows.map((l: { created_at: string; status: number; duration_ms: number; logs: string }) => `${l.created_at}  ${l.status}  ${l.duration_ms} ms\n${l.logs ? l.logs.replace(/^/gm, '    ') : ''}`).join('\n') || '(no invocations)',
        );
      }
      case 'delete': {
        const ref = projectRef(ctx, usage, 1);
        const slug = ctx.args[1];
        if (!slug) throw usageError(usage, 'delete needs a function slug');
        const r = await ctx.api().delete(`/projects/${ref}/functions/${encodeURIComponent(slug)}`);
        return ctx.out.result(r, () => `deleted ${slug}`);
      }
    }
  },
};
