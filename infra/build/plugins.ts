// The two esbuild plugins behind `npm run build`: third-party packages stay imports (recording where each is
// installed, so the bundle can find it), and `import.meta.url` keeps pointing at the source file's own place,
// so `new URL('../migrations/', import.meta.url)` finds the files copied beside the bundles.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import type { Loader, Plugin } from 'esbuild';

/** What the plugins learned while bundling, for build.ts to lay out next to the bundles. */
export interface Collected {
  /** third-party package name → installed directory (real path) → files that import it */
  packages: Map<string, Map<string, Set<string>>>;
  /** files and directories sources refer to with new URL('<path>', import.meta.url) */
  assets: Set<string>;
  warnings: string[];
}

export const collected = (): Collected => ({ packages: new Map(), assets: new Set(), warnings: [] });

/** 'pg' → 'pg', 'pg/lib/x' → 'pg', '@aws-sdk/client-s3/dist' → '@aws-sdk/client-s3' */
const packageName = (spec: string) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');

/** Node's own lookup: the nearest node_modules/<name> above the importing file. */
function installedDir(name: string, from: string): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(dir) === dir) return null;
  }
}

// Our packages (@basalt/*, exporting ./src/index.ts) are compiled in; everything else from node_modules is left
// to Node at run time: native addons (sharp, bcrypt), binaries (workerd) and packages that read their own files.
export function thirdPartyExternal(root: string, out: Collected): Plugin {
  return {
    name: 'basalt-third-party-external',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.kind === 'entry-point' || args.path.startsWith('@basalt/')) return undefined;
        if (isBuiltin(args.path)) return { path: args.path, external: true };
        const name = packageName(args.path);
        const dir = installedDir(name, args.resolveDir);
        if (!dir) return { errors: [{ text: `${name} is not installed where ${relative(root, args.importer)} can import it` }] };
        const importers = out.packages.get(name) ?? new Map<string, Set<string>>();
        out.packages.set(name, importers);
        const from = importers.get(dir) ?? new Set<string>();
        importers.set(dir, from);
        from.add(relative(root, args.importer));
        return { path: args.path, external: true };
      });
    },
  };
}

const LOADERS: Record<string, Loader> = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.tsx': 'tsx', '.js': 'js', '.mjs': 'js' };
const FILE_RELATIVE = /new URL\(\s*(['"`])([^'"`$]+)\1\s*,\s*import\.meta\.url\s*\)/g;

// In a bundle every module shares the bundle's import.meta.url. Each of our files gets its own again, as if it
// sat at <outdir>/<its path in the repo>; the paths it builds on it are copied there by build.ts.
export function fileRelativeUrls(root: string, out: Collected): Plugin {
  return {
    name: 'basalt-file-relative-urls',
    setup(build) {
      build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, (args) => {
        if (args.path.split(sep).includes('node_modules')) return undefined;
        const source = readFileSync(args.path, 'utf8');
        if (!source.includes('import.meta')) return undefined;
        const file = relative(root, args.path);
        const lineOf = (index: number) => source.slice(0, index).split('\n').length;
        for (const m of source.matchAll(FILE_RELATIVE)) out.assets.add(resolve(dirname(args.path), m[2]));
        const uses = [...source.matchAll(/import\.meta\.(\w+)/g)];
        const explained = [...source.matchAll(FILE_RELATIVE)].map((m) => m.index! + m[0].indexOf('import.meta'));
        for (const u of uses) {
          if (u[1] === 'url' && explained.includes(u.index!)) continue;
          out.warnings.push(`${file}:${lineOf(u.index!)}: import.meta.${u[1]} is not new URL('<path>', import.meta.url); check it in the bundle`);
        }
        const here = JSON.stringify(`./${file.split(sep).join('/')}`);
        return {
          contents: source.replace(/import\.meta\.url/g, `new URL(${here}, import.meta.url).href`),
          loader: LOADERS[extname(args.path)] ?? 'ts',
          resolveDir: dirname(args.path),
        };
      });
    },
  };
}
