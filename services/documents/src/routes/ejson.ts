// Request and response bodies of /mongo/v1 are EJSON: requests in either form, answers relaxed unless the
// client asks for canonical with `Accept: application/ejson`.
import { BSONError, EJSON } from 'bson';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { docErrors } from '../errors.js';
import { MAX_DEPTH } from '../engine/values.js';

export function parseEjson(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw docErrors.validation('the request body must be a JSON object');
  // one walk: refuses a body nested too deeply, and finds whether it is its own canonical EJSON reading
  if (scan(body, 0, MAX_DEPTH + 5)) return body as Record<string, unknown>;
  try {
    return EJSON.deserialize(body as Record<string, unknown>, { relaxed: false }) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof BSONError) throw docErrors.badValue(`invalid Extended JSON: ${e.message}`);
    throw e;
  }
}

/**
 * Throws tooDeep when an object or array lies deeper than `max`; else true when EJSON.deserialize (canonical)
 * would give back an equal value: no numbers (they become Int32/Double), no `$` field names (type wrappers),
 * no NUL in names (refused) and no `__proto__`. Such a body is a fresh parse, so it is used as it is.
 */
function scan(v: unknown, depth: number, max: number): boolean {
  if (typeof v === 'number') return false;
  if (v === null || typeof v !== 'object') return true;
  if (depth > max) throw docErrors.tooDeep(MAX_DEPTH);
  let plain = true;
  if (Array.isArray(v)) {
    for (const x of v) if (!scan(x, depth + 1, max)) plain = false;
    return plain;
  }
  for (const k of Object.keys(v)) {
    if (k.startsWith('$') || k.includes('\0') || k === '__proto__') plain = false;
    if (!scan((v as Record<string, unknown>)[k], depth + 1, max)) plain = false;
  }
  return plain;
}

export const wantsCanonical = (req: FastifyRequest) => /application\/ejson/i.test(String(req.headers.accept ?? ''));

/** an answer already rendered as relaxed Extended JSON text */
export class RelaxedJson {
  constructor(readonly text: string) {}
}

export function sendEjson(req: FastifyRequest, reply: FastifyReply, value: unknown, canonical = wantsCanonical(req)) {
  return reply
    .type(canonical ? 'application/ejson' : 'application/json; charset=utf-8')
    .send(value instanceof RelaxedJson && !canonical ? value.text : EJSON.stringify(value, { relaxed: !canonical }));
}
