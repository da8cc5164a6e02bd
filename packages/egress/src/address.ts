// Which IP addresses a tenant's outbound request may reach: public unicast only. Addresses are compared as
// integers (32-bit for IPv4, 128-bit for IPv6), and IPv6 forms that carry an IPv4 address (mapped, compatible,
// NAT64, 6to4) are judged by the IPv4 address they lead to.
import net from 'node:net';

export interface IpValue {
  family: 4 | 6;
  value: bigint;
}

export interface Cidr extends IpValue {
  bits: number;
}

function parseV4(ip: string): bigint {
  return ip.split('.').reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n);
}

function parseV6(ip: string): bigint {
  let text = ip.replace(/%.*$/, '').toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = parseV4(dotted[1]);
    text = `${text.slice(0, -dotted[1].length)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, null];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === null ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** A textual IP address (as node:net accepts it, zone id allowed) → its family and integer value; null if not an IP. */
export function parseIp(ip: string): IpValue | null {
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  if (net.isIPv4(bare)) return { family: 4, value: parseV4(bare) };
  if (net.isIPv6(bare)) return { family: 6, value: parseV6(bare) };
  return null;
}

/** `10.0.0.0/8`, `fd00::/8`, or a bare address (a /32 or /128). Throws on anything else. */
export function parseCidr(text: string): Cidr {
  const [addr, bitsText, extra] = text.trim().split('/');
  const ip = parseIp(addr);
  const max = ip?.family === 4 ? 32 : 128;
  const bits = bitsText === undefined ? max : Number(bitsText);
  if (!ip || extra !== undefined || (bitsText !== undefined && !/^\d+$/.test(bitsText)) || !Number.isInteger(bits) || bits < 0 || bits > max) {
    throw new Error(`not an IP address or CIDR range: ${text}`);
  }
  return { ...ip, bits };
}

export function inCidr(ip: IpValue, range: Cidr): boolean {
  if (ip.family !== range.family) return false;
  const shift = BigInt((range.family === 4 ? 32 : 128) - range.bits);
  return ip.value >> shift === range.value >> shift;
}

const ranges = (list: string[]) => list.map(parseCidr);

// IANA special-purpose registries: nothing here is a public unicast destination.
const V4_BLOCKED = ranges([
  '0.0.0.0/8', // "this network", unspecified
  '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', // RFC 1918
  '100.64.0.0/10', // carrier-grade NAT
  '127.0.0.0/8', // loopback
  '169.254.0.0/16', // link-local, cloud metadata (169.254.169.254)
  '192.0.0.0/24', // IETF protocol assignments
  '192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', // documentation
  '192.88.99.0/24', // 6to4 relay anycast (deprecated)
  '198.18.0.0/15', // benchmarking
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, and 255.255.255.255 broadcast
]);

const V6_BLOCKED = ranges([
  '::/96', // unspecified, loopback, IPv4-compatible (deprecated)
  '64:ff9b:1::/48', // local-use NAT64
  '100::/64', // discard-only
  '2001::/32', // Teredo
  '2001:2::/48', // benchmarking
  '2001:10::/28', '2001:20::/28', // ORCHID
  '2001:db8::/32', '3fff::/20', // documentation
  'fc00::/7', // unique-local (includes fd00:ec2::254, the EC2 metadata address)
  'fe80::/10', // link-local
  'fec0::/10', // site-local (deprecated)
  'ff00::/8', // multicast
]);

const MAPPED = parseCidr('::ffff:0:0/96');
const NAT64 = parseCidr('64:ff9b::/96');
const SIX_TO_FOUR = parseCidr('2002::/16');

/** The IPv4 address an IPv6 address leads to, for the forms that embed one. */
function embeddedV4(ip: IpValue): IpValue | null {
  if (inCidr(ip, MAPPED) || inCidr(ip, NAT64)) return { family: 4, value: ip.value & 0xffffffffn };
  if (inCidr(ip, SIX_TO_FOUR)) return { family: 4, value: (ip.value >> 80n) & 0xffffffffn };
  return null;
}

export function isBlockedIp(ip: IpValue): boolean {
  if (ip.family === 4) return V4_BLOCKED.some((r) => inCidr(ip, r));
  const v4 = embeddedV4(ip);
  if (v4) return isBlockedIp(v4);
  return V6_BLOCKED.some((r) => inCidr(ip, r));
}

/** True for every address a tenant must not reach; anything that is not an IP address is refused too. */
export function isBlockedAddress(ip: string): boolean {
  const parsed = parseIp(ip);
  return parsed === null || isBlockedIp(parsed);
}
