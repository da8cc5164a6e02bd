// The egress policy: public addresses are reachable, everything else is refused unless the operator allowed it
// (BASALT_EGRESS_ALLOW). The decision is made on resolved addresses before any connection is opened, so a
// refusal is the same whatever listens (or not) on the other side: no port-scanning oracle.
import { lookup } from 'node:dns/promises';
import { BasaltError } from '@basalt/errors';
import { inCidr, isBlockedIp, parseCidr, parseIp, type Cidr } from './address.js';

export class EgressError extends BasaltError {
  constructor(message: string) {
    super(403, 'egress_blocked', message);
    this.name = 'EgressError';
  }
}

interface HostEntry {
  host: string;
  port: number | null;
}

interface RangeEntry {
  range: Cidr;
  port: number | null;
}

export interface EgressPolicy {
  readonly hosts: readonly HostEntry[];
  readonly ranges: readonly RangeEntry[];
}

export interface Resolved {
  address: string;
  family: 4 | 6;
}

// Cloud metadata services by name; their addresses are link-local or unique-local and refused as such.
const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata.goog', 'metadata']);

/**
 * A host as WHATWG URL normalises it: lower case, no trailing dot, IPv6 without brackets, and the odd IPv4
 * spellings (2130706433, 0x7f.1, 017700000001) turned into dotted quads, so they are judged as addresses.
 */
export function canonicalHost(host: string): string {
  const trimmed = host.trim();
  const bare = trimmed.startsWith('[') && trimmed.endsWith(']') ? trimmed.slice(1, -1) : trimmed;
  let name: string;
  try {
    name = new URL(`http://${bare.includes(':') ? `[${bare}]` : bare}/`).hostname;
  } catch {
    throw new EgressError(`${host} is not a valid host name`);
  }
  return name.replace(/^\[|\]$/g, '').replace(/\.$/, '');
}

const portOf = (text: string | undefined, entry: string): number | null => {
  if (text === undefined) return null;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65_535) throw new Error(`BASALT_EGRESS_ALLOW: bad port in ${entry}`);
  return port;
};

function parseEntry(entry: string, policy: { hosts: HostEntry[]; ranges: RangeEntry[] }): void {
  if (entry.includes('/') || parseIp(entry)) {
    try {
      policy.ranges.push({ range: parseCidr(entry), port: null });
    } catch {
      throw new Error(`BASALT_EGRESS_ALLOW: not a CIDR range: ${entry}`);
    }
    return;
  }
  const m = /^(\[[^\]]+\]|[^:[\]]+)(?::([^:]*))?$/.exec(entry);
  if (!m) throw new Error(`BASALT_EGRESS_ALLOW: not a host, host:port or CIDR: ${entry}`);
  const port = portOf(m[2], entry);
  let host: string;
  try {
    host = canonicalHost(m[1]);
  } catch {
    throw new Error(`BASALT_EGRESS_ALLOW: not a host name: ${entry}`);
  }
  const ip = parseIp(host);
  if (ip) policy.ranges.push({ range: { ...ip, bits: ip.family === 4 ? 32 : 128 }, port });
  else policy.hosts.push({ host, port });
}

/**
 * The operator's allow list: comma-separated `host`, `host:port`, `[v6]:port` or CIDR (`10.1.0.0/16`,
 * `fd00::/8`) entries. A host entry matches the name asked for; an address or range matches what it resolves
 * to. Throws on a malformed entry so a typo fails the service at start, not silently.
 */
export function egressPolicy(allowList = ''): EgressPolicy {
  const policy = { hosts: [] as HostEntry[], ranges: [] as RangeEntry[] };
  for (const raw of allowList.split(',')) {
    const entry = raw.trim();
    if (entry) parseEntry(entry, policy);
  }
  return Object.freeze({ hosts: Object.freeze(policy.hosts), ranges: Object.freeze(policy.ranges) });
}

const portMatches = (want: number | null, port: number) => want === null || want === port;

function addressAllowed(address: string, port: number, policy: EgressPolicy): boolean {
  const ip = parseIp(address);
  if (!ip) return false;
  if (policy.ranges.some((r) => portMatches(r.port, port) && inCidr(ip, r.range))) return true;
  return !isBlockedIp(ip);
}

async function addressesOf(host: string): Promise<Resolved[]> {
  if (parseIp(host)) return [{ address: host, family: parseIp(host)!.family }];
  try {
    const found = await lookup(host, { all: true, verbatim: true });
    return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
  } catch {
    return [];
  }
}

/**
 * Resolves `host` and returns the address to connect to, or throws EgressError. Every address the name
 * resolves to must be allowed (a name that mixes public and private answers is refused), and the caller must
 * connect to the returned address itself, so a second lookup cannot swap in another one (DNS rebinding).
 * `trusted` skips the address checks: for origins the platform itself vouches for.
 */
export async function resolveAllowed(host: string, port: number, policy: EgressPolicy, trusted = false): Promise<Resolved> {
  const name = canonicalHost(host);
  const byName = trusted || policy.hosts.some((h) => h.host === name && portMatches(h.port, port));
  if (!byName && METADATA_NAMES.has(name)) throw new EgressError(`Outbound requests to ${name} are not allowed: cloud metadata service`);
  const addresses = await addressesOf(name);
  if (addresses.length === 0) throw new EgressError(`Outbound request refused: ${name} does not resolve`);
  if (!byName && !addresses.every((a) => addressAllowed(a.address, port, policy))) {
    throw new EgressError(`Outbound requests to ${name} are not allowed: it is a private, loopback, link-local or reserved address`);
  }
  return addresses[0];
}
