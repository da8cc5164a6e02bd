// Every project's site shares one origin on the path-style URL (/project/<ref>/assets/v1/), so there it runs
// sandboxed in an opaque origin: one project's script can never read another project's localStorage or cookies
// there. On its own origin (subdomain, custom domain) a site runs unsandboxed.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject, rawHttp, testEnv, type TestProject } from '@basalt/testkit';

const env = testEnv();
let p: TestProject;

before(async () => {
  p = await createProject('site-origins');
  const r = await fetch(`${p.url}/assets/admin/v1/upload`, {
    method: 'POST',
    headers: { apikey: p.serviceKey, authorization: `Bearer ${p.serviceKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ files: [{ path: 'index.html', content: '<script>localStorage.x = 1</script>', encoding: 'utf8' }] }),
  });
  assert.equal(r.status, 200, await r.text());
});

const sandboxOf = (headers: Record<string, string | string[] | undefined>) => {
  const csp = headers['content-security-policy'];
  return [csp].flat().filter(Boolean).join(', ');
};

test('on the shared path-style origin a site is sandboxed (opaque origin, scripts still run)', async () => {
  for (const path of [`/project/${p.ref}/assets/v1/index.html`, `/project/${p.ref}/assets/v1/`, `/project/${p.ref}/`]) {
    const r = await rawHttp(env.gatewayUrl, path);
    assert.equal(r.status, 200, path);
    const csp = sandboxOf(r.headers);
    assert.match(csp, /sandbox allow-scripts/, path);
    assert.doesNotMatch(csp, /allow-same-origin/, path);
  }
});

test('on its own subdomain the site has its own origin and is not sandboxed', async () => {
  const gw = new URL(env.gatewayUrl);
  const r = await rawHttp(env.gatewayUrl, '/', { headers: { host: `${p.ref}.localhost:${gw.port}` } });
  assert.equal(r.status, 200);
  assert.doesNotMatch(sandboxOf(r.headers), /sandbox/);
});
