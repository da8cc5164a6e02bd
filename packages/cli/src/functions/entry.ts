// Where a function folder's code starts: index.ts as `functions new` writes it and the deploy sends it (index.js works too).
import { statSync } from 'node:fs';
import { resolve } from 'node:path';

export function entryOf(dir: string): string | null {
  const found = ['index.ts', 'index.js'].map((n) => resolve(dir, n)).find((p) => statSync(p, { throwIfNoEntry: false })?.isFile());
  return found ?? null;
}
