// Which names a project may claim: not an address, not the platform's own domain or its subdomains, not localhost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { claimableProblem } from './custom-domains.js';

test('names the platform answers for, or no one can prove, are not claimable', () => {
  const cases: [string, string, boolean][] = [
    ['shop.example.com', 'basalt.dev', true],
    ['basalt.dev.example.com', 'basalt.dev', true],
    ['notbasalt.dev', 'basalt.dev', true],
    ['basalt.dev', 'basalt.dev', false],
    ['abcdefghijklmnopqrst.basalt.dev', 'basalt.dev', false],
    ['a.b.basalt.dev', 'Basalt.Dev', false],
    ['127.0.0.1', 'basalt.dev', false],
    ['::1', 'basalt.dev', false],
    ['app.localhost', 'basalt.dev', false],
  ];
  for (const [domain, base, ok] of cases) assert.equal(claimableProblem(domain, base) === null, ok, `${domain} under ${base}`);
});
