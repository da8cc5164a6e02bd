// `basalt functions serve`: every function of a folder on one local port, at /functions/v1/<slug> (and /<slug>),
// bundled with esbuild as the deploy does and run in this Node process with the same Request/Response API
// (workerd is the functions service's runtime; a dev loop here needs no fleet). A file change drops the cached
// bundles, so the next request runs the new code.
import { mkdtempSync, readFileSync, rmSync, statSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { installDenoShim, loadHandler, setEnv, type Handler } from './deno-shim.js';
import { entryOf } from './entry.js';
import { bundleFunction, BundleError } from './local-bundle.js';

export interface ServeOptions {
  root: string;
  port: number;
  host: string;
  /** KEY=value lines; re-read on every reload */
  envFile?: string;
  /** values every function sees besides the env file (SUPABASE_URL, … of a linked project) */
  baseEnv: Record<string, string>;
  watch: boolean;
  log: (line: string) => void;
}

export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(raw);
    if (!m || raw.trim().startsWith('#')) continue;
    out[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  return out;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

export async function serveFunctions(o: ServeOptions): Promise<{ server: Server; url: string; stop: () => Promise<void> }> {
  installDenoShim();
  const bundles = mkdtempSync(join(tmpdir(), 'basalt-serve-'));
  const cache = new Map<string, Promise<Handler | null>>();
  let generation = 0;
  let changed = false;

  const readEnv = () => {
    let fromFile: Record<string, string> = {};
    if (o.envFile && statSync(o.envFile, { throwIfNoEntry: false })?.isFile()) fromFile = parseEnvFile(readFileSync(o.envFile, 'utf8'));
    setEnv({ ...o.baseEnv, ...fromFile });
  };
  readEnv();

  const load = (slug: string): Promise<Handler | null> => {
    let p = cache.get(slug);
    if (!p) {
      p = (async () => {
        readEnv();
        const code = await bundleFunction(join(o.root, slug));
        const file = join(bundles, `${slug}.${++generation}.mjs`); // a new URL, so import() runs the new code
        writeFileSync(file, code);
        const handler = await loadHandler(() => import(pathToFileURL(file).href));
        if (changed) o.log(`↻ reloaded ${slug}`);
        return handler;
      })();
      p.catch(() => cache.delete(slug)); // a broken build is retried on the next request
      cache.set(slug, p);
    }
    return p;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    const m = /^(?:\/functions\/v1)?\/([A-Za-z0-9_-]+)(\/.*)?$/.exec(url.pathname);
    const slug = m?.[1];
    if (!slug || !entryOf(join(o.root, slug))) {
      return json(res, 404, { code: 'not_found', message: `no function "${slug ?? ''}" in ${o.root} (a folder with index.ts)` });
    }
    let handler: Handler | null;
    try {
      handler = await load(slug);
    } catch (e) {
      o.log(`✖ ${slug}: ${(e as Error).message}`);
      return json(res, 500, { code: e instanceof BundleError ? 'bundle_error' : 'load_error', message: (e as Error).message });
    }
    if (!handler) return json(res, 500, { code: 'no_handler', message: 'The function neither exports a fetch handler nor calls Deno.serve' });
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const request = new Request(url, {
      method: req.method, headers: req.headers as Record<string, string>,
      body: hasBody ? (Readable.toWeb(req) as ReadableStream) : undefined, ...(hasBody ? { duplex: 'half' } : {}),
    } as RequestInit);
    let response: Response;
    try {
      response = await handler(request);
      if (!(response instanceof Response)) throw new Error('The handler did not return a Response');
    } catch (e) {
      o.log(`✖ ${slug}: ${(e as Error).stack ?? e}`);
      return json(res, 500, { code: 'function_error', message: String((e as Error)?.message ?? e) });
    }
    o.log(`${req.method} /functions/v1/${slug}${m?.[2] ?? ''} → ${response.status}`);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (!response.body) return res.end();
    Readable.fromWeb(response.body as import('node:stream/web').ReadableStream).on('error', () => res.destroy()).pipe(res);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) json(res, 500, { code: 'internal', message: String(e) });
      else res.destroy();
    });
  });
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(o.port, o.host, () => ok()));
  const port = (server.address() as AddressInfo).port;

  let watcher: FSWatcher | undefined;
  if (o.watch) {
    let timer: NodeJS.Timeout | undefined;
    const root = resolve(o.root);
    watcher = watch(root, { recursive: true }, (_event, name) => {
      if (name && name.split(sep).some((part) => part === 'node_modules')) return;
      clearTimeout(timer);
      // several events arrive for one save; the cache is dropped once they settle
      timer = setTimeout(() => {
        changed = true;
        cache.clear();
        readEnv();
      }, 50);
    });
  }

  return {
    server,
    url: `http://${o.host === '0.0.0.0' ? '127.0.0.1' : o.host}:${port}`,
    stop: async () => {
      watcher?.close();
      const closed = new Promise<void>((ok) => server.close(() => ok()));
      server.closeAllConnections();
      await closed;
      rmSync(bundles, { recursive: true, force: true });
    },
  };
}
