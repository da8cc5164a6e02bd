// What the images run: `npm run build` bundles every service into <outdir>/<name>.mjs, and those bundles start
// with plain `node` (no tsx), find their migrations and third-party packages, and serve. The built scheduler and
// gateway join the running test fleet; a platform request goes through the built gateway to the fleet's platform.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ROOT, SERVICES, waitForHealth } from '@basalt/fleet';
import { testEnv } from '@basalt/testkit';

const env = testEnv();
// a directory of its own: another checkout's run (or `npm run build`) may be writing dist/ right now
const outdir = mkdtempSync(join(tmpdir(), 'basalt-build-'));
const built = SERVICES.filter((s) => existsSync(join(ROOT, s.entry)));
const running: { child: ChildProcess; output: () => string }[] = [];

before(() => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'infra/build/build.ts'), '--outdir', outdir], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `build failed:\n${r.stdout}${r.stderr}`);
  assert.doesNotMatch(r.stderr, /warning/, r.stderr);
});

after(async () => {
  await Promise.all(running.map(({ child }) => new Promise<void>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  })));
  rmSync(outdir, { recursive: true, force: true });
});

/** Starts a bundle the way the image does: plain node, nothing preloaded, on a free port. */
async function boot(name: string): Promise<string> {
  const port = await freePort();
  const { NODE_OPTIONS: _, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--enable-source-maps', join(outdir, `${name}.mjs`)], {
    cwd: outdir,
    env: { ...inherited, ...env.fleetEnv, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  running.push({ child, output: () => output });
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(url, 30_000, child).catch((e) => assert.fail(`${name}.mjs: ${e.message}\n${output.slice(-3000)}`));
  return url;
}

test('every service is bundled with its source map, its migrations beside it and its packages linked', () => {
  for (const s of built) {
    const code = readFileSync(join(outdir, `${s.name}.mjs`), 'utf8');
    assert.ok(existsSync(join(outdir, `${s.name}.mjs.map`)), `${s.name}.mjs.map`);
    assert.doesNotMatch(code, /from ["']@basalt\//, `${s.name}.mjs compiles our packages in`);
    for (const m of code.matchAll(/new URL\("(\.\.\/[^"]+)", new URL\("\.\/([^"]+)", import\.meta\.url\)/g)) {
      const target = new URL(m[1], new URL(m[2], `file://${outdir}/`));
      assert.ok(existsSync(target), `${s.name}.mjs opens ${m[1]} beside ${m[2]}: missing in the build`);
    }
  }
  assert.ok(readdirSync(join(outdir, 'packages/tenant-schema/migrations')).some((f) => f.endsWith('.sql')));
  const modules = join(outdir, 'node_modules');
  const linked = readdirSync(modules).flatMap((n) => (n.startsWith('@') ? readdirSync(join(modules, n)).map((m) => `${n}/${m}`) : [n]));
  for (const name of ['pg', 'ioredis', 'fastify']) assert.ok(linked.includes(name), `${name} is linked`);
  for (const name of linked) assert.ok(statSync(join(modules, name), { throwIfNoEntry: false })?.isDirectory(), `${name} resolves`);
});

test('the built scheduler and gateway start with plain node; a platform request goes through the built gateway', async () => {
  const scheduler = await boot('scheduler');
  assert.equal((await fetch(`${scheduler}/health`)).status, 200);
  const gateway = await boot('gateway');
  const r = await fetch(`${gateway}/platform/v1/projects`, { headers: { authorization: `Bearer ${env.platformToken}` } });
  const body = await r.text();
  assert.equal(r.status, 200, body);
  assert.ok(Array.isArray(JSON.parse(body)), body);
  const refused = await fetch(`${gateway}/platform/v1/projects`, { headers: { authorization: 'Bearer bsp_not-a-token' } });
  assert.equal(refused.status, 401);
});
