// Who an S3 request acts as. The signature is checked against what the client signed: the public path (with the
// gateway's /project/<ref> prefix, read from x-basalt-base-url, which only the gateway sets) and the Host it
// addressed (x-forwarded-host); the service's own path is the fallback for direct calls.
import type { FastifyRequest } from 'fastify';
import { AuthError, authenticate, type Project } from '@basalt/tenancy';
import { BasaltError } from '@basalt/errors';
import { SERVICE, type Actor } from '../db/tx.js';
import type { S3KeysDomain } from '../domain/s3-keys.js';
import { extractSignature, parseQuery, SigError, verifySignature, type ClientSignature } from '../domain/sigv4.js';

export interface S3Caller {
  project: Project;
  actor: Actor & { sub?: string };
  sig: ClientSignature;
  /** the SigV4 signing key: chunk signatures of a streamed body are checked with it */
  signingKey: Buffer;
}

const accessDenied = (message: string) => new BasaltError(403, 'AccessDenied', message, { details: { statusCode: '403', error: 'AccessDenied' } });
const unknownKey = () => new BasaltError(403, 'InvalidAccessKeyId', 'The Access Key Id you provided does not exist in our records.', { details: { statusCode: '403', error: 'InvalidAccessKeyId' } });

function publicPaths(req: FastifyRequest, path: string): string[] {
  const base = req.headers['x-basalt-base-url'];
  let prefix = '';
  if (typeof base === 'string') {
    try {
      prefix = new URL(base).pathname.replace(/\/$/, '');
    } catch {
      prefix = '';
    }
  }
  return prefix ? [prefix + path, path] : [path];
}

export async function s3Caller(req: FastifyRequest, project: Project, keys: S3KeysDomain): Promise<S3Caller> {
  const qi = req.url.indexOf('?');
  const path = qi < 0 ? req.url : req.url.slice(0, qi);
  const rawQuery = qi < 0 ? '' : req.url.slice(qi + 1);
  const sig = extractSignature(req.headers, parseQuery(rawQuery));
  if (!sig) throw accessDenied('Missing signature');
  let secret: string | null;
  if (sig.sessionToken) {
    // session-token mode: the project's ref and anon key sign, the user's JWT says who acts
    if (sig.accessKeyId !== project.ref) throw unknownKey();
    secret = project.anonKey;
  } else {
    secret = await keys.secretOf(project.ref, sig.accessKeyId);
    if (!secret) throw unknownKey();
  }
  const forwarded = req.headers['x-forwarded-host'];
  const host = typeof forwarded === 'string' && forwarded ? forwarded : req.headers.host ?? '';
  const signingKey = verifySignature(sig, secret, { method: req.method, paths: publicPaths(req, path), query: rawQuery, headers: req.headers, host });
  const where = { method: req.method, path };
  if (!sig.sessionToken) return { project, sig, signingKey, actor: { ...SERVICE, ...where } };
  try {
    const p = authenticate(project, sig.sessionToken);
    return { project, sig, signingKey, actor: { role: p.role, claims: p.claims, sub: typeof p.claims.sub === 'string' ? p.claims.sub : undefined, ...where } };
  } catch (e) {
    if (e instanceof AuthError) throw accessDenied(e.reason === 'expired' ? '"exp" claim timestamp check failed' : 'The session token is not a valid JWT of this project');
    throw e;
  }
}

export { SigError };
