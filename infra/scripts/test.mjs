// `npm test`: prepare the machine, then run every test against a fleet started on a fresh control database.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ensureChromium, prepare, ROOT } from './prepare.mjs';

try {
  await prepare();
  // a whole run (no files named) includes the browser tests
  if (!process.argv.slice(2).some((a) => !a.startsWith('-'))) ensureChromium();
} catch (e) {
  process.stderr.write(`basalt: ${e.message}\n`);
  process.exit(1);
}
const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'tests/run.ts'), ...process.argv.slice(2)], { cwd: ROOT, stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 1));
