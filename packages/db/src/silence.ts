// A database that stops answering (a frozen server, a black-holed network) would hold each waiting statement, and
// its pool connection, until the operating system gives up on the socket: many minutes, every request of the
// project hanging until the gateway's own timeout. Here a statement unanswered for longer than its bound is given
// up: its caller gets DatabaseSilent (a 503) and the connection is cut, never reused.
//
// Nothing is done per statement: one timer a second looks at the watched clients and notes which statement each
// is waiting on; the same one seen waiting for longer than the bound is a silent database. (A timer per statement,
// node-pg's query_timeout, cost 8–14 µs of CPU each in REST.) The bound is the pool's (silenceMs), or for one
// transaction its statement timeout plus a grace (asCaller): a statement's own timeout answers first whenever the
// server is alive.
import type pg from 'pg';
import { BasaltError, DATABASE_RETRY_AFTER_SECONDS } from '@basalt/errors';

/** The database did not answer within the bound: the connection is discarded, never given back to the pool. */
export class DatabaseSilent extends BasaltError {
  constructor(ms: number) {
    super(503, 'database_silent', `the database did not answer within ${ms} ms`, { headers: { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) } });
    this.name = 'DatabaseSilent';
  }
}

/** how long past its statement timeout a statement is waited for before its database counts as silent */
export const SILENCE_GRACE_MS = 5_000;

/**
 * A set looked over once a second by one timer, which stops while the set is empty (REST's pipelines with a
 * deadline use one too).
 */
export class Sweeper<T> {
  readonly #items = new Set<T>();
  #timer: NodeJS.Timeout | null = null;
  constructor(private readonly check: (item: T, now: number) => void, private readonly everyMs = 1_000) {}

  add(item: T): void {
    this.#items.add(item);
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      const now = performance.now();
      for (const item of this.#items) this.check(item, now);
      if (this.#items.size === 0) {
        clearInterval(this.#timer!);
        this.#timer = null;
      }
    }, this.everyMs);
    this.#timer.unref();
  }

  delete(item: T): void {
    this.#items.delete(item);
  }
}

/** node-pg's client as far as this module reads it (pg 8: the statement being answered, the socket) */
type Internals = pg.ClientBase & {
  _activeQuery?: unknown;
  _errorAllQueries?: (err: Error) => void;
  connection?: { stream?: { destroy?: () => void } };
};

class Watch {
  /** the statement last seen waiting, and since when (performance.now()) */
  waiting: unknown = null;
  since = 0;
  /** the bound of the current transaction (asCaller), when it sets one */
  override: number | null = null;
  constructor(readonly client: Internals, readonly boundMs: number) {}
}

const watches = new WeakMap<pg.ClientBase, Watch>();
const sweeper = new Sweeper<Watch>((w, now) => {
  const current = w.client._activeQuery ?? null;
  if (current === null || current !== w.waiting) {
    w.waiting = current;
    w.since = now;
    return;
  }
  const bound = w.override ?? w.boundMs;
  if (now - w.since < bound) return;
  sweeper.delete(w);
  watches.delete(w.client);
  // every statement sent or queued on it fails with this, then the socket goes (its 'end' finds nothing left to fail)
  w.client._errorAllQueries?.(new DatabaseSilent(bound));
  w.client.connection?.stream?.destroy?.();
});

/** Watches a connected client for the rest of its life: a statement unanswered for `boundMs` fails its caller. */
export function watchSilence(client: pg.ClientBase, boundMs: number): void {
  const w = new Watch(client as Internals, boundMs);
  watches.set(client, w);
  sweeper.add(w);
  client.once('end', () => {
    sweeper.delete(w);
    watches.delete(client);
  });
}

/** a transaction's own bound: its statement timeout and the grace; null without one (the pool's bound holds) */
export const transactionBound = (timeoutMs: number | undefined): number | null => (timeoutMs ? timeoutMs + SILENCE_GRACE_MS : null);

/**
 * After a failed statement of a transaction: rolls it back; true when the client is broken instead (its database
 * silent, or the rollback failed), to be released as such and never reused.
 */
export async function rollBackOrBroken(client: pg.ClientBase, failure: unknown): Promise<boolean> {
  if (failure instanceof DatabaseSilent) return true;
  return client.query('rollback').then(() => false, () => true);
}

/** For one transaction of a watched client: its own bound (`null`: the pool's again). Nothing for one not watched. */
export function silenceBound(client: pg.ClientBase, boundMs: number | null): void {
  const w = watches.get(client);
  if (w) w.override = boundMs;
}
