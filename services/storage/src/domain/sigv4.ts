// AWS Signature Version 4 as S3 clients sign (header or presigned query), verified against the request the client
// sent: its public path (the gateway's /project/<ref> prefix included) and its own Host. Pure: no I/O.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
/** how far a header-signed request's X-Amz-Date may be from now */
const MAX_SKEW_MS = 15 * 60 * 1000;
/** S3's longest presigned URL lifetime */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

export interface ClientSignature {
  accessKeyId: string;
  /** yyyymmdd/region/service/aws4_request */
  scope: string;
  date: string;
  region: string;
  signedHeaders: string[];
  signature: string;
  /** x-amz-date (yyyymmddThhmmssZ) */
  amzDate: string;
  sessionToken?: string;
  /** presigned (query) signatures: seconds of validity */
  expires?: number;
  presigned: boolean;
}

export class SigError extends Error {
  constructor(readonly code: 'AccessDenied' | 'SignatureDoesNotMatch' | 'AuthorizationHeaderMalformed' | 'AuthorizationQueryParametersError' | 'RequestTimeTooSkewed' | 'ExpiredToken' | 'MissingSecurityHeader', message: string) {
    super(message);
  }
}

export interface SignedRequest {
  method: string;
  /** candidate canonical paths (raw, as sent): the public one first */
  paths: string[];
  /** raw query string without '?' */
  query: string;
  headers: Record<string, string | string[] | undefined>;
  /** the Host the client addressed */
  host: string;
}

/** RFC 3986 encoding, as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const decode = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

export function parseQuery(raw: string): [string, string][] {
  if (!raw) return [];
  return raw.split('&').filter((p) => p !== '').map((p) => {
    const i = p.indexOf('=');
    return i < 0 ? [decode(p), ''] : [decode(p.slice(0, i)), decode(p.slice(i + 1))];
  });
}

const AMZ_DATE = /^\d{8}T\d{6}Z$/;
const parseAmzDate = (d: string) => Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8), +d.slice(9, 11), +d.slice(11, 13), +d.slice(13, 15));

function parseCredential(credential: string | undefined, fail: (m: string) => SigError) {
  const parts = (credential ?? '').split('/');
  if (parts.length < 5 || parts[parts.length - 1] !== 'aws4_request' || parts[parts.length - 2] !== 's3') throw fail('Credential must be <key>/<date>/<region>/s3/aws4_request');
  const [date, region] = parts.slice(-4, -2);
  return { accessKeyId: parts.slice(0, -4).join('/'), date, region, scope: parts.slice(-4).join('/') };
}

/** The signature a request carries, from its Authorization header or its X-Amz-* query parameters; null if none. */
export function extractSignature(headers: SignedRequest['headers'], query: [string, string][]): ClientSignature | null {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const fail = (m: string) => new SigError('AuthorizationHeaderMalformed', `The authorization header is malformed; ${m}`);
    if (!auth.startsWith(`${ALGORITHM} `)) throw fail(`the authorization mechanism must be ${ALGORITHM}`);
    const fields = Object.fromEntries(auth.slice(ALGORITHM.length + 1).split(',').map((kv) => {
      const t = kv.trim();
      const i = t.indexOf('=');
      return [t.slice(0, i), t.slice(i + 1)];
    }));
    const cred = parseCredential(fields.Credential, fail);
    const amzDate = String(headers['x-amz-date'] ?? '');
    if (!AMZ_DATE.test(amzDate)) throw new SigError('AccessDenied', 'AWS authentication requires a valid X-Amz-Date header');
    if (!fields.SignedHeaders || !/^[0-9a-f]{64}$/.test(fields.Signature ?? '')) throw fail('SignedHeaders and Signature are required');
    const token = headers['x-amz-security-token'];
    return {
      ...cred, amzDate, signedHeaders: fields.SignedHeaders.split(';'), signature: fields.Signature, presigned: false,
      sessionToken: typeof token === 'string' && token !== '' ? token : undefined,
    };
  }
  const q = Object.fromEntries(query);
  if (q['X-Amz-Algorithm'] === undefined && q['X-Amz-Credential'] === undefined) return null;
  const fail = (m: string) => new SigError('AuthorizationQueryParametersError', m);
  if (q['X-Amz-Algorithm'] !== ALGORITHM) throw fail(`X-Amz-Algorithm only supports "${ALGORITHM}"`);
  const cred = parseCredential(q['X-Amz-Credential'], fail);
  const expires = Number(q['X-Amz-Expires']);
  if (!/^\d+$/.test(q['X-Amz-Expires'] ?? '') || expires < 1 || expires > MAX_PRESIGN_SECONDS) throw fail('X-Amz-Expires must be a whole number of seconds from 1 to 604800');
  if (!AMZ_DATE.test(q['X-Amz-Date'] ?? '')) throw fail('X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd\'T\'HHmmss\'Z\'"');
  if (!/^[0-9a-f]{64}$/.test(q['X-Amz-Signature'] ?? '') || !q['X-Amz-SignedHeaders']) throw fail('X-Amz-Signature and X-Amz-SignedHeaders are required');
  return {
    ...cred, amzDate: q['X-Amz-Date'], signedHeaders: q['X-Amz-SignedHeaders'].split(';'), signature: q['X-Amz-Signature'], presigned: true,
    expires, sessionToken: q['X-Amz-Security-Token'] || undefined,
  };
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

export function signingKey(secret: string, date: string, region: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), 's3'), 'aws4_request');
}

function canonicalHeaders(req: SignedRequest, names: string[]): string {
  return names.map((name) => {
    const raw = name === 'host' ? req.host : req.headers[name];
    const value = (Array.isArray(raw) ? raw.join(',') : (raw ?? '')).trim().replace(/\s+/g, ' ');
    return `${name}:${value}\n`;
  }).join('');
}

/**
 * Checks the signature against each candidate path (the public path first); returns the signing key, which
 * verifies the chunk signatures of a streamed body. Throws SigError when nothing matches or it has expired.
 */
export function verifySignature(sig: ClientSignature, secret: string, req: SignedRequest, now = Date.now()): Buffer {
  const at = parseAmzDate(sig.amzDate);
  if (sig.amzDate.slice(0, 8) !== sig.date) throw new SigError('SignatureDoesNotMatch', 'The credential date does not match X-Amz-Date');
  if (sig.presigned) {
    if (now > at + sig.expires! * 1000) throw new SigError('AccessDenied', 'Request has expired');
    if (at - now > MAX_SKEW_MS) throw new SigError('AccessDenied', 'Request is not valid yet');
  } else if (Math.abs(now - at) > MAX_SKEW_MS) {
    throw new SigError('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
  }
  if (!sig.signedHeaders.includes('host')) throw new SigError('AccessDenied', 'The host header must be signed');
  const query = parseQuery(req.query).filter(([k]) => !(sig.presigned && k === 'X-Amz-Signature'))
    .map(([k, v]) => [rfc3986(k), rfc3986(v)]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`).join('&');
  const payload = sig.presigned ? 'UNSIGNED-PAYLOAD' : String(req.headers['x-amz-content-sha256'] ?? 'UNSIGNED-PAYLOAD');
  const headers = canonicalHeaders(req, sig.signedHeaders);
  const key = signingKey(secret, sig.date, sig.region);
  const given = Buffer.from(sig.signature, 'hex');
  for (const path of req.paths) {
    const canonical = [req.method, path, query, headers, sig.signedHeaders.join(';'), payload].join('\n');
    const toSign = [ALGORITHM, sig.amzDate, sig.scope, sha256(canonical)].join('\n');
    if (timingSafeEqual(hmac(key, toSign), given)) return key;
  }
  throw new SigError('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
}

/** The signature of one chunk of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body. */
export function chunkSignature(key: Buffer, sig: ClientSignature, previous: string, chunk: Buffer): string {
  return chunkSignatureOf(key, sig, previous, sha256(chunk));
}

/** The same from the chunk's SHA-256 (hex), which a decoder computes as the chunk's bytes pass. */
export function chunkSignatureOf(key: Buffer, sig: ClientSignature, previous: string, chunkSha256: string): string {
  const toSign = [`${ALGORITHM}-PAYLOAD`, sig.amzDate, sig.scope, previous, sha256(''), chunkSha256].join('\n');
  return createHmac('sha256', key).update(toSign).digest('hex');
}
