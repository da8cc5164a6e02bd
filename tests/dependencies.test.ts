// A dependency that a service, the gateway or a package declares for production is one its own code uses: an
// import, a dynamic import or require, or a file it serves from `node_modules/<name>/` (Studio's Preact). A
// dependency used only by tests belongs in devDependencies, and one nothing uses goes. A declared dependency that
// is left over still installs in every image and reads as part of what the service is built on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '@basalt/fleet';

const workspaces = ['gateway', ...['services', 'packages'].flatMap((dir) => readdirSync(join(ROOT, dir)).map((name) => `${dir}/${name}`))];

/** a workspace's own code: the files under its src/, tests left out */
const sources = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(ts|mts|js|mjs)$/.test(f) && !/\.test\.ts$/.test(f)).map((f) => join(dir, f));

/** the package names a file's code refers to: `@scope/name` or `name`, whatever path follows */
function packagesUsed(code: string): Set<string> {
  const used = new Set<string>();
  const spec = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)['"]([^'"./][^'"]*)['"]|node_modules\/((?:@[^/'"]+\/)?[^/'"]+)/g;
  for (const m of code.matchAll(spec)) {
    const name = m[1] ?? m[2]!;
    if (name.startsWith('node:')) continue;
    used.add(name.split('/').slice(0, name.startsWith('@') ? 2 : 1).join('/'));
  }
  return used;
}

test('packagesUsed reads static, dynamic and required imports, type imports and served package files', () => {
  const code = `import pg from 'pg';
import type { X } from '@basalt/db/types';
export { y } from "lru-cache";
const z = await import('zod');
const w = require('ws');
import 'side-effect';
import { a } from './local.js';
import fs from 'node:fs';
const file = new URL('../../node_modules/preact/dist/preact.mjs', import.meta.url);
const other = new URL('../node_modules/@scope/pkg/x.js', import.meta.url);`;
  assert.deepEqual([...packagesUsed(code)].sort(), ['@basalt/db', '@scope/pkg', 'lru-cache', 'pg', 'preact', 'side-effect', 'ws', 'zod']);
});

for (const dir of workspaces) {
  test(`${dir}: every production dependency is used by its code`, () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    const used = new Set<string>();
    for (const file of sources(join(ROOT, dir, 'src'))) for (const name of packagesUsed(readFileSync(file, 'utf8'))) used.add(name);
    assert.deepEqual(Object.keys(pkg.dependencies ?? {}).filter((name) => !used.has(name)), []);
  });
}
