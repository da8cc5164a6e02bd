// login: the user's config file (mode 0600), used by later commands; env and flags override it; logout.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProject, testEnv, type TestProject } from '@basalt/testkit';
import { basaltWith } from './run-cli.js';

const env = testEnv();
const home = mkdtempSync(join(tmpdir(), 'basalt-cli-home-'));
const work = mkdtempSync(join(tmpdir(), 'basalt-cli-work-'));
/** a user with no BASALT_* variables and a config folder of their own */
const user = (extra: Record<string, string | undefined> = {}) => ({
  cwd: work, env: { XDG_CONFIG_HOME: home, BASALT_URL: undefined, BASALT_TOKEN: undefined, ...extra },
});
const configFile = join(home, 'basalt', 'config.json');
let project: TestProject;

before(async () => {
  project = await createProject('cli login');
});
after(async () => {
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

test('login checks the token, saves it mode 0600, and later commands use it; env and flags override it', () => {
  const refused = basaltWith(user(), 'login', '--url', env.gatewayUrl, '--token', 'bsp_notarealtokennotarealtoken');
  assert.equal(refused.code, 1, refused.err);
  assert.match(refused.err, /refused the token/);
  assert.equal(existsSync(configFile), false, 'a refused token is not saved');
  assert.equal(basaltWith(user(), 'login', '--url', env.gatewayUrl).code, 2, 'no token anywhere is a usage error');

  const ok = basaltWith({ ...user(), input: `${env.platformToken}\n` }, 'login', '--url', env.gatewayUrl, '--json');
  assert.equal(ok.code, 0, ok.err);
  assert.equal(JSON.parse(ok.out).config, configFile);
  assert.deepEqual(JSON.parse(readFileSync(configFile, 'utf8')), { url: env.gatewayUrl, token: env.platformToken });
  assert.equal(statSync(configFile).mode & 0o777, 0o600);

  const listed = basaltWith(user(), 'projects', 'list', '--json');
  assert.equal(listed.code, 0, listed.err);
  assert.ok(JSON.parse(listed.out).some((p: { ref: string }) => p.ref === project.ref));
  const envToken = basaltWith(user({ BASALT_TOKEN: 'bsp_wrongwrongwrongwrongwrong' }), 'projects', 'list');
  assert.equal(envToken.code, 1, 'BASALT_TOKEN overrides the saved token');
  assert.match(envToken.err, /401/);
  const envUrl = basaltWith(user({ BASALT_URL: 'http://127.0.0.1:9' }), 'projects', 'list');
  assert.equal(envUrl.code, 1);
  assert.match(envUrl.err, /cannot reach http:\/\/127\.0\.0\.1:9/);

  const out = basaltWith(user(), 'logout', '--json');
  assert.deepEqual(JSON.parse(out.out), { config: configFile, removed: true });
  assert.equal(existsSync(configFile), false);
});
