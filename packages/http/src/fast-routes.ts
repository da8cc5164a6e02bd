// Fast routes: answers a service gives straight from node:http, before Fastify, where Fastify's per-request
// machinery (request and reply objects, hooks, routing, header merging, the send pipeline) costs more than the
// answer itself: a cache hit. A fast route answers a request completely and synchronously (returns true), or
// declines having written nothing (returns false) and the request goes on to Fastify unchanged; so whatever a
// fast route is unsure of (a cache miss, an error to render, a method it does not know) is Fastify's as before.
// What every answer of the service has, a fast answer has too: the request id (the gateway's x-request-id, else a
// new one), which the route sends itself; a count in the request metrics under the route's group; and, should the
// route throw before writing, the error in the service's wire shape. The service's own onRequest hooks do not run:
// a route adds the headers they would have.
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface FastRoute {
  /** only requests whose URL starts with this are offered to the route */
  prefix: string;
  /** the metrics group its answers are counted under: the pattern of the Fastify route it stands in for */
  group: string;
  /**
   * Answers in full (writeHead and end) and returns true, or returns false having written nothing. `id` is the
   * request id, to be sent as x-request-id as the service sends it on every answer.
   */
  answer: (req: IncomingMessage, res: ServerResponse, id: string) => boolean;
}

export interface FastRouter {
  routes: FastRoute[];
  /** off once the service closes, so Fastify answers what is left (503 while closing) */
  enabled: boolean;
}

export interface FastRouterHooks {
  requestId: (req: IncomingMessage) => string;
  observe: (method: string, group: string, status: number, seconds: number) => void;
  /** renders a failure in the service's wire shape (the route threw before writing anything) */
  fail: (req: IncomingMessage, res: ServerResponse, id: string, err: unknown) => void;
}

/** The node:http request listener: fast routes first, then Fastify's handler for every request they decline. */
export function fastRouting(router: FastRouter, hooks: FastRouterHooks, fastify: (req: IncomingMessage, res: ServerResponse) => void) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (router.enabled) {
      const url = req.url!;
      for (const route of router.routes) {
        if (!url.startsWith(route.prefix)) continue;
        const start = performance.now();
        const id = hooks.requestId(req);
        let answered: boolean;
        try {
          answered = route.answer(req, res, id);
        } catch (err) {
          if (res.headersSent) res.destroy();
          else hooks.fail(req, res, id, err);
          answered = true;
        }
        if (!answered) continue;
        hooks.observe(req.method!, route.group, res.statusCode, (performance.now() - start) / 1000);
        return;
      }
    }
    fastify(req, res);
  };
}
