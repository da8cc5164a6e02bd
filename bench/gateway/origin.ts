// The minimal upstream every gateway bench proxies to (a node:http server answering each request with the same
// 38-byte JSON body and a content-length, in a process of its own on a free port), and the gateway in front of it.
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '@basalt/fleet';
import { benchFleet, type BenchFleet } from '../lib.js';

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

export interface GatewayInFront {
  bench: BenchFleet;
  /** a read of the origin through the gateway, for one project, with the headers it needs */
  url: string;
  headers: Record<string, string>;
  /** the gateway's process (its workers are its children) */
  pid: number;
}

/**
 * The gateway as `npm start` runs it (its defaults; ACCESS_LOG or GATEWAY_WORKERS from the environment if set), from
 * its sources or from a built `bundle` (run by the `node` binary given, else this process's), with the platform
 * beside it and one project whose rate limit is out of the way; the origin's API is routed as documents'
 * (/mongo/v1). Stops what it started if the set-up fails.
 */
export async function gatewayInFront(name: string, originPort: number, bundle?: string, node?: string): Promise<GatewayInFront> {
  const bench = await benchFleet(name, ['platform', 'gateway'], { DOCUMENTS_URL: `http://127.0.0.1:${originPort}` }, { ...(bundle ? { bundles: { gateway: bundle } } : {}), node });
  try {
    const project = await bench.platform<{ ref: string; anon_key: string }>('/projects', { name: 'bench' });
    await bench.platform(`/projects/${project.ref}`, { settings: { rate_limit_rps: 1_000_000 } }, 'PATCH');
    const url = `${bench.fleet.gatewayUrl}/project/${project.ref}/mongo/v1/todos`;
    return { bench, url, headers: { apikey: project.anon_key }, pid: bench.fleet.processes.get('gateway')!.pid! };
  } catch (e) {
    await bench.stop();
    throw e;
  }
}
