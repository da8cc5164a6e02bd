// Who is calling: the project's service_role key or one of its AI keys (bsk_…), both full access to the
// project's memories, or a signed-in user's JWT, which reaches only the memories whose user_id is its sub.
// mem0 clients send `Authorization: Token <key>`; Bearer, x-api-key and apikey are accepted too. The gateway's
// x-basalt-ref (host, path prefix or token claim) must agree with the key's project.
import type { IncomingHttpHeaders } from 'node:http';
import { LRUCache } from 'lru-cache';
import { hashToken } from '@basalt/crypto';
import { authenticateIn, AuthError, type Project, type ProjectRegistry } from '@basalt/tenancy';
import type { AiKeysDb, AiKeyRow } from '../db/ai-keys.js';
import { memErrors } from '../errors.js';

export interface Caller {
  project: Project;
  kind: 'service_role' | 'key' | 'user';
  /** the sub of a signed-in user; null for keys */
  userId: string | null;
  claims: Record<string, unknown>;
}

export function callerToken(headers: IncomingHttpHeaders): string | null {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^(?:Token|Bearer)\s+(\S+)$/i.exec(auth.trim());
    if (m) return m[1];
  }
  for (const h of ['x-api-key', 'apikey'] as const) {
    const v = headers[h];
    if (typeof v === 'string' && v.length > 0) return v;
  }
  return null;
}

export function accessControl(registry: ProjectRegistry, keys: AiKeysDb) {
  // a short cache: a revoked key stops working within seconds, without a control query per request
  const keyCache = new LRUCache<string, { row: AiKeyRow | null }>({ max: 10_000, ttl: 5_000 });

  async function byKey(token: string, headerRef: string | undefined): Promise<Caller> {
    const hash = hashToken(token);
    let hit = keyCache.get(hash);
    if (!hit) keyCache.set(hash, (hit = { row: await keys.byHash(hash) }));
    const row = hit.row;
    if (!row) throw memErrors.invalidKey();
    if (row.revoked_at) throw memErrors.revokedKey();
    if (headerRef !== undefined && headerRef !== row.ref) throw memErrors.wrongProject();
    const project = await registry.get(row.ref);
    if (!project) throw memErrors.invalidKey();
    return { project, kind: 'key', userId: null, claims: { role: 'service_role', ref: row.ref } };
  }

  async function byJwt(token: string, headerRef: string | undefined): Promise<Caller> {
    let project, principal;
    try {
      ({ project, principal } = await authenticateIn(registry, token, headerRef));
    } catch (e) {
      if (e instanceof AuthError) throw e.reason === 'wrong_project' ? memErrors.wrongProject() : memErrors.invalidKey();
      throw e;
    }
    if (principal.role === 'service_role') return { project, kind: 'service_role', userId: null, claims: principal.claims };
    const sub = principal.claims.sub;
    if (principal.role !== 'authenticated' || typeof sub !== 'string' || sub === '') throw memErrors.roleRefused(principal.role);
    return { project, kind: 'user', userId: sub, claims: principal.claims };
  }

  return {
    async identify(headers: IncomingHttpHeaders): Promise<Caller> {
      const token = callerToken(headers);
      if (!token) throw memErrors.missingKey();
      const given = headers['x-basalt-ref'];
      const headerRef = typeof given === 'string' ? given : undefined;
      return token.startsWith('bsk_') ? byKey(token, headerRef) : byJwt(token, headerRef);
    },
  };
}

export type AccessControl = ReturnType<typeof accessControl>;
