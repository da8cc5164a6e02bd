// The CLI's deploy commands as a user runs them, against the test fleet: functions (with secrets) and assets.
// A file of its own: each CLI call is a process start, and a file must finish within the runner's timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basalt, basaltIn } from './run-cli.js';


test('functions new, deploy, invoke, list, logs; secrets set, list, unset', async () => {
  const p = JSON.parse(basalt('projects', 'create', 'cli functions', '--json').out);
  const dir = mkdtempSync(join(tmpdir(), 'basalt-cli-fn-'));
  try {
    assert.equal(basaltIn(dir, 'functions', 'new', 'greet').code, 0);
    writeFileSync(join(dir, 'functions/greet/words.ts'), "export const word = (): string => Deno.env.get('WORD') ?? 'Hello';");
    writeFileSync(join(dir, 'functions/greet/index.ts'), "import { word } from './words.ts';\nDeno.serve(async (req) => { const { name } = await req.json(); console.log('called'); return Response.json({ message: `${word()} ${name}!` }); });");
    const deployed = basaltIn(dir, 'functions', 'deploy', p.ref, 'greet');
    assert.equal(deployed.code, 0, deployed.err);
    assert.match(deployed.out, /deployed greet version 1/);
    assert.equal(basalt('secrets', 'set', p.ref, 'WORD=Howdy').code, 0);
    const invoked = basalt('functions', 'invoke', p.ref, 'greet', '{"name":"cli"}', '--json');
    assert.equal(invoked.code, 0, invoked.err);
    assert.deepEqual(JSON.parse(invoked.out), { message: 'Howdy cli!' });
    assert.match(basalt('functions', 'list', p.ref).out, /greet\s+1\s+1\s+true/);
    assert.match(basalt('functions', 'logs', p.ref, 'greet').out, /200.*\n\s+\[log\] called/);
    const secrets = basalt('secrets', 'list', p.ref);
    assert.match(secrets.out, /WORD/);
    assert.ok(!secrets.out.includes('Howdy'), 'values are never shown');
    assert.equal(basalt('secrets', 'unset', p.ref, 'WORD').code, 0);
    assert.deepEqual(JSON.parse(basalt('functions', 'invoke', p.ref, 'greet', '{"name":"cli"}', '--json').out), { message: 'Hello cli!' });
    assert.equal(basalt('secrets', 'set', p.ref, 'novalue').code, 2);
    assert.equal(basaltIn(dir, 'functions', 'deploy', p.ref, 'missing').code, 1);
  } finally {
    basalt('projects', 'delete', p.ref, '--yes');
  }
});
