#!/usr/bin/env node
// `basalt` on the PATH: runs the TypeScript CLI through tsx, resolved from this checkout so it works from any folder.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const main = join(dirname(fileURLToPath(import.meta.url)), '../src/main.ts');
const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), main, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
