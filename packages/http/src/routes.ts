// A route file declares its routes as a list at the top (method, url, schema, handler), PocketBase-style;
// defineRoute infers the handler's request types from the zod schemas, registerRoutes mounts a list.
import type { FastifyReply, FastifyRequest, HTTPMethods, RouteShorthandOptions } from 'fastify';
import type { z } from 'zod';
import type { App } from './service.js';

type Infer<T> = T extends z.ZodTypeAny ? z.output<T> : unknown;

export interface RouteSchema {
  body?: z.ZodTypeAny;
  querystring?: z.ZodTypeAny;
  params?: z.ZodTypeAny;
  headers?: z.ZodTypeAny;
}

export type RouteRequest<S extends RouteSchema> = FastifyRequest<{
  Body: Infer<S['body']>;
  Querystring: Infer<S['querystring']>;
  Params: Infer<S['params']>;
  Headers: Infer<S['headers']>;
}>;

export interface RouteDef<S extends RouteSchema = RouteSchema> {
  method: HTTPMethods | HTTPMethods[];
  url: string;
  schema?: S;
  /** bytes; overrides the service's body limit for this route */
  bodyLimit?: number;
  /** runs before the handler (authorisation, per-request composition) */
  preHandler?: RouteShorthandOptions['preHandler'];
  /** what the handler returns is sent as JSON; it may also use reply itself */
  handler: (req: RouteRequest<S>, reply: FastifyReply) => unknown;
}

export const defineRoute = <S extends RouteSchema = Record<never, never>>(r: RouteDef<S>): RouteDef<S> => r;

export function registerRoutes(app: App, routes: RouteDef<any>[], prefix = ''): void {
  for (const r of routes) {
    app.route({ ...r, url: `${prefix}${r.url}`, handler: r.handler as never, preHandler: r.preHandler as never });
  }
}
