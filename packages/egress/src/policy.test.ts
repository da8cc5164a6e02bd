// The policy's decisions without any connection: odd IPv4 spellings, metadata names, names resolving to
// loopback, and the operator allow list (host, host:port, CIDR) with its parse errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EgressError, egressPolicy, resolveAllowed } from './index.js';
import { canonicalHost } from './policy.js';

const none = egressPolicy();
const refused = (host: string, port = 80, policy = none) =>
  resolveAllowed(host, port, policy).then(
    (r) => `allowed ${r.address}`,
    (e: unknown) => (e instanceof EgressError && e.code === 'egress_blocked' && e.status === 403 ? 'refused' : `threw ${String(e)}`),
  );

test('odd IPv4 literals are normalised as WHATWG URL does, then judged as the address they are', async () => {
  const spellings: [string, string][] = [
    ['2130706433', '127.0.0.1'], ['0x7f.1', '127.0.0.1'], ['017700000001', '127.0.0.1'], ['0x7f000001', '127.0.0.1'],
    ['127.1', '127.0.0.1'], ['0177.0.0.1', '127.0.0.1'], ['167772161', '10.0.0.1'], ['0xa9.0xfe.0xa9.0xfe', '169.254.169.254'],
    ['[::ffff:127.0.0.1]', '::ffff:7f00:1'], ['::FFFF:7F00:1', '::ffff:7f00:1'], ['LOCALHOST.', 'localhost'], ['Metadata.Google.Internal.', 'metadata.google.internal'],
  ];
  for (const [given, canonical] of spellings) {
    assert.equal(canonicalHost(given), canonical, given);
    assert.equal(await refused(given), 'refused', given);
  }
  assert.throws(() => canonicalHost('exa mple.com'), EgressError);
  assert.throws(() => canonicalHost('0x100000000'), EgressError, 'an IPv4 number out of range is no host');
});

test('blocked whatever the name: loopback names, metadata names, unresolvable names', async () => {
  for (const host of ['localhost', 'metadata.google.internal', 'metadata.goog', 'metadata', 'nothing-here.invalid', '[::1]', '0.0.0.0']) {
    assert.equal(await refused(host), 'refused', host);
  }
});

test('a public address literal resolves to itself without a DNS query', async () => {
  assert.deepEqual(await resolveAllowed('8.8.8.8', 443, none), { address: '8.8.8.8', family: 4 });
  assert.deepEqual(await resolveAllowed('[2606:4700:4700::1111]', 443, none), { address: '2606:4700:4700::1111', family: 6 });
});

test('the operator allow list: host:port pins the port, a bare host or CIDR allows every port', async () => {
  const policy = egressPolicy(' 127.0.0.1:11434 , 10.20.0.0/16,localhost:8080, [::1]:9000, fd00:1::/32 ,169.254.169.254:80,,');
  assert.equal(await refused('127.0.0.1', 11434, policy), 'allowed 127.0.0.1');
  assert.equal(await refused('2130706433', 11434, policy), 'allowed 127.0.0.1', 'the entry matches the address, however spelled');
  assert.equal(await refused('127.0.0.1', 11435, policy), 'refused');
  assert.equal(await refused('10.20.3.4', 5432, policy), 'allowed 10.20.3.4');
  assert.equal(await refused('10.21.0.1', 5432, policy), 'refused');
  assert.equal(await refused('localhost', 8080, policy), 'allowed 127.0.0.1');
  assert.equal(await refused('localhost', 8081, policy), 'refused');
  assert.equal(await refused('::1', 9000, policy), 'allowed ::1');
  assert.equal(await refused('::1', 9001, policy), 'refused');
  assert.equal(await refused('fd00:1:2::3', 1, policy), 'allowed fd00:1:2::3');
  assert.equal(await refused('169.254.169.254', 80, policy), 'allowed 169.254.169.254', 'an operator may allow anything explicitly');
  assert.equal(await refused('169.254.169.254', 8080, policy), 'refused');
  assert.equal(await refused('192.168.0.1', 80, policy), 'refused');
  assert.equal((await resolveAllowed('127.0.0.1', 1, none, true)).address, '127.0.0.1', 'a trusted origin skips the checks');
});

test('a malformed allow list fails loudly, naming the entry', () => {
  assert.deepEqual(egressPolicy(''), { hosts: [], ranges: [] });
  assert.deepEqual(egressPolicy('Example.COM.:443').hosts, [{ host: 'example.com', port: 443 }]);
  for (const bad of ['10.0.0.0/33', 'host:0', 'host:70000', 'host:http', 'a:b:c', 'exa mple.com', 'example.com/8', '[::1']) {
    assert.throws(() => egressPolicy(`8.8.8.8, ${bad}`), (e: Error) => e.message.startsWith('BASALT_EGRESS_ALLOW:') && e.message.includes(bad), bad);
  }
});
