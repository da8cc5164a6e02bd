// `npm start`: prepare the machine, then run the fleet with `basalt dev`.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { prepare, ROOT } from './prepare.mjs';

try {
  await prepare();
} catch (e) {
  process.stderr.write(`basalt: ${e.message}\n`);
  process.exit(1);
}
// the IPC channel ends `basalt dev` (and with it the fleet) if this process is killed outright
const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'packages/cli/src/main.ts'), 'dev', ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 0));
