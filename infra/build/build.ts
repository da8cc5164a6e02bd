// `npm run build`: each service of the fleet bundled into dist/<name>.mjs (esbuild, node20 syntax, source maps),
// so images run plain `node --enable-source-maps dist/<name>.mjs` instead of tsx.
//   npm run build                     writes dist/
//   npm run build -- --outdir <dir>   writes another directory (tests/build.test.ts)
// A bundle is not self-contained on purpose: third-party packages are imported from <outdir>/node_modules, links
// to where pnpm installed them, and the files sources open beside themselves (migrations) are copied in.
import { cpSync, mkdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuildApi from 'esbuild';
import { collected, fileRelativeUrls, thirdPartyExternal, type Collected } from './plugins.js';
// not a workspace package (the workspace list is not ours to change): the fleet package by its entry point
import { SERVICES, type ServiceSpec } from '../../packages/fleet/src/index.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The built entry point of a service, relative to the repo root (and to /app in the image). */
export const bundleOf = (s: ServiceSpec): string => `dist/${s.name}.mjs`;

/** Services that exist in this checkout. */
export const buildable = (): ServiceSpec[] => SERVICES.filter((s) => exists(join(ROOT, s.entry)));

const exists = (path: string) => statSync(path, { throwIfNoEntry: false }) !== undefined;

const esbuild = () => esbuildApi;

export interface BuildResult {
  outdir: string;
  bundles: { name: string; file: string; bytes: number }[];
  packages: string[];
  warnings: string[];
}

export async function build(outdir = join(ROOT, 'dist')): Promise<BuildResult> {
  const services = buildable();
  const found = collected();
  rmSync(outdir, { recursive: true, force: true });
  const result = await esbuild().build({
    absWorkingDir: ROOT,
    entryPoints: Object.fromEntries(services.map((s) => [s.name, join(ROOT, s.entry)])),
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    // `npm start` supports Node 20.10+, images run 24: one bundle for both
    target: 'node20',
    sourcemap: true,
    // stack traces need the mappings only; the sources are in git
    sourcesContent: false,
    metafile: true,
    logLevel: 'warning',
    plugins: [thirdPartyExternal(ROOT, found), fileRelativeUrls(ROOT, found)],
  });
  linkPackages(outdir, found);
  copyAssets(outdir, found);
  writeFileSync(join(outdir, 'package.json'), '{ "type": "module", "private": true }\n');
  return {
    outdir,
    bundles: services.map((s) => {
      const file = join(outdir, `${s.name}.mjs`);
      return { name: s.name, file, bytes: result.metafile!.outputs[relative(ROOT, file)]?.bytes ?? statSync(file).size };
    }),
    packages: [...found.packages.keys()].sort(),
    warnings: found.warnings,
  };
}

// One <outdir>/node_modules for every bundle, so a package must resolve to one installed copy across services.
function linkPackages(outdir: string, found: Collected): void {
  const conflicts: string[] = [];
  for (const [name, dirs] of found.packages) {
    if (dirs.size > 1) {
      conflicts.push(`${name}: ${[...dirs].map(([dir, from]) => `${relative(ROOT, dir)} (for ${[...from][0]})`).join(' and ')}`);
      continue;
    }
    const [dir] = dirs.keys();
    const link = join(outdir, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    // relative, so the tree can be copied (COPY in the Dockerfile) next to an identical node_modules
    symlinkSync(relative(dirname(link), dir), link, 'dir');
  }
  if (conflicts.length) {
    throw new Error(`services import different installed copies of the same package; align their versions:\n  ${conflicts.join('\n  ')}`);
  }
}

function copyAssets(outdir: string, found: Collected): void {
  for (const asset of found.assets) {
    const path = relative(ROOT, asset);
    if (path.startsWith('..')) throw new Error(`${asset} is outside the repository`);
    if (!exists(asset)) throw new Error(`${path} is referenced with new URL(…, import.meta.url) but does not exist`);
    cpSync(asset, join(outdir, path), { recursive: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--outdir');
  const outdir = at > 0 && process.argv[at + 1] ? resolve(process.argv[at + 1]) : undefined;
  try {
    const r = await build(outdir);
    for (const b of r.bundles) process.stdout.write(`${relative(process.cwd(), b.file)}  ${(b.bytes / 1024).toFixed(0)} kB\n`);
    process.stdout.write(`${r.packages.length} third-party packages linked in ${relative(process.cwd(), join(r.outdir, 'node_modules')) || '.'}\n`);
    for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
  } catch (e) {
    process.stderr.write(`build failed: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
