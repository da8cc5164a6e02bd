// The CLI as a user runs it, against the test fleet: human output, --json, -f files, errors and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '@basalt/fleet';
import { testEnv } from '@basalt/testkit';

const env = testEnv();
const basaltIn = (cwd: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, [join(ROOT, 'packages/cli/bin/basalt.mjs'), ...args], {
    encoding: 'utf8',
    cwd,
    env: { ...process.env, BASALT_URL: env.gatewayUrl, BASALT_TOKEN: env.platformToken },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const basalt = (...args: string[]) => basaltIn(ROOT, ...args);

test('projects create, list, sql (inline and -f), keys, delete', () => {
  const created = basalt('projects', 'create', 'cli app', '--json');
  assert.equal(created.code, 0, created.err);
  const p = JSON.parse(created.out);
  assert.match(p.ref, /^[a-z]{20}$/);
  try {
    const list = basalt('projects', 'list');
    assert.equal(list.code, 0);
    assert.match(list.out, /^REF\s+NAME/m);
    assert.ok(list.out.includes(p.ref));

    const dir = mkdtempSync(join(tmpdir(), 'basalt-cli-'));
    writeFileSync(join(dir, 'schema.sql'), 'create table items (id int primary key, name text); insert into items values (1, $$one$$);');
    assert.equal(basalt('sql', p.ref, '-f', join(dir, 'schema.sql')).code, 0);
    const rows = basalt('sql', p.ref, 'select id, name from items', '--json');
    assert.deepEqual(JSON.parse(rows.out), [{ id: 1, name: 'one' }]);
    const table = basalt('sql', p.ref, 'select id, name from items');
    assert.match(table.out, /ID\s+NAME\n1\s+one/);

    const bad = basalt('sql', p.ref, 'select * from missing');
    assert.equal(bad.code, 1);
    assert.match(bad.err, /relation "missing" does not exist/);

    const keys = JSON.parse(basalt('keys', p.ref, '--json').out);
    assert.deepEqual(keys.map((k: { name: string }) => k.name), ['anon', 'service_role']);
  } finally {
    assert.equal(basalt('projects', 'delete', p.ref).code, 2, 'delete without --yes is a usage error');
    assert.equal(basalt('projects', 'delete', p.ref, '--yes').code, 0);
  }
});

test('tokens create, list, revoke', () => {
  const t = JSON.parse(basalt('tokens', 'create', 'cli-token', '--json').out);
  assert.match(t.token, /^bsp_/);
  assert.ok(basalt('tokens', 'list').out.includes('cli-token'));
  assert.equal(basalt('tokens', 'revoke', t.id).code, 0);
  assert.ok(!basalt('tokens', 'list').out.includes(t.id));
});

test('usage errors exit 2, unreachable servers and bad tokens exit 1 with a clear message', () => {
  assert.equal(basalt('nope').code, 2);
  assert.equal(basalt('projects').code, 2);
  const down = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'packages/cli/src/main.ts'), 'projects', 'list', '--url', 'http://127.0.0.1:9', '--token', 'bsp_x'], { encoding: 'utf8' });
  assert.equal(down.status, 1);
  assert.match(down.stderr, /cannot reach/);
  const denied = basalt('projects', 'list', '--token', 'bsp_wrongwrongwrongwrongwrong');
  assert.equal(denied.code, 1);
  assert.match(denied.err, /401/);
});

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

test('assets deploy publishes a built site (with --spa and --prune), list and rm', async () => {
  const p = JSON.parse(basalt('projects', 'create', 'cli site', '--json').out);
  const dist = mkdtempSync(join(tmpdir(), 'basalt-cli-site-'));
  try {
    mkdirSync(join(dist, 'assets'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html><div id=root></div>');
    writeFileSync(join(dist, 'assets/index-8f3a2b1c.js'), 'console.log(1)');
    writeFileSync(join(dist, 'old.txt'), 'old');
    writeFileSync(join(dist, '.env'), 'SECRET=1');
    const first = basalt('assets', 'deploy', p.ref, dist, '--json');
    assert.equal(first.code, 0, first.err);
    assert.deepEqual(JSON.parse(first.out).files.map((f: { path: string }) => f.path).sort(), ['assets/index-8f3a2b1c.js', 'index.html', 'old.txt']);
    rmSync(join(dist, 'old.txt'));
    const second = basalt('assets', 'deploy', p.ref, dist, '--spa', '--prune');
    assert.equal(second.code, 0, second.err);
    assert.match(second.out, /published 2 file\(s\)\nlive at http/);
    const site = `${env.gatewayUrl}/project/${p.ref}/assets/v1`;
    assert.equal(await (await fetch(`${site}/some/client/route`)).text(), '<!doctype html><div id=root></div>');
    assert.equal((await fetch(`${site}/old.txt`)).status, 404);
    assert.equal((await fetch(`${site}/.env`)).status, 404);
    assert.match(basalt('assets', 'list', p.ref).out, /^PATH\s+SIZE/m);
    assert.equal(basalt('assets', 'rm', p.ref, 'assets/index-8f3a2b1c.js').code, 0);
    assert.deepEqual(JSON.parse(basalt('assets', 'list', p.ref, '--json').out).map((f: { path: string }) => f.path), ['index.html']);
    assert.equal(basalt('assets', 'deploy', p.ref, join(dist, 'nope')).code, 1);
  } finally {
    basalt('projects', 'delete', p.ref, '--yes');
    rmSync(dist, { recursive: true, force: true });
  }
});
