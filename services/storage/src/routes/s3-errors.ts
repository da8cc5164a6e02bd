// Errors on the S3 endpoint as S3 writes them: the real HTTP status and an XML <Error> with Code and Message
// (HEAD answers carry no body). Storage's own errors keep their codes, under the status their body names.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BasaltError } from '@basalt/errors';
import { ValidationFailed } from '@basalt/http';
import { SigError } from '../domain/sigv4.js';
import { fromStorageDbError, type StorageDetails } from '../errors.js';

const SIG_STATUS: Record<SigError['code'], number> = {
  AccessDenied: 403, SignatureDoesNotMatch: 403, AuthorizationHeaderMalformed: 400, AuthorizationQueryParametersError: 400,
  RequestTimeTooSkewed: 403, ExpiredToken: 400, MissingSecurityHeader: 400,
};
/** Storage codes whose S3 name differs */
const S3_CODE: Record<string, string> = { ResourceNotEmpty: 'BucketNotEmpty', InvalidJWT: 'AccessDenied' };

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

function describe(err: unknown): { status: number; code: string; message: string } {
  if (err instanceof SigError) return { status: SIG_STATUS[err.code], code: err.code, message: err.message };
  if (err instanceof ValidationFailed) return { status: 400, code: 'InvalidArgument', message: err.message };
  const e = fromStorageDbError(err);
  if (e instanceof BasaltError && e.status < 500) {
    const logical = Number((e.details as StorageDetails | undefined)?.statusCode) || e.status;
    return { status: logical, code: S3_CODE[e.code] ?? e.code, message: e.message };
  }
  const f = err as { code?: string; statusCode?: number; message?: string };
  if (typeof f?.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) return { status: 400, code: 'InvalidRequest', message: f.message ?? 'Invalid request' };
  if (e instanceof BasaltError && e.status === 503) return { status: 503, code: 'ServiceUnavailable', message: e.message };
  return { status: 500, code: 'InternalError', message: 'We encountered an internal error. Please try again.' };
}

export function sendS3Error(req: FastifyRequest, reply: FastifyReply, err: unknown) {
  const { status, code, message } = describe(err);
  if (status >= 500) req.log.error({ err }, 'S3 request failed');
  reply.code(status).header('x-amz-request-id', req.id).header('x-amz-error-code', code);
  if (req.method === 'HEAD') return reply.send();
  const resource = req.url.split('?')[0].replace(/^\/storage\/v1\/s3/, '') || '/';
  return reply.type('application/xml').send(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${esc(code)}</Code><Message>${esc(message)}</Message><Resource>${esc(resource)}</Resource><RequestId>${esc(String(req.id))}</RequestId></Error>`);
}
