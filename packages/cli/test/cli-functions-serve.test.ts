// `basalt functions serve` through the binary: every function of functions/ on a local port, Deno.env from
// functions/.env, the deploy's import rules, and a reload when a file changes. No fleet needed.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@basalt/testkit';
import { BIN, basaltIn } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'basalt-cli-serve-'));
let child: ChildProcess | undefined;
after(() => {
  // the binary and the CLI process it starts share a process group of their own (detached)
  if (child?.pid && child.exitCode === null) process.kill(-child.pid, 'SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `basalt functions serve --port 0 --json` and resolves with the URL of its first stdout line. */
function serve(): Promise<string> {
  child = spawn(process.execPath, [BIN, 'functions', 'serve', '--port', '0', '--json'], { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (c) => (err += c));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in 60 s: ${err}`)), 60_000);
    child!.stdout!.on('data', (c) => {
      out += c;
      const line = out.split('\n')[0];
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(JSON.parse(line).functions_url);
      }
    });
    child!.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
}

const post = async (url: string, body: unknown) => {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Record<string, any> };
};

test('serve runs the folder\'s functions, reloads on change, and reports bundle errors', async () => {
  assert.equal(basaltIn(dir, 'functions', 'serve', '--port', 'x').code, 2, 'a bad port is a usage error');
  assert.equal(basaltIn(dir, 'functions', 'serve', '--port', '0').code, 1, 'no functions/ folder');
  assert.equal(basaltIn(dir, 'functions', 'new', 'greet').code, 0);
  mkdirSync(join(dir, 'functions/echo'));
  writeFileSync(join(dir, 'functions/echo/index.ts'), 'export default { fetch: (req: Request) => new Response(new URL(req.url).pathname) };');
  writeFileSync(join(dir, 'functions/.env'), 'GREETING=Howdy\n');
  writeFileSync(join(dir, 'functions/greet/index.ts'),
    "import { word } from './words.ts';\nDeno.serve(async (req) => Response.json({ message: `${word()} ${(await req.json()).name}!` }));");
  writeFileSync(join(dir, 'functions/greet/words.ts'), "export const word = (): string => Deno.env.get('GREETING') ?? 'Hello';");

  const base = await serve();
  assert.deepEqual(await post(`${base}/greet`, { name: 'cli' }), { status: 200, body: { message: 'Howdy cli!' } });
  assert.equal(await (await fetch(`${base}/echo/a/b`)).text(), '/functions/v1/echo/a/b');
  const missing = await fetch(`${base}/nope`);
  assert.equal(missing.status, 404);
  assert.match(((await missing.json()) as { message: string }).message, /no function "nope"/);

  writeFileSync(join(dir, 'functions/greet/words.ts'), "export const word = (): string => 'Yo';");
  await eventually(async () => (await post(`${base}/greet`, { name: 'cli' })).body.message === 'Yo cli!', 60_000, 200);

  writeFileSync(join(dir, 'functions/greet/words.ts'), "import _ from 'lodash';\nexport const word = (): string => String(_);");
  const broken = await eventually(async () => {
    const r = await post(`${base}/greet`, { name: 'cli' });
    return r.status === 500 ? r.body : null;
  }, 60_000, 200);
  assert.equal(broken!.code, 'bundle_error');
  assert.match(broken!.message, /cannot resolve "lodash"/);

  writeFileSync(join(dir, 'functions/greet/words.ts'), "export const word = (): string => { throw new Error('boom'); };");
  const thrown = await eventually(async () => {
    const r = await post(`${base}/greet`, { name: 'cli' });
    return r.body.code === 'function_error' ? r : null;
  }, 60_000, 200);
  assert.deepEqual(thrown, { status: 500, body: { code: 'function_error', message: 'boom' } });
});
