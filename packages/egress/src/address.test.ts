// Which addresses are public: every special-purpose range refused, IPv6 forms that embed IPv4 judged by it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBlockedAddress } from './index.js';
import { inCidr, parseCidr, parseIp } from './address.js';

const BLOCKED: [string, string][] = [
  ['127.0.0.1', 'loopback'], ['127.255.255.254', 'loopback /8'], ['0.0.0.0', 'unspecified'], ['0.1.2.3', 'this network'],
  ['10.0.0.1', 'RFC 1918'], ['172.16.0.1', 'RFC 1918'], ['172.31.255.255', 'RFC 1918'], ['192.168.1.1', 'RFC 1918'],
  ['100.64.0.1', 'CGNAT'], ['100.127.255.255', 'CGNAT'], ['169.254.169.254', 'metadata'], ['169.254.1.1', 'link-local'],
  ['192.0.0.8', 'IETF'], ['192.0.2.1', 'TEST-NET-1'], ['198.51.100.7', 'TEST-NET-2'], ['203.0.113.9', 'TEST-NET-3'],
  ['198.18.0.1', 'benchmark'], ['198.19.255.255', 'benchmark'], ['192.88.99.1', '6to4 relay'],
  ['224.0.0.1', 'multicast'], ['239.255.255.250', 'multicast'], ['240.0.0.1', 'reserved'], ['255.255.255.255', 'broadcast'],
  ['::1', 'v6 loopback'], ['::', 'v6 unspecified'], ['0:0:0:0:0:0:0:1', 'v6 loopback, long form'],
  ['::ffff:127.0.0.1', 'mapped loopback'], ['::ffff:7f00:1', 'mapped loopback, hex'], ['::ffff:10.1.2.3', 'mapped private'],
  ['::ffff:169.254.169.254', 'mapped metadata'], ['::ffff:a9fe:a9fe', 'mapped metadata, hex'], ['0:0:0:0:0:ffff:7f00:0001', 'mapped, long form'],
  ['::127.0.0.1', 'IPv4-compatible'], ['::8.8.8.8', 'IPv4-compatible, even public'], ['::7f00:1', 'IPv4-compatible, hex'],
  ['64:ff9b::127.0.0.1', 'NAT64 of loopback'], ['64:ff9b::a00:1', 'NAT64 of 10.0.0.1'], ['64:ff9b:1::8.8.8.8', 'local-use NAT64'],
  ['2002:7f00:1::', '6to4 of loopback'], ['2002:a9fe:a9fe::1', '6to4 of metadata'], ['2002:c0a8:101:1::1', '6to4 of 192.168.1.1'],
  ['fc00::1', 'unique-local'], ['fd12:3456::1', 'unique-local'], ['fd00:ec2::254', 'EC2 metadata'],
  ['fe80::1', 'link-local'], ['fe80::1%eth0', 'link-local with zone'], ['febf::1', 'link-local /10 end'], ['fec0::1', 'site-local'],
  ['ff02::1', 'multicast'], ['ff0e::1', 'multicast global'], ['2001:db8::1', 'documentation'], ['3fff::1', 'documentation (RFC 9637)'],
  ['2001::1', 'Teredo'], ['2001:2::1', 'benchmark'], ['100::1', 'discard-only'],
  ['localhost', 'not an address'], ['', 'empty'], ['256.0.0.1', 'not an address'], ['[::1]', 'bracketed loopback'],
];

const PUBLIC = ['8.8.8.8', '1.1.1.1', '93.184.216.34', '172.32.0.1', '100.128.0.1', '169.255.0.1', '2606:4700:4700::1111',
  '2a00:1450:4001:81b::200e', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1', '192.0.3.1', '223.255.255.255'];

test('every special-purpose address is blocked', () => {
  for (const [ip, why] of BLOCKED) assert.equal(isBlockedAddress(ip), true, `${ip} (${why})`);
});

test('public unicast addresses, and IPv6 forms embedding a public IPv4, are allowed', () => {
  for (const ip of PUBLIC) assert.equal(isBlockedAddress(ip), false, ip);
});

test('CIDR parsing and matching, IPv4 and IPv6', () => {
  const v4 = parseCidr('10.1.0.0/16');
  assert.ok(inCidr(parseIp('10.1.255.1')!, v4));
  assert.ok(!inCidr(parseIp('10.2.0.1')!, v4));
  assert.ok(!inCidr(parseIp('::ffff:10.1.0.1')!, v4), 'families never match each other');
  const v6 = parseCidr('fd00:1234::/32');
  assert.ok(inCidr(parseIp('fd00:1234:ffff::9')!, v6));
  assert.ok(!inCidr(parseIp('fd00:1235::1')!, v6));
  assert.deepEqual(parseCidr('::1'), { family: 6, value: 1n, bits: 128 });
  assert.ok(inCidr(parseIp('1.2.3.4')!, parseCidr('0.0.0.0/0')));
  for (const bad of ['10.0.0.0/33', '::/129', '10.0.0.0/', 'example.com/8', '10.0.0.0/8/1', '10.0.0.0/-1', '10.0.0.0/a']) {
    assert.throws(() => parseCidr(bad), /not an IP address or CIDR/, bad);
  }
});
