// The minimal upstream every gateway bench proxies to: a node:http server answering each request with the same
// 38-byte JSON body and a content-length, in a process of its own on a free port.
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '@basalt/fleet';

export async function startOrigin(): Promise<{ port: number; process: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-e', `
  require('http').createServer((req, res) => {
    const body = '{"id":1,"title":"hello","done":false}';
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }).listen(${port}, '127.0.0.1');`], { stdio: 'inherit' });
  return { port, process: child };
}
