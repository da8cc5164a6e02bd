// Request bodies every Fastify service shares: JSON with a size limit (Fastify's bodyLimit) and a depth limit
// checked before parsing, and flat URL-encoded forms. Express's body-parser behaviour is kept where clients
// rely on it: an empty JSON body is `{}`, and strict mode accepts only an object or array at the top.
import type { FastifyInstance } from 'fastify';

type AnyFastify = FastifyInstance<any, any, any, any, any>;
import { BasaltError } from '@basalt/errors';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from './json-body.js';

export interface JsonOptions {
  types?: string[];
  /** false also accepts a bare scalar at the top level (PostgREST does) */
  strict?: boolean;
  maxDepth?: number;
  /**
   * true refuses a NUL character (\u0000) in strings: for a service whose every body field lands in Postgres text,
   * which cannot hold one (auth: an email with a NUL was a 500 where the database refused it). Services whose
   * bodies carry file contents or prompts leave it off.
   */
  refuseNul?: boolean;
}

/** whether the JSON text has a \u0000 escape (one whose backslash is not itself escaped) */
function hasNulEscape(text: string): boolean {
  for (let at = text.indexOf('\\u0000'); at >= 0; at = text.indexOf('\\u0000', at + 1)) {
    let slashes = 1;
    while (at - slashes >= 0 && text.charCodeAt(at - slashes) === 92) slashes++;
    if (slashes % 2 === 1) return true;
  }
  return false;
}

export const invalidJson = (message: string) => new BasaltError(400, 'invalid_json', message);

export function parseJson(body: Buffer, opts: JsonOptions = {}): unknown {
  const max = opts.maxDepth ?? MAX_JSON_DEPTH;
  if (body.length === 0) return {};
  if (jsonDepthExceeds(body, max)) throw invalidJson(`JSON body is nested deeper than ${max} levels`);
  const text = body.toString('utf8');
  if (opts.strict !== false && !/^[\s]*[[{]/.test(text)) throw invalidJson('Invalid JSON: the body must be an object or an array');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw invalidJson(`Invalid JSON: ${(e as Error).message}`);
  }
  if (opts.refuseNul && hasNulEscape(text)) throw invalidJson('Invalid JSON: a string holds a NUL character (\\u0000), which no text in the database can');
  return value;
}

export function useJsonBodies(app: AnyFastify, opts: JsonOptions = {}): void {
  const types = opts.types ?? ['application/json'];
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(types, { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      done(null, parseJson(body as Buffer, opts));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
}

/** application/x-www-form-urlencoded as a flat object (the last value of a repeated key wins, as qs does not). */
export function useFormBodies(app: AnyFastify): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
}
