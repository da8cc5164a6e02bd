// serve(): a service started over an IPC channel (by the fleet's supervisor) drains and exits when that channel
// closes, as on SIGTERM; one started without a channel (a container's entry point) does not watch for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const serveUrl = new URL('./serve.ts', import.meta.url).href;
const loggerUrl = new URL('./logger.ts', import.meta.url).href;
// a raw handler that answers after `?ms`, so a request can be in flight when the parent goes
const service = `
  const { serve } = await import(${JSON.stringify(serveUrl)});
  const { createLogger } = await import(${JSON.stringify(loggerUrl)});
  const server = await serve((req, res) => {
    const ms = Number(new URL(req.url, 'http://x').searchParams.get('ms') ?? 0);
    setTimeout(() => res.end('done'), ms);
  }, { port: 0, host: '127.0.0.1', log: createLogger('serve-test', 'info'), onClose: async () => console.log('{"msg":"closed"}') });
  console.log(JSON.stringify({ port: server.address().port }));
`;

function start(ipc: boolean): { child: ChildProcess; port: Promise<number>; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', service], {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    stdio: ipc ? ['ignore', 'pipe', 'inherit', 'ipc'] : ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const port = new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (c) => {
      out += c;
      const m = /\{"port":(\d+)\}/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening:\n${out}`)));
  });
  return { child, port, output: () => out };
}

/** its exit code, or 'running' if it has not exited within 10 s */
const exited = (child: ChildProcess) => new Promise<number | null | 'running'>((r) => {
  if (child.exitCode !== null) return r(child.exitCode);
  child.once('exit', (code) => r(code));
  setTimeout(() => r('running'), 10_000).unref();
});

test('the channel to its parent closing drains the service: the request in flight is answered, then it exits 0', async (t) => {
  const { child, port, output } = start(true);
  t.after(() => child.kill('SIGKILL'));
  const url = `http://127.0.0.1:${await port}`;
  const inFlight = fetch(`${url}/?ms=300`).then((r) => r.text());
  await new Promise((r) => setTimeout(r, 100));
  child.disconnect(); // what the parent's death does to the channel
  assert.equal(await inFlight, 'done');
  assert.equal(await exited(child), 0);
  assert.match(output(), /"signal":"parent gone".*"msg":"draining"/s);
  assert.match(output(), /"msg":"closed"/);
});

test('a service without the channel keeps running', async (t) => {
  const { child, port } = start(false);
  t.after(() => child.kill('SIGKILL'));
  const url = `http://127.0.0.1:${await port}`;
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(child.exitCode, null);
  assert.equal(await fetch(url).then((r) => r.text()), 'done');
});
