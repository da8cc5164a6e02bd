// One error renderer, two shapes: the management API speaks the platform's {code, message}; /mongo/v1 the
// Data API's {error, error_code} with MongoDB's numeric code beside it.
import type { FastifyRequest } from 'fastify';
import type { BasaltError } from '@basalt/errors';

export function renderError(e: BasaltError, req: FastifyRequest): unknown {
  if (req.url.startsWith('/platform/')) return { code: e.code, message: e.message, ...(e.details !== undefined ? { details: e.details } : {}) };
  const d = e.details as { code?: number } | undefined;
  return { error: e.message, error_code: e.code, ...(typeof d?.code === 'number' ? { code: d.code } : {}) };
}
