// One error middleware per service: renders a BasaltError in the wire shape of the API the service is compatible with.
import type { ErrorRequestHandler, Request } from 'express';
import { BasaltError, errors, fromPgError } from '@basalt/errors';
import type { Logger } from './logger.js';

export type ErrorShape = (e: BasaltError, req: Request) => unknown;

/** Shapes of the APIs we are compatible with. */
export const errorShapes = {
  /** our own APIs (platform, cron, assets admin) */
  basalt: (e: BasaltError) => ({ code: e.code, message: e.message, ...(e.details !== undefined ? { details: e.details } : {}) }),
  postgrest: (e: BasaltError) => ({ code: e.code, message: e.message, details: e.details ?? null, hint: e.hint ?? null }),
  gotrue: (e: BasaltError) => ({ code: e.status, error_code: e.code, msg: e.message }),
  /** Storage answers most errors with HTTP 400 and the logical status as a string (details.statusCode). */
  storage: (e: BasaltError) => {
    const d = (e.details ?? {}) as { statusCode?: string; error?: string };
    return { statusCode: d.statusCode ?? String(e.status), code: e.code, error: d.error ?? e.code, message: e.message };
  },
  openai: (e: BasaltError) => ({ error: { type: e.code, message: e.message, code: e.code } }),
} satisfies Record<string, ErrorShape>;

function toBasaltError(err: unknown): BasaltError {
  if (err instanceof BasaltError) return err;
  const e = err as { type?: string; status?: number; statusCode?: number; expose?: boolean; message?: string };
  // body-parser errors (malformed JSON, body too large) carry their own 4xx status.
  if (e && typeof e.status === 'number' && e.status >= 400 && e.status < 500 && e.expose) {
    return new BasaltError(e.status, e.type === 'entity.parse.failed' ? 'invalid_json' : 'bad_request', e.message ?? 'Bad request');
  }
  const mapped = fromPgError(err);
  return mapped instanceof BasaltError ? mapped : errors.internal(err);
}

export function errorMiddleware(log: Logger, shape: ErrorShape): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const e = toBasaltError(err);
    const reqLog = (req as { log?: Logger }).log ?? log;
    if (e.status >= 500) reqLog.error({ err: e.cause ?? err, code: e.code }, 'request failed');
    else reqLog.debug({ code: e.code, status: e.status }, 'request rejected');
    if (res.headersSent) return void res.destroy();
    if (e.headers) res.set(e.headers);
    res.status(e.status).json(shape(e, req));
  };
}
