// Email action links are written as GoTrue's getPath writes them (encodeRedirectURL).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { actionLinkQuery } from './mailer.js';

test('redirect_to is left as given unless it holds &, = or #', () => {
  assert.equal(actionLinkQuery('abc', 'signup', 'http://localhost:3000/welcome'), 'token=abc&type=signup&redirect_to=http://localhost:3000/welcome');
  assert.equal(actionLinkQuery('abc', 'magiclink', 'http://app.test/cb?next=/home&x=1'), 'token=abc&type=magiclink&redirect_to=http%3A%2F%2Fapp.test%2Fcb%3Fnext%3D%2Fhome%26x%3D1');
  assert.equal(actionLinkQuery('abc', 'recovery', 'http://app.test/a b#top'), 'token=abc&type=recovery&redirect_to=http%3A%2F%2Fapp.test%2Fa+b%23top');
  assert.equal(actionLinkQuery('pkce_0f', 'signup', 'myapp://done'), 'token=pkce_0f&type=signup&redirect_to=myapp://done');
  // the link still parses back to the same redirect
  const q = new URLSearchParams(actionLinkQuery('abc', 'signup', 'http://app.test/cb?next=/home&x=1'));
  assert.equal(q.get('redirect_to'), 'http://app.test/cb?next=/home&x=1');
});
