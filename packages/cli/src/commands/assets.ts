// basalt assets deploy [ref] <dir> [--spa] [--prune] | list [ref] | rm [ref] <path> …   ([ref]: else --project-ref or `basalt link`)
// Publishes a built frontend (dist/, build/, out/) as the project's static site.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { CliError, projectRef, subcommand, usageError, type Command } from '../command.js';
import { table } from '../output.js';

const usage = 'basalt assets deploy [ref] <dir> [--spa] [--prune] | list [ref] | rm [ref] <path> [<path> …]';
/** raw bytes per upload request (base64 makes the JSON a third larger, under the service's 64 MB limit) */
const BATCH_BYTES = 24 * 1024 * 1024;

interface Published {
  path: string;
  url: string;
  size: number;
  etag: string;
  content_type: string;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue; // .DS_Store, .git, .env: never published
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(path));
    else if (e.isFile()) out.push(path);
  }
  return out;
}

export const assetsCommand: Command = {
  name: 'assets',
  summary: "publish a directory as the project's static site; list and remove its files",
  usage,
  subcommands: ['deploy', 'list', 'rm'],
  flags: ['spa', 'prune', 'project-ref'],
  async run(ctx) {
    const sub = subcommand(ctx, usage, ['deploy', 'list', 'rm']);
    const ref = projectRef(ctx, usage, 1);
    const api = ctx.api();
    const admin = <T>(method: string, path: string, body?: unknown) => api.project<T>(ref, method, `/assets/admin/v1${path}`, body);
    const show = (files: Published[]) => ctx.out.result(files, (r) => table(r, ['path', 'size', 'content_type', 'url']));

    if (sub === 'list') return show((await admin<{ files: Published[] }>('GET', '/files')).files);
    if (sub === 'rm') {
      const paths = ctx.args.slice(1);
      if (!paths.length) throw usageError(usage, 'give the paths to remove');
      for (const p of paths) await admin('DELETE', `/files/${p.split('/').map(encodeURIComponent).join('/')}`);
      return ctx.out.result({ removed: paths }, () => `removed ${paths.length} file(s)`);
    }

    const dir = ctx.args[1];
    if (!dir) throw usageError(usage, 'give the directory to publish');
    if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new CliError(`${dir} is not a directory`);
    const files = walk(dir);
    if (!files.length) throw new CliError(`${dir} has no files to publish`);
    const published: Published[] = [];
    let batch: { path: string; content: string; encoding: 'base64' }[] = [];
    let bytes = 0;
    const bar = ctx.out.progress('uploading', files.length);
    const flush = async () => {
      if (!batch.length) return;
      published.push(...(await admin<{ files: Published[] }>('POST', '/upload', { files: batch })).files);
      bar.tick(batch.length, batch[batch.length - 1].path);
      batch = [];
      bytes = 0;
    };
    for (const file of files) {
      const body = readFileSync(file);
      if (bytes + body.length > BATCH_BYTES) await flush();
      batch.push({ path: relative(dir, file).split(sep).join('/'), content: body.toString('base64'), encoding: 'base64' });
      bytes += body.length;
    }
    await flush();
    bar.done(`${published.length} file(s)`);
    if (ctx.flags.spa === true) await admin('PATCH', '/settings', { spa_fallback: true });
    if (ctx.flags.prune === true) {
      const keep = new Set(published.map((f) => f.path));
      const stale = (await admin<{ files: Published[] }>('GET', '/files')).files.filter((f) => !keep.has(f.path));
      for (const f of stale) await admin('DELETE', `/files/${f.path.split('/').map(encodeURIComponent).join('/')}`);
    }
    const home = published.find((f) => f.path === 'index.html');
    return ctx.out.result({ files: published, url: home?.url ?? null }, () =>
      `published ${published.length} file(s)${home ? `\nlive at ${home.url.replace(/index\.html$/, '')}` : ''}`);
  },
};
