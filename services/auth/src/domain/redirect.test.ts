// redirect_to validation, case by case as GoTrue's IsRedirectURLValid answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globToRegExp, isRedirectValid } from './redirect.js';

const site = 'https://app.example.com';
const allow = ['http://localhost:3000/**', 'https://*.preview.example.com/**', 'myapp://callback', 'https://example.org/auth/{login,signup}'];

test('redirects GoTrue accepts', () => {
  for (const url of [
    'https://app.example.com/welcome?x=1',
    'https://app.example.com:443/x',
    'http://localhost:3000/dashboard',
    'http://localhost:3000/a/b/c#frag',
    'https://pr-12.preview.example.com/page',
    'myapp://callback',
    'https://example.org/auth/login',
    'http://127.0.0.1:54321/callback', // a loopback IP, any port
    'http://[::1]:8080/cb',
  ]) assert.equal(isRedirectValid(site, allow, url), true, url);
});

test('redirects GoTrue refuses', () => {
  for (const url of [
    '',
    'https://evil.example.net/',
    'http://app.example.com/x', // another scheme than the site
    'https://app.example.com:8443/x', // another port, not loopback
    'https://a.b.preview.example.com/page', // `*` stops at a dot
    'http://localhost:4000/x', // not the allow-listed port
    'http://2130706433/', // a decimal IP
    'http://10.0.0.1/',
    ' https://app.example.com/', // a control character or space
    'https://app.example.com\t/',
    'https://user:pw@app.example.com/',
    'https://ex_ample.com/', // not a regular host name
    'myapp://callback/other',
    'https://example.org/auth/logout',
  ]) assert.equal(isRedirectValid(site, allow, url), false, url);
});

test('loopback sites accept any port (RFC 8252 §7.3)', () => {
  assert.equal(isRedirectValid('http://localhost:3000', [], 'http://localhost:5173/cb'), true);
  assert.equal(isRedirectValid('http://localhost:3000', [], 'https://localhost:5173/cb'), false);
});

test('globs: separators, classes, alternatives, escapes', () => {
  assert.equal(globToRegExp('https://*.x.com').test('https://a.x.com'), true);
  assert.equal(globToRegExp('https://*.x.com').test('https://a.b.x.com'), false);
  assert.equal(globToRegExp('https://**.x.com').test('https://a.b.x.com'), true);
  assert.equal(globToRegExp('https://x.com/p?').test('https://x.com/p1'), true);
  assert.equal(globToRegExp('https://x.com/[ab]').test('https://x.com/b'), true);
  assert.equal(globToRegExp('https://x.com/[!ab]').test('https://x.com/b'), false);
  assert.equal(globToRegExp('https://x.com/\\*').test('https://x.com/*'), true);
  assert.equal(globToRegExp('https://x.com/\\*').test('https://x.com/a'), false);
});
