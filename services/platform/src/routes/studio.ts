// Studio, the web admin: static files from services/platform/studio and the ES modules it imports (Preact, htm)
// from node_modules under /studio/vendor/. No build step: the browser loads the modules through an import map.
//   GET /studio            index.html (import map inlined, allowed by its hash in the CSP)
//   GET /studio/*          the app's own modules, styles and the vendored modules
// Only files listed at start-up are served, so no request path ever reaches the filesystem.
import { readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { errors } from '@basalt/errors';
import { defineRoute } from '@basalt/http';

const STUDIO_DIR = fileURLToPath(new URL('../../studio/', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml',
};
/** the vendored modules the import map names, by their URL under /studio: the packages' own ESM builds, as
 * file-relative URLs so that `npm run build` copies them beside the bundle */
const VENDOR: Record<string, URL> = {
  'vendor/preact.mjs': new URL('../../node_modules/preact/dist/preact.mjs', import.meta.url),
  'vendor/preact-hooks.mjs': new URL('../../node_modules/preact/hooks/dist/hooks.mjs', import.meta.url),
  'vendor/htm.mjs': new URL('../../node_modules/htm/dist/htm.mjs', import.meta.url),
};
const IMPORT_MAP = JSON.stringify({
  imports: { preact: '/studio/vendor/preact.mjs', 'preact/hooks': '/studio/vendor/preact-hooks.mjs', htm: '/studio/vendor/htm.mjs' },
});

interface Asset { body: Buffer; type: string }

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Every file Studio serves, read once: the app's files and the three vendored modules. */
export function loadStudio(dir = STUDIO_DIR) {
  const files = new Map<string, Asset>();
  for (const file of listFiles(dir)) {
    const type = TYPES[extname(file)];
    if (type) files.set(relative(dir, file).split(sep).join('/'), { body: readFileSync(file), type });
  }
  for (const [url, file] of Object.entries(VENDOR)) files.set(url, { body: readFileSync(file), type: TYPES['.mjs'] });
  const importMapTag = `<script type="importmap">${IMPORT_MAP}</script>`;
  const index = files.get('index.html')!.body.toString('utf8').replace('<!-- importmap -->', importMapTag);
  const hash = createHash('sha256').update(IMPORT_MAP).digest('base64');
  // The studio holds a platform token: nothing but its own origin may run script or be reached from it.
  const csp = [
    "default-src 'self'", `script-src 'self' 'sha256-${hash}'`, "style-src 'self'", "img-src 'self' blob: data:",
    "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'", "object-src 'none'",
  ].join('; ');
  files.set('index.html', { body: Buffer.from(index), type: TYPES['.html'] });
  return { files, csp };
}

const Path = z.object({ '*': z.string() });

export function studioRoutes(studio = loadStudio()) {
  const send = (path: string) => {
    const asset = studio.files.get(path);
    if (!asset) throw errors.notFound(`studio file ${path}`);
    return asset;
  };
  const headers = { 'content-security-policy': studio.csp, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-cache' };
  return [
    defineRoute({
      method: 'GET', url: '/studio',
      handler: (_req, reply) => reply.headers(headers).type(TYPES['.html']).send(send('index.html').body),
    }),
    defineRoute({
      method: 'GET', url: '/studio/*', schema: { params: Path },
      handler: (req, reply) => {
        // unknown paths without an extension are the app's own routes: answer the page
        const path = req.params['*'] === '' || !extname(req.params['*']) ? 'index.html' : req.params['*'];
        const asset = send(path);
        return reply.headers(headers).type(asset.type).send(asset.body);
      },
    }),
  ];
}
