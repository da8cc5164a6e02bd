// Bundles one function folder from disk with esbuild under the rules the deploy follows (services/functions'
// bundler): TypeScript or JavaScript, relative imports of the folder's own files and `node:` built-ins only, so
// what serves locally is what deploys.
import { statSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { entryOf } from './entry.js';

export class BundleError extends Error {}


const inside = (root: string, path: string) => {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

export async function bundleFunction(dir: string): Promise<string> {
  const entry = entryOf(dir);
  if (!entry) throw new BundleError(`${dir} has no index.ts`);
  const root = resolve(dir);
  const ownFilesOnly: Plugin = {
    name: 'basalt-own-files',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        if (args.path.startsWith('node:')) return { path: args.path, external: true };
        const spec = args.path;
        if ((spec.startsWith('./') || spec.startsWith('../')) && inside(root, resolve(dirname(args.importer), spec))) return undefined;
        if (spec.startsWith('/')) {
          // the deploy's files are rooted at the function folder, so `/lib.ts` is <folder>/lib.ts there
          const base = resolve(root, `.${spec}`);
          const found = ['', '.ts', '.tsx', '.js', '.mjs', '/index.ts', '/index.js'].map((x) => base + x).find((p) => statSync(p, { throwIfNoEntry: false })?.isFile());
          if (found && inside(root, found)) return { path: found };
        }
        return { errors: [{ text: `cannot resolve "${args.path}": import the function folder's own files (the deploy sends only those)` }] };
      });
    },
  };
  try {
    const out = await build({
      entryPoints: [entry], bundle: true, write: false, format: 'esm', platform: 'neutral', target: 'es2022',
      plugins: [ownFilesOnly], logLevel: 'silent', mainFields: ['module', 'main'], sourcemap: 'inline',
    });
    return out.outputFiles[0].text;
  } catch (e) {
    const errs = (e as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }).errors;
    if (!errs) throw e;
    throw new BundleError(errs.map((x) => (x.location ? `${x.location.file}:${x.location.line}:${x.location.column}: ${x.text}` : x.text)).join('\n'));
  }
}
