// The request shapes every auth route shares. Values stay `unknown`: each flow checks its own fields and answers
// GoTrue's own message for a bad one; only the shape of the whole body (an object) is checked here.
import { z } from 'zod';

/** A JSON object or a form; no body at all reads as {} (Fastify hands a validator null for a missing body). */
export const Body = z.record(z.string(), z.unknown()).nullish().transform((b) => b ?? {});
export const Query = z.record(z.string(), z.unknown());
export const Id = z.object({ id: z.string() });
