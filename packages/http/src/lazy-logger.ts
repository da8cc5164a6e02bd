// Request loggers made on first use. Every request has a logger (request.log, reply.log: the service's code and
// Fastify's own warnings write through it), a pino child serialises its bindings when it is made, and most requests
// never log (no per-request access line: the gateway keeps those). A LazyLogger holds the recipe and makes the child
// the first time anything logs, so the lines written (bindings, level, serializers) are those the child would have
// written.
import type { IncomingMessage } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';

type Args = Parameters<FastifyBaseLogger['info']>;

export class LazyLogger implements FastifyBaseLogger {
  #real: FastifyBaseLogger | undefined;
  // the recipe as fields, not a closure: a closure made per request is also named under tsx (a defineProperty)
  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly reqId: string,
    private readonly raw: IncomingMessage,
  ) {}

  /** the request's child logger, bound to its id and to the project the gateway named (x-basalt-ref), if it did */
  get #logger(): FastifyBaseLogger {
    if (this.#real) return this.#real;
    const ref = this.raw.headers['x-basalt-ref'];
    return (this.#real = this.parent.child(typeof ref === 'string' ? { reqId: this.reqId, ref } : { reqId: this.reqId }));
  }

  get level() { return this.#logger.level; }
  set level(level: string) { this.#logger.level = level; }
  info(...args: Args) { (this.#logger.info as (...a: Args) => void)(...args); }
  error(...args: Args) { (this.#logger.error as (...a: Args) => void)(...args); }
  debug(...args: Args) { (this.#logger.debug as (...a: Args) => void)(...args); }
  fatal(...args: Args) { (this.#logger.fatal as (...a: Args) => void)(...args); }
  warn(...args: Args) { (this.#logger.warn as (...a: Args) => void)(...args); }
  trace(...args: Args) { (this.#logger.trace as (...a: Args) => void)(...args); }
  silent(...args: Args) { (this.#logger.silent as (...a: Args) => void)(...args); }
  child(bindings: Record<string, unknown>, options?: Record<string, unknown>): FastifyBaseLogger { return this.#logger.child(bindings, options); }
}
