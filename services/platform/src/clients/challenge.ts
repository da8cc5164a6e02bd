// The outbound half of custom-domain verification: a TXT lookup of _basalt-challenge.<domain>, and an HTTP GET of
// http://<domain>/.well-known/basalt-challenge/<token>. Both names are resolved by one Resolver (the configured
// DNS servers, else the system's), so a verification reads one view of DNS.
import http from 'node:http';
import { Resolver } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import { EgressError, resolveAllowed, type EgressPolicy, type Resolved } from '@basalt/egress';
import { CHALLENGE_LABEL, CHALLENGE_PATH, type ChallengeChecker, type ChallengeOutcome } from '../domain/custom-domains.js';

export interface ChallengeOptions {
  /** `ip[:port]` entries; empty for the system's servers */
  dnsServers: string[];
  policy: EgressPolicy;
  httpPort: number;
  timeoutMs: number;
}

// A challenge file is the token and maybe a newline; anything longer is not it, so reading stops early.
const MAX_BODY = 1024;

const pinned = (to: Resolved): LookupFunction =>
  ((_host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) => {
    if (opts?.all) cb(null, [{ address: to.address, family: to.family }]);
    else cb(null, to.address, to.family);
  }) as unknown as LookupFunction;

export function challengeChecker(o: ChallengeOptions): ChallengeChecker {
  const resolver = new Resolver({ timeout: Math.min(o.timeoutMs, 2_000), tries: 2 });
  if (o.dnsServers.length) resolver.setServers(o.dnsServers);

  async function txt(domain: string, token: string): Promise<string | null> {
    const name = `${CHALLENGE_LABEL}.${domain}`;
    try {
      const records = (await resolver.resolveTxt(name)).map((chunks) => chunks.join(''));
      return records.includes(token) ? null : `TXT ${name} does not hold the token (found ${records.length} record(s))`;
    } catch (e) {
      return `TXT ${name}: ${(e as { code?: string }).code ?? 'lookup failed'}`;
    }
  }

  /**
   * The host's addresses come from the same resolver; each one must pass the egress policy, and the connection
   * is pinned to the checked address, so a tenant's DNS cannot point the platform at its own network.
   */
  async function address(domain: string): Promise<Resolved> {
    const [v4, v6] = await Promise.all([resolver.resolve4(domain).catch(() => []), resolver.resolve6(domain).catch(() => [])]);
    const found = [...v4, ...v6];
    if (!found.length) throw new EgressError(`${domain} has no A or AAAA record`);
    const checked = await Promise.all(found.map((a) => resolveAllowed(a, o.httpPort, o.policy)));
    return checked[0];
  }

  function get(domain: string, path: string, to: Resolved): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = http.get(
        { host: domain, port: o.httpPort, path, lookup: pinned(to), timeout: o.timeoutMs, headers: { 'user-agent': 'basalt-domain-verification' } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            body += chunk;
            if (body.length > MAX_BODY) res.destroy();
          });
          res.on('close', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timed out after ${o.timeoutMs} ms`)));
      req.on('error', reject);
    });
  }

  async function httpFile(domain: string, token: string): Promise<string | null> {
    const url = `http://${domain}${o.httpPort === 80 ? '' : `:${o.httpPort}`}${CHALLENGE_PATH}${token}`;
    try {
      // Redirects are not followed: the file must be served by the host the domain names.
      const r = await get(domain, `${CHALLENGE_PATH}${token}`, await address(domain));
      if (r.status !== 200) return `GET ${url} answered ${r.status}`;
      return r.body.trim() === token ? null : `GET ${url} did not answer the token`;
    } catch (e) {
      return `GET ${url}: ${(e as Error).message}`;
    }
  }

  return {
    async check(domain: string, token: string): Promise<ChallengeOutcome> {
      // TXT first: when it holds the token, no request is made to the tenant's host at all.
      const viaTxt = await txt(domain, token);
      if (viaTxt === null) return { via: 'txt' };
      const viaHttp = await httpFile(domain, token);
      if (viaHttp === null) return { via: 'http' };
      return { via: null, reasons: [viaTxt, viaHttp] };
    },
  };
}
