// Secrets at rest (AES-256-GCM under BASALT_MASTER_KEY), token hashing, and random identifiers.
import { createCipheriv, createDecipheriv, createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

const VERSION = 'v1';

export class SecretBox {
  readonly #key: Buffer;

  constructor(masterKeyHex: string) {
    const key = Buffer.from(masterKeyHex, 'hex');
    if (key.length !== 32) throw new Error('BASALT_MASTER_KEY must be 32 bytes (64 hex characters)');
    this.#key = key;
  }

  /** `v1.<iv>.<tag>.<ciphertext>`, base64url; a fresh IV per call. */
  encrypt(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), ct].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
  }

  decrypt(sealed: string): string {
    const [version, iv, tag, ct] = sealed.split('.');
    if (version !== VERSION || !iv || !tag || ct === undefined) throw new Error('sealed secret has an unknown format');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  }
}

/** Tokens are stored as their SHA-256 so a leaked table yields nothing usable. */
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** `prefix` + 40 base62 characters (≈238 bits). */
export function randomToken(prefix: string, length = 40): string {
  return prefix + randomString(length, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789');
}

export function randomString(length: number, alphabet: string): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** Project refs are 20 lowercase letters, like Supabase's: safe in hostnames, role and database names. */
export const randomRef = (): string => randomString(20, 'abcdefghijklmnopqrstuvwxyz');

export const randomSecret = (bytes = 48): string => randomBytes(bytes).toString('base64url');
export { sealSecrets, unsealSecrets, redactSecrets, REDACTED } from './sealed-settings.js';
