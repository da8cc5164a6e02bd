// Wire-protocol credentials: a username bound to one project and a random password shown once. Only the
// SCRAM-SHA-256 salted keys are stored (StoredKey, ServerKey), so a leak of the table yields no password.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type { ControlDb } from '../db/control.js';

export const hmac = (key: Buffer, data: string | Buffer) => createHmac('sha256', key).update(data).digest();
export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();

/** RFC 4013 SASLprep is the identity for the ASCII passwords we issue; others are NFKC-normalised. */
export const saslprep = (s: string) => s.normalize('NFKC');

export function scramKeys(password: string, salt: Buffer, iterations: number) {
  const salted = pbkdf2Sync(saslprep(password), salt, iterations, 32, 'sha256');
  return { storedKey: sha256(hmac(salted, 'Client Key')), serverKey: hmac(salted, 'Server Key') };
}

/** where the wire port is, and its TLS: `require` puts tls=true in the URIs handed out */
export interface WireAddress { host: string; port: () => number; tls?: 'off' | 'allow' | 'require' }

export function credentials(db: ControlDb, wire: WireAddress, iterations: number) {
  return {
    /** without a uid: a service-role login; with one: a login the collection rules apply to, as that user */
    async issue(ref: string, bound: { uid?: string; claims?: Record<string, unknown> } = {}) {
      const username = `${ref}.${randomBytes(6).toString('hex')}`;
      const role = bound.uid === undefined ? 'service_role' : 'authenticated';
      const claims = bound.uid === undefined ? null : { ...(bound.claims ?? {}), sub: bound.uid, role };
      const password = randomBytes(24).toString('base64url');
      const salt = randomBytes(24);
      const { storedKey, serverKey } = scramKeys(password, salt, iterations);
      await db.addCredential({ username, ref, role, claims, salt, iterations, stored_key: storedKey, server_key: serverKey });
      const uri = `mongodb://${encodeURIComponent(username)}:${encodeURIComponent(password)}@${wire.host}:${wire.port()}/${ref}?authSource=admin&directConnection=true${wire.tls === 'require' ? '&tls=true' : ''}`;
      return { username, password, uri, role, ...(claims ? { claims } : {}) };
    },
    list: (ref: string) => db.listCredentials(ref),
    revoke: (ref: string, username: string) => db.deleteCredential(ref, username),
  };
}

export type Credentials = ReturnType<typeof credentials>;
