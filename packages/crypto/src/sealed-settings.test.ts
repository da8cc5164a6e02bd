import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { redactSecrets, REDACTED, SecretBox, sealSecrets, unsealSecrets } from './index.js';

const box = new SecretBox(randomBytes(32).toString('hex'));
const settings = {
  rate_limit_rps: 10,
  auth: { smtp: { host: 'mail', user: 'u', pass: 'p@ss' }, external: { github: { client_id: 'id', secret: 'gh#secret' } }, site_url: 'x' },
  list: [{ api_key: 'key#1' }],
  functions: { target: { kind: 'cloudflare', account_id: 'acc', api_token: 'cf#token' } },
};

test('secrets are sealed by field name anywhere, opened again, and redacted for reading', () => {
  const sealed = sealSecrets(settings, box);
  const text = JSON.stringify(sealed);
  // each secret holds a character no ciphertext (base64url) has, so finding it means it is in the clear
  for (const s of ['p@ss', 'gh#secret', 'key#1', 'cf#token']) assert.ok(!text.includes(s), `${s} is stored in the clear`);
  assert.equal(sealed.auth.smtp.host, 'mail');
  assert.equal(sealed.auth.external.github.client_id, 'id');
  assert.deepEqual(unsealSecrets(sealed, box), settings);
  assert.deepEqual(sealSecrets(sealed, box), sealed, 'sealing is idempotent');
  const shown = redactSecrets(sealed);
  assert.equal(shown.auth.smtp.pass, REDACTED);
  assert.equal(shown.list[0].api_key, REDACTED);
  assert.equal(shown.functions.target.api_token, REDACTED);
  assert.equal(shown.functions.target.account_id, 'acc');
  assert.equal(shown.auth.smtp.user, 'u');
});

test('writing back a redacted value keeps the stored secret; a value sealed with another key is dropped', () => {
  const stored = sealSecrets(settings, box);
  const edited = sealSecrets({ smtp: { host: 'mail2', user: 'u', pass: REDACTED } }, box, stored.auth);
  assert.equal(unsealSecrets(edited, box).smtp.pass, 'p@ss');
  assert.equal(sealSecrets({ smtp: { pass: REDACTED } }, box, {}).smtp.pass, undefined);
  const other = new SecretBox(randomBytes(32).toString('hex'));
  assert.equal(unsealSecrets(stored, other).auth.smtp.pass, undefined);
});
