// PATCH /platform/v1/projects/{ref} checks settings against their one schema: an unknown or mistyped key, at the
// top or nested, is a 400 in the platform's shape that names it, and nothing of the request is written.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createProject, platform, testEnv, type TestProject } from '@basalt/testkit';

const env = testEnv();
let p: TestProject;

async function stored(ref: string): Promise<{ name: string; settings: Record<string, unknown> }> {
  const c = new pg.Client({ connectionString: env.databaseUrl });
  await c.connect();
  try {
    return (await c.query('select name, settings from platform.projects where ref = $1', [ref])).rows[0];
  } finally {
    await c.end();
  }
}

const patch = (body: unknown) =>
  fetch(`${env.gatewayUrl}/platform/v1/projects/${p.ref}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${env.platformToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

before(async () => {
  p = await createProject('settings');
  await platform(`/projects/${p.ref}`, {
    method: 'PATCH',
    json: { settings: { rate_limit_rps: 500, auth: { email_confirm_required: true, smtp: { host: 'smtp.app.test', pass: 'pw-1', admin_email: 'no@app.test' } } } },
  });
});

// Each refused body also carries a valid rename and a valid setting, to show that none of it is applied.
const refused: { name: string; settings: Record<string, unknown>; names: RegExp }[] = [
  { name: 'unknown top-level key', settings: { rate_limit: 5 }, names: /settings: .*'rate_limit'/ },
  { name: 'unknown nested key', settings: { cors: { allowed_origin: ['https://a.test'] } }, names: /settings\.cors: .*'allowed_origin'/ },
  { name: 'unknown key two levels down', settings: { auth: { smtp: { host: 'h', admin_email: 'a@b.test', password: 'x' } } }, names: /settings\.auth\.smtp: .*'password'/ },
  { name: 'unknown OAuth provider', settings: { auth: { external: { gitlab: { client_id: 'c', secret: 's' } } } }, names: /settings\.auth\.external: .*'gitlab'/ },
  { name: 'wrong type at the top', settings: { rate_limit_rps: '5' }, names: /settings\.rate_limit_rps: Expected number, received string/ },
  { name: 'wrong type nested', settings: { functions: { function_rps: true } }, names: /settings\.functions\.function_rps: Expected number/ },
  { name: 'wrong type in a list', settings: { rest: { schemas: ['public', 7] } }, names: /settings\.rest\.schemas\.1: Expected string/ },
  { name: 'out of range', settings: { auth: { jwt_exp: 5 } }, names: /settings\.auth\.jwt_exp: Number must be greater than or equal to 30/ },
];

for (const c of refused) {
  test(`settings: ${c.name} → 400 naming the key, nothing written`, async () => {
    const before = await stored(p.ref);
    const r = await patch({ name: 'renamed', settings: { functions: { rps: 9 }, ...c.settings } });
    const body = (await r.json()) as { code: string; message: string; details: unknown[] };
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(body.code, 'validation_failed');
    assert.match(body.message, c.names);
    assert.ok(Array.isArray(body.details) && body.details.length > 0, 'the zod issues travel as details');
    assert.deepEqual(await stored(p.ref), before);
  });
}

test('settings: a valid patch is merged per top-level key; the secret stays sealed and is shown redacted', async () => {
  const got = await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { settings: { cors: { allowed_origins: ['https://app.test', 'null'] } } } });
  assert.deepEqual(got.settings.cors, { allowed_origins: ['https://app.test', 'null'] });
  assert.equal(got.settings.rate_limit_rps, 500);
  assert.equal(got.settings.auth.smtp.pass, '********');
  const row = await stored(p.ref);
  assert.match(String((row.settings.auth as { smtp: { pass: string } }).smtp.pass), /^sealed:/);
  assert.equal(row.name, 'settings');
});
