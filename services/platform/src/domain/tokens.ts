// Platform tokens: issued once in plaintext, kept only as a hash.
import { hashToken, randomToken } from '@basalt/crypto';
import { PLATFORM_TOKEN_PREFIX } from '@basalt/tenancy';
import type { TokensDb } from '../db/tokens.js';
import { platformErrors } from '../errors.js';

export function tokensDomain(tokens: TokensDb) {
  return {
    async issue(input: { name: string; projectRefs?: string[] | null; expiresInDays?: number | null }) {
      const token = randomToken(PLATFORM_TOKEN_PREFIX);
      const record = await tokens.insert({
        name: input.name,
        hash: hashToken(token),
        prefix: token.slice(0, 8),
        projectRefs: input.projectRefs ?? null,
        expiresAt: input.expiresInDays ? new Date(Date.now() + input.expiresInDays * 86_400_000) : null,
      });
      return { ...record, token };
    },
    /** Makes sure a configured token (BASALT_PLATFORM_TOKEN) can be used; idempotent. */
    async ensure(token: string, name: string) {
      await tokens.insert({ name, hash: hashToken(token), prefix: token.slice(0, 8), projectRefs: null, expiresAt: null });
    },
    list: () => tokens.list(),
    async revoke(id: string) {
      if (!/^[0-9a-f-]{36}$/i.test(id) || !(await tokens.remove(id))) throw platformErrors.tokenNotFound(id);
    },
  };
}

export type TokensDomain = ReturnType<typeof tokensDomain>;
