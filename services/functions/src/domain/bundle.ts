// Bundles a function's files (TypeScript or JavaScript, relative imports, an import map onto its own files)
// into one ES module with esbuild, in memory. Only the deploy's own files can be imported: nothing is fetched.
import { posix } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { fnErrors } from '../errors.js';
import { PRELUDE } from '../runtime/prelude.js';

const ENTRY = '/__basalt_entry.ts';
const PRELUDE_PATH = '/__basalt_prelude.js';
const LOADERS = { '.ts': 'ts', '.tsx': 'tsx', '.js': 'js', '.mjs': 'js', '.jsx': 'jsx', '.json': 'json' } as const;

export interface BundleInput {
  files: Record<string, string>;
  entrypoint: string;
  importMap?: Record<string, string>;
}

const normalize = (p: string) => posix.normalize(`/${p}`);

export async function bundle(input: BundleInput, maxBytes: number): Promise<string> {
  const files = new Map(Object.entries(input.files).map(([p, c]) => [normalize(p), c]));
  const entry = normalize(input.entrypoint);
  if (!files.has(entry)) throw fnErrors.validation(`entrypoint ${input.entrypoint} is not one of the files`);
  files.set(PRELUDE_PATH, PRELUDE);
  files.set(ENTRY, `import '${PRELUDE_PATH}';\nimport * as userModule from '${entry}';\nexport default { fetch: (req, env, ctx) => globalThis.__basaltDispatch(userModule, req, env, ctx) };\n`);

  const find = (p: string) => [p, `${p}.ts`, `${p}.tsx`, `${p}.js`, `${p}.mjs`, `${p}/index.ts`, `${p}/index.js`].find((c) => files.has(c));
  const memory: Plugin = {
    name: 'basalt-memory-files',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        const spec = input.importMap?.[args.path] ?? args.path;
        if (spec.startsWith('node:')) return { path: spec, external: true };
        if (spec.startsWith('/') || spec.startsWith('./') || spec.startsWith('../')) {
          const base = args.importer ? posix.dirname(args.importer) : '/';
          const found = find(spec.startsWith('/') ? normalize(spec) : posix.join(base, spec));
          if (found) return { path: found, namespace: 'mem' };
        }
        return { errors: [{ text: `cannot resolve "${args.path}": import the deploy's own files (or map the name in import_map)` }] };
      });
      b.onLoad({ filter: /.*/, namespace: 'mem' }, (args) => ({
        contents: files.get(args.path)!,
        loader: LOADERS[posix.extname(args.path) as keyof typeof LOADERS] ?? 'ts',
        resolveDir: posix.dirname(args.path),
      }));
    },
  };
  try {
    const out = await build({
      entryPoints: [ENTRY], bundle: true, write: false, format: 'esm', platform: 'neutral', target: 'es2022',
      plugins: [memory], logLevel: 'silent', mainFields: ['module', 'main'],
    });
    const code = out.outputFiles[0].text;
    if (Buffer.byteLength(code) > maxBytes) throw fnErrors.bundle(`bundle is larger than ${maxBytes} bytes`);
    return code;
  } catch (e) {
    const errs = (e as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }).errors;
    if (!errs) throw e;
    throw fnErrors.bundle(errs.map((x) => (x.location ? `${x.location.file.replace(/^mem:/, '')}:${x.location.line}:${x.location.column}: ${x.text}` : x.text)).join('\n'));
  }
}
