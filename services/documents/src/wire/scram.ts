// The server side of SCRAM-SHA-256 (RFC 5802/7677, MongoDB's auth spec): saslStart answers the server-first
// message, saslContinue checks the client proof against the stored key and answers the server signature.
// An unknown user gets a fake salt and fails at the proof, like a wrong password.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { hmac, sha256 } from '../domain/credentials.js';
import type { CredentialRow } from '../db/control.js';

export interface Conversation { clientFirstBare: string; serverFirst: string; nonce: string; cred: CredentialRow | null }

const decodeName = (s: string) => s.replace(/=2C/g, ',').replace(/=3D/g, '=');

export function parseClientFirst(payload: Buffer): { username: string; clientNonce: string; bare: string } | null {
  const text = payload.toString('utf8');
  const m = /^[ny],[^,]*,(.*)$/.exec(text);
  if (!m) return null;
  const bare = m[1];
  const attrs = Object.fromEntries(bare.split(',').map((kv) => [kv[0], kv.slice(2)]));
  if (!attrs.n || !attrs.r) return null;
  return { username: decodeName(attrs.n), clientNonce: attrs.r, bare };
}

export function serverFirst(bare: string, clientNonce: string, cred: CredentialRow | null, username: string): Conversation {
  const nonce = clientNonce + randomBytes(24).toString('base64');
  // a stable fake salt per unknown name, so probing cannot tell unknown users from wrong passwords
  const salt = cred?.salt ?? createHash('sha256').update(`basalt-fake-salt:${username}`).digest().subarray(0, 24);
  const iterations = cred?.iterations ?? 15000;
  return { clientFirstBare: bare, nonce, cred, serverFirst: `r=${nonce},s=${salt.toString('base64')},i=${iterations}` };
}

/** Returns the server-final payload (v=…) when the proof is right, else null. */
export function verifyClientFinal(c: Conversation, payload: Buffer): string | null {
  const text = payload.toString('utf8');
  const attrs = Object.fromEntries(text.split(',').map((kv) => [kv[0], kv.slice(2)]));
  if (attrs.r !== c.nonce || attrs.c !== 'biws' || !attrs.p || !c.cred) return null;
  const withoutProof = text.slice(0, text.lastIndexOf(',p='));
  const authMessage = `${c.clientFirstBare},${c.serverFirst},${withoutProof}`;
  const proof = Buffer.from(attrs.p, 'base64');
  const signature = hmac(c.cred.stored_key, authMessage);
  if (proof.length !== signature.length) return null;
  const clientKey = Buffer.alloc(proof.length);
  for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i] ^ signature[i];
  if (!timingSafeEqual(sha256(clientKey), c.cred.stored_key)) return null;
  return `v=${hmac(c.cred.server_key, authMessage).toString('base64')}`;
}
