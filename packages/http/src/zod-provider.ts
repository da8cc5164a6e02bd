// Request validation from zod schemas: route types are inferred from the schema (a type provider), and a
// failure is a 400 the service renders in its own wire shape (see createService's validationError).
import type { FastifySchemaCompiler, FastifyTypeProvider } from 'fastify';
import type { z } from 'zod';

export interface ZodTypeProvider extends FastifyTypeProvider {
  validator: this['schema'] extends z.ZodTypeAny ? z.output<this['schema']> : unknown;
  serializer: this['schema'] extends z.ZodTypeAny ? z.input<this['schema']> : unknown;
}

/** A failed validation: the message names each bad field, the issues travel as details. */
export class ValidationFailed extends Error {
  readonly statusCode = 400;
  readonly code = 'FST_ERR_VALIDATION';
  constructor(readonly part: string, readonly issues: z.ZodIssue[]) {
    super(issues.map((i) => `${[part, ...i.path].join('.')}: ${i.message}`).join('; '));
  }
}

export const zodValidator: FastifySchemaCompiler<z.ZodTypeAny> = ({ schema, httpPart }) => (data) => {
  const r = schema.safeParse(data);
  return r.success ? { value: r.data } : { error: new ValidationFailed(httpPart ?? 'request', r.error.issues) };
};
