// Who calls a model: an AI key (bsk_…, which carries its project), the project's service_role key, or — when
// the project allows it — a signed-in user's JWT with a daily token budget. Keys are verified here, never
// trusted from a header; the gateway's x-basalt-ref (host, path or token claim) must agree with the key.
import type { IncomingHttpHeaders } from 'node:http';
import { hashToken } from '@basalt/crypto';
import { authenticateIn, AuthError, type ProjectRegistry } from '@basalt/tenancy';
import type { KeyLimits } from '../db/keys.js';
import { aiErrors } from '../errors.js';
import type { AiConfig, AiSettings } from './ai-config.js';

export const AI_KEY_PREFIX = 'bsk_';

export interface Caller {
  ref: string;
  kind: 'key' | 'service_role' | 'user';
  keyId: string | null;
  userId: string | null;
  limits: KeyLimits;
}

/** Authorization: Bearer (OpenAI, Anthropic ≥1.0), x-api-key (Anthropic 0.x, cURL), or apikey (supabase-style) */
export function callerToken(headers: IncomingHttpHeaders): string | null {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    if (m) return m[1];
  }
  for (const h of ['x-api-key', 'apikey'] as const) {
    const v = headers[h];
    if (typeof v === 'string' && v.length > 0) return v;
  }
  return null;
}

/** settings.ai in the project's own settings wins over what this service keeps, once the platform stores it */
export function userAccess(projectSettings: Record<string, unknown>, own: AiSettings): AiSettings['user_access'] {
  const fromProject = (projectSettings.ai as AiSettings | undefined)?.user_access;
  return fromProject ?? own.user_access;
}

export function callers(config: AiConfig, registry: ProjectRegistry) {
  async function byKey(token: string, headerRef: string | undefined): Promise<Caller> {
    const row = await config.keyByHash(hashToken(token));
    if (!row) throw aiErrors.invalidKey();
    if (row.revoked_at) throw aiErrors.revokedKey();
    if (headerRef !== undefined && headerRef !== row.ref) throw aiErrors.wrongProject();
    return { ref: row.ref, kind: 'key', keyId: row.id, userId: null, limits: row.limits ?? {} };
  }

  async function byJwt(token: string, headerRef: string | undefined): Promise<Caller> {
    let project, principal;
    try {
      ({ project, principal } = await authenticateIn(registry, token, headerRef));
    } catch (e) {
      if (e instanceof AuthError) throw e.reason === 'wrong_project' ? aiErrors.wrongProject() : aiErrors.invalidKey();
      throw e;
    }
    if (principal.role === 'service_role') return { ref: project.ref, kind: 'service_role', keyId: null, userId: null, limits: {} };
    if (principal.role !== 'authenticated' || typeof principal.claims.sub !== 'string') throw aiErrors.roleRefused(principal.role);
    const access = userAccess(project.settings, (await config.project(project.ref)).settings);
    if (!access?.enabled) throw aiErrors.userAccessDisabled();
    const limits = access.tokens_per_day ? { tokens_per_day: access.tokens_per_day } : {};
    return { ref: project.ref, kind: 'user', keyId: null, userId: principal.claims.sub, limits };
  }

  return {
    async identify(headers: IncomingHttpHeaders): Promise<Caller> {
      const token = callerToken(headers);
      if (!token) throw aiErrors.missingKey();
      const given = headers['x-basalt-ref'];
      const headerRef = typeof given === 'string' ? given : undefined;
      return token.startsWith(AI_KEY_PREFIX) ? byKey(token, headerRef) : byJwt(token, headerRef);
    },
  };
}

export type Callers = ReturnType<typeof callers>;
