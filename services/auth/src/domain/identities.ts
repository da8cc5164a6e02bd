// Manual identity linking and unlinking of the signed-in user (off unless settings.auth.manual_linking_enabled).
import { withTransaction } from '@basalt/db';
import type { AuthContext } from '../context.js';
import { identitiesDb } from '../db/identities.js';
import { usersDb } from '../db/users.js';
import { authErrors } from '../errors.js';
import { loadCurrentUser } from './current-user.js';
import { startOAuth } from './oauth.js';
import type { UserPrincipal } from './principal.js';
import { isUuid } from './validate.js';

export async function linkIdentityUrl(ctx: AuthContext, p: UserPrincipal, query: Record<string, unknown>): Promise<string> {
  if (!ctx.settings.manual_linking_enabled) throw authErrors.manualLinkingDisabled();
  const user = await loadCurrentUser(ctx, p);
  return startOAuth(ctx, query, user.id);
}

export async function unlinkIdentity(ctx: AuthContext, p: UserPrincipal, identityId: string): Promise<void> {
  if (!ctx.settings.manual_linking_enabled) throw authErrors.manualLinkingDisabled();
  const user = await loadCurrentUser(ctx, p);
  const identity = isUuid(identityId) ? user.identities.find((i) => i.id === identityId) : undefined;
  if (!identity) throw authErrors.identityNotFound();
  if (user.identities.length <= 1) throw authErrors.singleIdentity();
  const rest = user.identities.filter((i) => i.id !== identityId);
  const providers = [...new Set(rest.map((i) => i.provider))];
  await withTransaction(ctx.db, async (db) => {
    await identitiesDb.remove(db, user.id, identityId);
    const provider = providers.includes(String(user.raw_app_meta_data.provider)) ? user.raw_app_meta_data.provider : providers[0];
    await usersDb.mergeMetadata(db, user.id, 'raw_app_meta_data', { provider, providers });
  });
}
