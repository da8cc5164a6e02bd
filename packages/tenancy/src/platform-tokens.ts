// Platform tokens (bsp_…): stored as SHA-256 hashes in the control database, optionally scoped to projects.
import type pg from 'pg';
import { hashToken } from '@basalt/crypto';

export interface PlatformPrincipal {
  tokenId: string;
  /** null = every project */
  projectRefs: string[] | null;
}

export const PLATFORM_TOKEN_PREFIX = 'bsp_';

export async function verifyPlatformToken(control: pg.Pool, token: string | null): Promise<PlatformPrincipal | null> {
  if (!token || !token.startsWith(PLATFORM_TOKEN_PREFIX)) return null;
  const { rows } = await control.query<{ id: string; project_refs: string[] | null }>(
    `update platform.tokens set last_used_at = now()
      where token_hash = $1 and (expires_at is null or expires_at > now())
      returning id, project_refs`,
    [hashToken(token)],
  );
  return rows[0] ? { tokenId: rows[0].id, projectRefs: rows[0].project_refs } : null;
}

export const canAccessProject = (p: PlatformPrincipal, ref: string): boolean =>
  p.projectRefs === null || p.projectRefs.includes(ref);
