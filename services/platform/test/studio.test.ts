// The studio route on its own: the page with its import map allowed by hash in the CSP, the app's modules and the
// vendored Preact/htm, the page again for app paths without an extension, and 404s for anything not listed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createLogger, createService, errorShapes, registerRoutes } from '@basalt/http';
import { studioRoutes } from '../src/routes/studio.js';

const service = createService({ name: 'platform', log: createLogger('platform', 'silent'), errorShape: errorShapes.basalt, ready: async () => undefined });
registerRoutes(service.app, studioRoutes());
const get = (url: string) => service.app.inject({ method: 'GET', url });

test('GET /studio is the page: its inline import map is the only inline script the CSP allows', async () => {
  const r = await get('/studio');
  assert.equal(r.statusCode, 200);
  assert.match(r.headers['content-type'] as string, /^text\/html/);
  const map = /<script type="importmap">(.*?)<\/script>/.exec(r.body)?.[1];
  assert.ok(map, 'the import map is inlined');
  assert.deepEqual(Object.keys(JSON.parse(map).imports).sort(), ['htm', 'preact', 'preact/hooks']);
  const csp = r.headers['content-security-policy'] as string;
  assert.match(csp, new RegExp(`script-src 'self' 'sha256-${createHash('sha256').update(map).digest('base64').replace(/[+/]/g, '\\$&')}'`));
  assert.match(csp, /connect-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
});

test('the app modules and the vendored ones are served as JavaScript; app paths get the page', async () => {
  for (const path of ['/studio/app.js', '/studio/lib/api.js', '/studio/pages/tables.js', '/studio/vendor/preact.mjs', '/studio/vendor/preact-hooks.mjs', '/studio/vendor/htm.mjs']) {
    const r = await get(path);
    assert.equal(r.statusCode, 200, path);
    assert.match(r.headers['content-type'] as string, /^text\/javascript/, path);
  }
  assert.match((await get('/studio/studio.css')).headers['content-type'] as string, /^text\/css/);
  assert.match((await get('/studio/projects')).body, /<div id="app">/);
});

test('nothing else is served: unknown files, traversal and source files are 404 in the platform error shape', async () => {
  for (const path of ['/studio/nope.js', '/studio/../src/main.ts', '/studio/%2e%2e/src/main.ts', '/studio/vendor/../../package.json', '/studio/vendor/preact.mjs.map']) {
    const r = await get(path);
    assert.equal(r.statusCode, 404, path);
    assert.equal(r.json().code, 'not_found', path);
  }
});
