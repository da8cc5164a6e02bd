// Request loggers made on first use. Fastify builds a child logger for every request, and a pino child serialises
// its bindings when it is made, while most requests never log (no per-request access line: the gateway keeps
// those). A LazyLogger holds the recipe and makes the child the first time anything logs, so the lines written
// (bindings, level, serializers) are those the child would have written.
import type { FastifyBaseLogger } from 'fastify';

type Args = Parameters<FastifyBaseLogger['info']>;

export class LazyLogger implements FastifyBaseLogger {
  #real: FastifyBaseLogger | undefined;
  constructor(private readonly make: () => FastifyBaseLogger) {}

  get #logger(): FastifyBaseLogger {
    return (this.#real ??= this.make());
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
