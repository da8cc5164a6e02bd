// Secrets inside a project's settings JSON (an SMTP password, an OAuth client secret, a provider API key) are
// stored sealed with the master key, handed to services unsealed in memory only, and shown redacted.
// A field is a secret by its name, wherever it sits in the document.
import type { SecretBox } from './index.js';

// the SMS providers' keys too: Twilio's auth_token, Vonage's api_secret, MessageBird's access_key; and the
// Cloudflare API token of a functions target (functions.target.api_token)
const SECRET_FIELDS = new Set(['pass', 'password', 'secret', 'client_secret', 'api_key', 'apikey', 'private_key', 'auth_token', 'api_secret', 'access_key', 'api_token']);
const SEALED = 'sealed:';
/** what reads show in place of a secret; writing it back keeps the stored value */
export const REDACTED = '********';

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

function walk(value: Json, onSecret: (v: string, previous: Json) => Json, previous?: Json): Json {
  if (Array.isArray(value)) return value.map((v) => walk(v, onSecret));
  if (!isObject(value)) return value;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(value)) {
    const prev = isObject(previous) ? previous[k] : undefined;
    if (SECRET_FIELDS.has(k) && typeof v === 'string') {
      const r = onSecret(v, prev);
      if (r !== undefined) out[k] = r;
    } else out[k] = walk(v, onSecret, prev);
  }
  return out;
}

/** For storage: plain secrets are sealed; REDACTED keeps what `previous` held at the same place. */
export function sealSecrets<T>(value: T, box: SecretBox, previous?: Json): T {
  return walk(value, (v, prev) => {
    if (v === REDACTED) return typeof prev === 'string' && prev.startsWith(SEALED) ? prev : undefined;
    return v.startsWith(SEALED) ? v : SEALED + box.encrypt(v);
  }, previous) as T;
}

/** For services: sealed secrets opened; one that does not open (another master key) is dropped, not passed on. */
export function unsealSecrets<T>(value: T, box: SecretBox): T {
  return walk(value, (v) => {
    if (!v.startsWith(SEALED)) return v;
    try {
      return box.decrypt(v.slice(SEALED.length));
    } catch {
      return undefined;
    }
  }) as T;
}

/** For API responses. */
export function redactSecrets<T>(value: T): T {
  return walk(value, () => REDACTED) as T;
}
