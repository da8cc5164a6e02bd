// basalt functions serve: the folder's functions on a local port for development, reloaded on file change. With a
// linked project (or --project-ref) they also get SUPABASE_URL / SUPABASE_ANON_KEY / BASALT_PROJECT_REF, as deployed.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, flag, REF, usageError, type Ctx } from '../command.js';
import { serveFunctions } from '../functions/local-server.js';
import { findLink } from '../project-link.js';

async function projectEnv(ctx: Ctx): Promise<Record<string, string>> {
  const ref = flag(ctx.flags, 'project-ref') ?? findLink()?.link.ref;
  if (!ref || !REF.test(ref)) return {};
  const api = ctx.api();
  const project = await api.get<{ url: string }>(`/projects/${ref}`);
  const anon = await api.projectKey(ref, 'anon');
  return { SUPABASE_URL: project.url, BASALT_URL: project.url, SUPABASE_ANON_KEY: anon, BASALT_PROJECT_REF: ref };
}

export async function serveCommandRun(ctx: Ctx, root: string, usage: string): Promise<void> {
  const port = Number(flag(ctx.flags, 'port') ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw usageError(usage, '--port must be a port number (0 picks a free one)');
  if (!existsSync(root)) throw new CliError(`no ${root}/ folder here (basalt functions new <slug>, or --dir)`);
  const envFile = flag(ctx.flags, 'env-file') ?? join(root, '.env');
  if (flag(ctx.flags, 'env-file') && !existsSync(envFile)) throw new CliError(`${envFile} does not exist`);
  const served = await serveFunctions({
    root, port, host: flag(ctx.flags, 'host') ?? '127.0.0.1', envFile, baseEnv: await projectEnv(ctx),
    watch: ctx.flags['no-watch'] !== true,
    log: (line) => process.stderr.write(`${line}\n`),
  }).catch((e: NodeJS.ErrnoException) => {
    throw new CliError(e.code === 'EADDRINUSE' ? `port ${port} is in use; pass --port (0 picks a free one)` : e.message);
  });
  const info = { url: served.url, functions_url: `${served.url}/functions/v1`, root, watch: ctx.flags['no-watch'] !== true };
  // one line, even with --json: a script reads it to learn the port, then the server keeps running
  process.stdout.write(ctx.out.json ? `${JSON.stringify(info)}\n`
    : `serving ${root}/ at ${info.functions_url}/<slug>${info.watch ? ' (reloads on change)' : ''}; Ctrl-C stops\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await served.stop();
}
