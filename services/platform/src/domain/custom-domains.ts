// Custom domains prove ownership before they route: a claim starts pending with a random challenge, is verified
// by a TXT record or an HTTP file carrying it, and only then maps the domain to the project in the gateway.
// Any project may claim a domain that is not active elsewhere; the first to verify wins and the rest are dropped.
import net from 'node:net';
import { randomString } from '@basalt/crypto';
import type { ProjectRegistry } from '@basalt/tenancy';
import type { CustomDomainRecord, CustomDomainsDb } from '../db/custom-domains.js';
import { platformErrors } from '../errors.js';

export const CHALLENGE_LABEL = '_basalt-challenge';
export const CHALLENGE_PATH = '/.well-known/basalt-challenge/';

// lower-case letters and digits: the token travels in a DNS name's TXT value and a URL path unchanged
const TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export type ChallengeOutcome = { via: 'txt' | 'http' } | { via: null; reasons: string[] };

/** The outbound half of verification (DNS and HTTP), kept out of the rules so they stay testable. */
export interface ChallengeChecker {
  check(domain: string, token: string): Promise<ChallengeOutcome>;
}

export interface CustomDomainsDeps {
  domains: CustomDomainsDb;
  registry: ProjectRegistry;
  checker: ChallengeChecker;
  /** throws the platform's 404 unless the project exists and is active */
  requireProject: (ref: string) => Promise<unknown>;
  /** the platform's own domain: neither it nor its subdomains can be claimed */
  baseDomain: string;
  claimTtlMs: number;
  /** the port the HTTP challenge is fetched on (80 but in tests) */
  httpPort: number;
}

export interface CustomDomainView {
  domain: string;
  status: 'pending' | 'active';
  verification?: { http: { url: string; body: string }; txt: { name: string; value: string } };
  expires_at?: string;
  verified_at?: string | null;
  verified_via?: string;
  created_at: string;
}

/** Names Basalt itself answers for, or that no one can prove to own, are refused before any claim is stored. */
export function claimableProblem(domain: string, baseDomain: string): string | null {
  const base = baseDomain.toLowerCase();
  if (net.isIP(domain)) return 'an IP address is not a domain name';
  if (domain === base || domain.endsWith(`.${base}`)) return `${base} and its subdomains belong to the platform`;
  if (domain === 'localhost' || domain.endsWith('.localhost')) return 'localhost names cannot be verified';
  return null;
}

export function customDomainsDomain(d: CustomDomainsDeps) {
  const port = d.httpPort === 80 ? '' : `:${d.httpPort}`;
  const view = (r: CustomDomainRecord): CustomDomainView => {
    const base = { domain: r.domain, status: r.status, created_at: r.created_at.toISOString() };
    if (r.status === 'active') {
      return { ...base, verified_at: r.verified_at?.toISOString() ?? null, verified_via: r.verified_via ?? undefined };
    }
    const token = r.token!;
    return {
      ...base,
      verification: {
        http: { url: `http://${r.domain}${port}${CHALLENGE_PATH}${token}`, body: token },
        txt: { name: `${CHALLENGE_LABEL}.${r.domain}`, value: token },
      },
      expires_at: r.expires_at!.toISOString(),
    };
  };

  const mustFind = async (ref: string, domain: string) => {
    const claim = await d.domains.find(ref, domain);
    if (!claim) throw platformErrors.domainNotFound(ref, domain);
    return claim;
  };

  return {
    async list(ref: string) {
      await d.requireProject(ref);
      await d.domains.pruneExpired();
      return (await d.domains.list(ref)).map(view);
    },
    /** 201 for a new claim; a project's existing claim on the domain comes back as it is (200). */
    async claim(ref: string, domain: string): Promise<{ created: boolean; view: CustomDomainView }> {
      const problem = claimableProblem(domain, d.baseDomain);
      if (problem) throw platformErrors.validation(`domain: ${problem}`);
      await d.requireProject(ref);
      await d.domains.pruneExpired();
      const r = await d.domains.claim(ref, domain, randomString(40, TOKEN_ALPHABET), d.claimTtlMs);
      if ('activeElsewhere' in r) throw platformErrors.domainTaken(domain);
      return { created: r.created, view: view(r.claim) };
    },
    async verify(ref: string, domain: string): Promise<CustomDomainView> {
      await d.requireProject(ref);
      await d.domains.pruneExpired();
      const claim = await mustFind(ref, domain);
      if (claim.status === 'active') return view(claim);
      const owner = await d.domains.activeOwner(domain);
      if (owner && owner !== ref) throw platformErrors.domainTaken(domain);
      const outcome = await d.checker.check(domain, claim.token!);
      if (outcome.via === null) throw platformErrors.domainUnverified(domain, outcome.reasons);
      const active = await d.domains.activate(ref, domain, outcome.via).catch((e: { code?: string }) => {
        // another project verified the same domain a moment earlier
        if (e.code === '23505') throw platformErrors.domainTaken(domain);
        throw e;
      });
      if (!active) throw platformErrors.domainNotFound(ref, domain);
      await d.registry.invalidate(ref); // drops every replica's cached "unknown domain"
      return view(active);
    },
    async remove(ref: string, domain: string): Promise<void> {
      await d.requireProject(ref);
      const removed = await d.domains.remove(ref, domain);
      if (!removed) throw platformErrors.domainNotFound(ref, domain);
      if (removed.status === 'active') await d.registry.invalidate(ref); // stop routing on every replica
    },
  };
}

export type CustomDomainsDomain = ReturnType<typeof customDomainsDomain>;
