import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgv } from './main.js';

const cases: [string[], { positional: string[]; flags: Record<string, string | boolean> }][] = [
  [['projects', 'list', '--json'], { positional: ['projects', 'list'], flags: { json: true } }],
  [['sql', 'abc', '-f', 'x.sql'], { positional: ['sql', 'abc'], flags: { f: 'x.sql' } }],
  [['sql', 'abc', 'select 1', '--url=http://h:1'], { positional: ['sql', 'abc', 'select 1'], flags: { url: 'http://h:1' } }],
  [['projects', 'delete', 'r', '--yes'], { positional: ['projects', 'delete', 'r'], flags: { yes: true } }],
  [['tokens', 'create', 'ci', '--project', 'abc'], { positional: ['tokens', 'create', 'ci'], flags: { project: 'abc' } }],
];

for (const [argv, expected] of cases) {
  test(`parses ${argv.join(' ')}`, () => assert.deepEqual(parseArgv(argv), expected));
}
