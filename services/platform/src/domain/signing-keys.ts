// A project's JWT signing keys through Supabase's Management API shape: create (ES256, RS256 or EdDSA; in use
// or standby), list, get, change status, delete. The lifecycle: standby → in_use (the key in use becomes
// previously_used) → revoked → deleted; a previously used key may go back into use (roll back). Every change
// invalidates the project, so every service verifies with the new set at once. HS256 with the project's secret
// stays valid throughout: the anon and service_role keys are signed with it.
import { randomUUID } from 'node:crypto';
import type { SecretBox } from '@basalt/crypto';
import { generateSigningKey, type AsymmetricAlg } from '@basalt/jwt';
import type { ProjectRegistry } from '@basalt/tenancy';
import type { SigningKeyRecord, SigningKeysDb, SigningKeyStatus } from '../db/signing-keys.js';
import { platformErrors } from '../errors.js';

export interface SigningKeyView {
  id: string;
  algorithm: string;
  status: SigningKeyStatus;
  public_jwk: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

const view = (k: SigningKeyRecord): SigningKeyView => ({
  id: k.id, algorithm: k.algorithm, status: k.status, public_jwk: k.public_jwk, created_at: k.created_at.toISOString(), updated_at: k.updated_at.toISOString(),
});

/** Which status a key may move to from the one it has. */
const MOVES: Record<SigningKeyStatus, SigningKeyStatus[]> = {
  standby: ['in_use', 'revoked'],
  in_use: [],
  previously_used: ['in_use', 'revoked', 'standby'],
  revoked: [],
};

export function signingKeysDomain(d: { keys: SigningKeysDb; secrets: SecretBox; registry: ProjectRegistry; requireProject: (ref: string) => Promise<unknown> }) {
  const find = async (ref: string, id: string) => {
    await d.requireProject(ref);
    const k = /^[0-9a-f-]{36}$/i.test(id) ? await d.keys.get(ref, id) : null;
    if (!k) throw platformErrors.signingKeyNotFound(id);
    return k;
  };
  return {
    async list(ref: string): Promise<{ keys: SigningKeyView[] }> {
      await d.requireProject(ref);
      return { keys: (await d.keys.list(ref)).map(view) };
    },

    get: async (ref: string, id: string): Promise<SigningKeyView> => view(await find(ref, id)),

    async create(ref: string, body: { algorithm: AsymmetricAlg; status?: 'in_use' | 'standby' }): Promise<SigningKeyView> {
      await d.requireProject(ref);
      const id = randomUUID();
      const { privateJwk, publicJwk } = generateSigningKey(body.algorithm, id);
      const k = await d.keys.insert({
        id, ref, algorithm: body.algorithm, status: body.status ?? 'standby', publicJwk, privateJwkEnc: d.secrets.encrypt(JSON.stringify(privateJwk)),
      });
      await d.registry.invalidate(ref);
      return view(k);
    },

    async setStatus(ref: string, id: string, status: SigningKeyStatus): Promise<SigningKeyView> {
      const k = await find(ref, id);
      if (k.status === status) return view(k);
      if (!MOVES[k.status].includes(status)) {
        throw platformErrors.validation(k.status === 'in_use'
          ? 'The key in use cannot change status: put another key in use first, which moves this one to previously_used'
          : `A ${k.status} key cannot become ${status}`);
      }
      const updated = (await d.keys.setStatus(ref, id, status))!;
      await d.registry.invalidate(ref);
      return view(updated);
    },

    async remove(ref: string, id: string): Promise<SigningKeyView> {
      const k = await find(ref, id);
      if (k.status !== 'revoked') throw platformErrors.validation('Only a revoked key can be deleted: revoke it first');
      await d.keys.remove(ref, id);
      await d.registry.invalidate(ref);
      return view(k);
    },
  };
}

export type SigningKeysDomain = ReturnType<typeof signingKeysDomain>;
