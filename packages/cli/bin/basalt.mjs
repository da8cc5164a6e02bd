#!/usr/bin/env node
// `basalt` on the PATH: runs the TypeScript CLI through tsx in this same process (one Node start, not two),
// resolved from this checkout so it works from any folder.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../src/main.ts');
process.exitCode = await run(process.argv.slice(2));
