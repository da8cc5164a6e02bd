// The boundary rule fires where the architecture says it must (lint fails), and stays quiet on what is allowed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { ROOT } from '@basalt/fleet';

const eslint = new ESLint({ cwd: ROOT });
async function problems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) });
  return result.messages.filter((m) => m.ruleId === 'boundaries/imports').map((m) => m.message);
}

const cases: [string, string, string, RegExp | null][] = [
  ['a service importing another service by path', 'services/rest/src/routes/x.ts', `import { a } from '../../../storage/src/domain/objects.js';`, /imports the storage service/],
  ['a service importing another service by name', 'services/rest/src/x.ts', `import { a } from '@basalt/storage';`, /is a service/],
  ['a service importing the gateway', 'services/auth/src/x.ts', `export { a } from '../../../gateway/src/routes.js';`, /imports the gateway service/],
  ['a package importing a service', 'packages/db/src/x.ts', `import { a } from '../../../services/rest/src/app.js';`, /imports the rest service from package db/],
  ['a deep import of a package by name', 'services/rest/src/x.ts', `import { a } from '@basalt/db/src/pool.js';`, /reaches into @basalt\/db/],
  ['a deep import of a package by path', 'services/rest/src/x.ts', `import { a } from '../../../packages/db/src/pool.js';`, /reaches into packages\/db by path/],
  ['a test reaching into a service', 'tests/e2e/x.test.ts', `const m = await import('../../services/rest/src/app.js');`, null],
  ['a dynamic import of another service', 'services/rest/src/x.ts', `const m = await import('../../storage/src/app.js');`, /imports the storage service/],
  ['a service importing itself', 'services/rest/src/routes/x.ts', `import { a } from '../domain/plan.js';`, null],
  ['a service importing packages by name', 'services/rest/src/x.ts', `import { asCaller } from '@basalt/db';`, null],
  ['a package importing another by name', 'packages/tenancy/src/x.ts', `import { asCaller } from '@basalt/db';`, null],
];

for (const [name, file, code, expected] of cases) {
  test(`boundaries: ${name} ${expected ? 'fails lint' : 'is allowed'}`, async () => {
    const found = await problems(file, code);
    if (expected) {
      assert.equal(found.length, 1, found.join('; '));
      assert.match(found[0], expected);
    } else assert.deepEqual(found, []);
  });
}

test('the tree keeps its boundaries: no service, package or test breaks them', async () => {
  const results = await eslint.lintFiles(['gateway', 'services', 'packages', 'tests', 'bench']);
  const broken = results.flatMap((r) => r.messages.filter((m) => m.ruleId === 'boundaries/imports').map((m) => `${r.filePath}:${m.line} ${m.message}`));
  assert.deepEqual(broken, []);
});
