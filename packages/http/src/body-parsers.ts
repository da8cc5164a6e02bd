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
}

export const invalidJson = (message: string) => new BasaltError(400, 'invalid_json', message);

export function parseJson(body: Buffer, opts: JsonOptions = {}): unknown {
  const max = opts.maxDepth ?? MAX_JSON_DEPTH;
  if (body.length === 0) return {};
  if (jsonDepthExceeds(body, max)) throw invalidJson(`JSON body is nested deeper than ${max} levels`);
  const text = body.toString('utf8');
  if (opts.strict !== false && !/^[\s]*[[{]/.test(text)) throw invalidJson('Invalid JSON: the body must be an object or an array');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw invalidJson(`Invalid JSON: ${(e as Error).message}`);
  }
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
