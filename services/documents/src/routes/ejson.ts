// Request and response bodies of /mongo/v1 are EJSON: requests in either form, answers relaxed unless the
// client asks for canonical with `Accept: application/ejson`.
import { BSONError, EJSON } from 'bson';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { docErrors } from '../errors.js';
import { MAX_DEPTH } from '../engine/values.js';

export function parseEjson(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw docErrors.validation('the request body must be a JSON object');
  if (depthOver(body, MAX_DEPTH + 5)) throw docErrors.tooDeep(MAX_DEPTH);
  try {
    return EJSON.deserialize(body as Record<string, unknown>, { relaxed: false }) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof BSONError) throw docErrors.badValue(`invalid Extended JSON: ${e.message}`);
    throw e;
  }
}

function depthOver(v: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[v, 0]];
  while (stack.length) {
    const [x, d] = stack.pop()!;
    if (d > max) return true;
    if (x && typeof x === 'object') for (const y of Object.values(x)) if (y && typeof y === 'object') stack.push([y, d + 1]);
  }
  return false;
}

export const wantsCanonical = (req: FastifyRequest) => /application\/ejson/i.test(String(req.headers.accept ?? ''));

export function sendEjson(req: FastifyRequest, reply: FastifyReply, value: unknown) {
  const canonical = wantsCanonical(req);
  return reply
    .type(canonical ? 'application/ejson' : 'application/json; charset=utf-8')
    .send(EJSON.stringify(value, { relaxed: !canonical }));
}
