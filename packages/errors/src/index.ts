// The one error type every service throws: a stable code, an HTTP status, a safe message, and a cause that is logged, never sent.

export interface ErrorInit {
  details?: unknown;
  hint?: string | null;
  cause?: unknown;
  headers?: Record<string, string>;
}

export class BasaltError extends Error {
  readonly details?: unknown;
  readonly hint?: string | null;
  readonly headers?: Record<string, string>;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    init: ErrorInit = {},
  ) {
    super(message, { cause: init.cause });
    this.name = 'BasaltError';
    this.details = init.details;
    this.hint = init.hint;
    this.headers = init.headers;
  }
}

export const isBasaltError = (e: unknown): e is BasaltError => e instanceof BasaltError;

/** Factories shared by every service; service-specific ones live in each service's errors.ts. */
export const errors = {
  badRequest: (message: string, details?: unknown) => new BasaltError(400, 'bad_request', message, { details }),
  validation: (message: string, details?: unknown) => new BasaltError(400, 'validation_failed', message, { details }),
  unauthorized: (message = 'Invalid authentication credentials') => new BasaltError(401, 'unauthorized', message),
  forbidden: (message = 'Forbidden') => new BasaltError(403, 'forbidden', message),
  notFound: (what: string) => new BasaltError(404, 'not_found', `${what} not found`),
  conflict: (message: string) => new BasaltError(409, 'conflict', message),
  tooMany: (retryAfterSeconds: number) =>
    new BasaltError(429, 'rate_limited', 'Too many requests', { headers: { 'retry-after': String(retryAfterSeconds) } }),
  unavailable: (message = 'Service unavailable') => new BasaltError(503, 'unavailable', message),
  internal: (cause: unknown) => new BasaltError(500, 'internal', 'Internal server error', { cause }),
};

/** how long a client is asked to wait (Retry-After, seconds) before trying a database that could not be reached again */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

/**
 * node-postgres's own failures to reach the database (no connection within the pool's timeout, one that dropped
 * mid-statement), the socket's (a stopped server refuses, a lost one resets) and the server's own while it shuts
 * down, crashed or starts up (57P01, 57P02, 57P03): a 503, as PostgREST answers a lost database, never a 500.
 */
const PG_UNREACHABLE = /^(timeout exceeded when trying to connect|Connection terminated unexpectedly|Connection terminated due to connection timeout)/;
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const SERVER_GOING = new Set(['57P01', '57P02', '57P03']);

export function isPgConnectionError(e: unknown): e is Error {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  return PG_UNREACHABLE.test(e.message) || (typeof code === 'string' && (NETWORK_CODES.has(code) || SERVER_GOING.has(code)));
}

/**
 * The 503 for such a failure. A bare socket error may as well be another backing service's (storage's S3, say), and
 * its text names an internal address: the answer says only which code it was.
 */
export function fromPgConnectionError(e: unknown): BasaltError | null {
  if (!isPgConnectionError(e)) return null;
  const code = (e as { code?: unknown }).code;
  const socket = typeof code === 'string' && NETWORK_CODES.has(code);
  const message = socket ? `A service this request needs could not be reached (${code})` : `The database could not be reached: ${e.message}`;
  return new BasaltError(503, socket ? 'unavailable' : 'database_unavailable', message, {
    cause: e, headers: { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) },
  });
}

interface PgLikeError {
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

/** An error Postgres answered: it carries a SQLSTATE (five digits or capitals) as its code. */
export const isSqlStateError = (e: unknown): e is PgLikeError =>
  typeof e === 'object' && e !== null && typeof (e as PgLikeError).code === 'string' && /^[0-9A-Z]{5}$/.test((e as PgLikeError).code);

/**
 * Maps a Postgres error to the HTTP status PostgREST would answer (its SQLSTATE table).
 * `anonymous` picks 401 over 403 for insufficient privilege, as PostgREST does.
 */
export function statusForSqlState(code: string, anonymous = false): number {
  if (code === '42501') return anonymous ? 401 : 403;
  const exact: Record<string, number> = {
    '23503': 409, '23505': 409, '23P01': 409, '25006': 405, '40001': 409,
    '42883': 404, '42P01': 404, '42703': 400, '42P17': 500, '57014': 504, '57P01': 503,
    '53400': 500, '53300': 503, 'P0001': 400, 'PT000': 400,
  };
  if (exact[code]) return exact[code];
  const cls = code.slice(0, 2);
  const byClass: Record<string, number> = {
    '08': 503, '09': 500, '0L': 403, '0P': 403, '22': 400, '23': 400, '25': 500, '28': 403,
    '2D': 500, '38': 500, '39': 500, '3B': 500, '40': 500, '53': 503, '54': 500, '55': 500,
    '57': 500, '58': 500, 'F0': 500, 'HV': 500, 'P0': 500, 'XX': 500, '42': 400,
  };
  return byClass[cls] ?? 500;
}

/** Wraps a database error as a BasaltError whose code is the SQLSTATE; other errors pass through. */
export function fromPgError(e: unknown, anonymous = false): unknown {
  if (!isSqlStateError(e)) return e;
  return new BasaltError(statusForSqlState(e.code, anonymous), e.code, e.message, {
    details: e.detail ?? null,
    hint: e.hint ?? null,
    cause: e,
  });
}
