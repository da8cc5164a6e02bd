// The settings schema accepts every document the services' tests and benches send today, and refuses keys
// that no service reads, wherever they sit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProjectSettings } from './settings.js';

const provider = { client_id: 'github-client', secret: 'github-secret', authorize_url: 'http://127.0.0.1:1/github/authorize', jwks_url: 'http://127.0.0.1:1/certs' };
const limit = { per_ip: 1e9, per_email: 1e9, window_seconds: 60 };

const accepted: Record<string, unknown>[] = [
  {},
  { rate_limit_rps: 1_000_000 },
  { cors: { allowed_origins: ['https://app.example', 'null'] } },
  { rest: { schemas: ['public', 'storage'] } },
  { functions: { function_rps: 3 } },
  { functions: { target: { kind: 'local' } } },
  { functions: { target: { kind: 'cloudflare', account_id: 'a1', namespace: 'prod', api_token: '********', dispatch_url: 'https://dispatch.example', api_url: 'http://127.0.0.77:1/client/v4' } } },
  { auth: { uri_allow_list: ['http://app.test/**'], manual_linking_enabled: true, external: { github: provider, google: { ...provider, enabled: false } } } },
  { auth: { refresh_token_reuse_interval: 0, email_confirm_required: true, anonymous_users: true } },
  { auth: { rate_limits: { signup: limit, token: limit, otp: limit, recover: limit, verify: limit, refresh: limit } } },
  {
    auth: {
      smtp: { host: '127.0.0.1', port: 2525, user: 'mailer', pass: '********', admin_email: 'noreply@app.test', sender_name: 'App' },
      templates: { signup: { subject: 'Welcome to App', body: '<p>Code {{ .Token }}</p>' } },
    },
  },
];

test('every settings document sent today is accepted as it is', () => {
  for (const s of accepted) assert.deepEqual(ProjectSettings.parse(s), s, JSON.stringify(s));
});

test('an unknown key is refused at any depth, with the path to it', () => {
  const cases: [Record<string, unknown>, (string | number)[], string][] = [
    [{ storage: {} }, [], 'storage'],
    [{ auth: { site_uri: 'http://a.test' } }, ['auth'], 'site_uri'],
    [{ auth: { templates: { welcome: { subject: 's', body: 'b' } } } }, ['auth', 'templates'], 'welcome'],
    [{ auth: { rate_limits: { signup: { ...limit, burst: 1 } } } }, ['auth', 'rate_limits', 'signup'], 'burst'],
  ];
  for (const [doc, path, key] of cases) {
    const r = ProjectSettings.safeParse(doc);
    assert.equal(r.success, false, JSON.stringify(doc));
    const issue = r.error!.issues[0] as { code: string; path: (string | number)[]; keys?: string[] };
    assert.equal(issue.code, 'unrecognized_keys');
    assert.deepEqual(issue.path, path);
    assert.deepEqual(issue.keys, [key]);
  }
});
