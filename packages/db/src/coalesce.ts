// Requests that arrive together served by one statement: what waits for a connection of the pool goes in the next
// statement, up to a full batch, instead of each taking a round trip of its own. Every round trip costs Postgres a
// statement's fixed work (and a write its commit) and both processes a wake-up, which on this kind of machine is
// most of a small statement's cost; a lone request still goes at once, as a batch of one.
//
// A batch answers each of its inputs, or null for one it did not serve, whose caller then takes its own path (the
// statement for one input): a batch that fails answers null to all of its inputs, so one input's failure is never
// another's, and each caller meets its own error on its own path. A connection the pool cannot give (its
// acquisition timed out) fails the waiting inputs with the pool's error: their own path would only wait as long again.
import type pg from 'pg';
import { DatabaseSilent } from './silence.js';

export interface CoalesceOptions<I, O> {
  /** inputs to a statement at most */
  maxBatch: number;
  /**
   * statements at once while they keep up; more (up to the pool's size) only when the queue outgrows a full batch.
   * One for statements that contend with each other (rows they lock), more for reads; 'pool' for the pool's size.
   */
  workers: number | 'pool';
  /**
   * when set, statements beyond `workers` (up to the pool's size) start once the oldest waiting input has waited this
   * long, rather than when the queue outgrows a full batch: slow statements still get the pool's connections, while
   * fast ones keep to `workers` connections, each carrying bigger batches (see growAfterMs in REST's execute.ts)
   */
  growAfterMs?: number;
  /**
   * runs one batch on the connection: the answer to each input, in order, null for one it did not serve; `answer`
   * gives one input its answer before the batch is over (a later answer to it is ignored)
   */
  run: (client: pg.PoolClient, batch: readonly I[], answer: (i: number, o: O) => void) => Promise<(O | null)[]>;
}

interface Waiting<I, O> {
  input: I;
  resolve: (o: O | null) => void;
  reject: (e: unknown) => void;
  /** performance.now() when it was queued (with growAfterMs only) */
  at: number;
}

class Queue<I, O> {
  #queue: Waiting<I, O>[] = [];
  #workers = 0;
  readonly #eager: number;
  readonly #most: number;
  /** the check for a grown wait, while one is due (growAfterMs) */
  #growTimer: NodeJS.Timeout | null = null;

  constructor(private readonly pool: pg.Pool, private readonly o: CoalesceOptions<I, O>) {
    const size = pool.options.max ?? 10;
    this.#eager = o.workers === 'pool' ? size : o.workers;
    this.#most = Math.max(this.#eager, size);
  }

  submit(input: I): Promise<O | null> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ input, resolve, reject, at: this.o.growAfterMs === undefined ? 0 : performance.now() });
      if (this.#workers < this.#eager) this.#start();
      else if (this.#workers >= this.#most) return;
      else if (this.o.growAfterMs !== undefined) this.#checkLater();
      else if (this.#queue.length > this.o.maxBatch) this.#start();
    });
  }

  #start(): void {
    this.#workers++;
    void this.#work();
  }

  /**
   * Looks again once the oldest waiting input has waited growAfterMs (no arrival may come to notice it), and starts
   * one more statement then; after that, at most one more per growAfterMs while inputs still wait.
   */
  #checkLater(delayMs = Math.max(0, this.#queue[0]!.at + this.o.growAfterMs! - performance.now())): void {
    if (this.#growTimer) return;
    this.#growTimer = setTimeout(() => {
      this.#growTimer = null;
      const oldest = this.#queue[0];
      if (oldest && this.#workers < this.#most && performance.now() - oldest.at >= this.o.growAfterMs!) this.#start();
      if (this.#queue.length > 0 && this.#workers < this.#most) this.#checkLater(this.o.growAfterMs);
    }, delayMs);
    this.#growTimer.unref();
  }

  /** Takes a connection, then every input queued by then (up to a batch), until the queue is empty. */
  async #work(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        let client: pg.PoolClient;
        try {
          client = await this.pool.connect();
        } catch (e) {
          // no connection: the pool's error is the answer of the inputs that waited for it
          for (const w of this.#queue.splice(0, this.o.maxBatch)) w.reject(e);
          continue;
        }
        const batch = this.#queue.splice(0, this.o.maxBatch);
        let failed: Error | undefined;
        try {
          if (batch.length > 0) {
            const out = await this.o.run(client, batch.map((w) => w.input), (i, o) => batch[i]!.resolve(o));
            batch.forEach((w, i) => w.resolve(out[i] ?? null));
          }
        } catch (e) {
          failed = e as Error;
          // a silent database is every input's answer: on their own paths they would only wait as long again
          if (e instanceof DatabaseSilent) for (const w of batch) w.reject(e);
          else for (const w of batch) w.resolve(null);
        } finally {
          // a connection whose statement failed is closed, not given back: it may be the connection that broke
          client.release(failed);
        }
      }
    } finally {
      this.#workers--;
    }
  }
}

/**
 * A function that serves each input through the pool's queue of batches (see the top of this file): the batch's
 * answer to it, or null when no batch served it and the caller takes its own path; it rejects with the pool's
 * error when no connection could be had.
 */
export function coalesced<I, O>(o: CoalesceOptions<I, O>): (pool: pg.Pool, input: I) => Promise<O | null> {
  const queues = new WeakMap<pg.Pool, Queue<I, O>>();
  return (pool, input) => {
    let q = queues.get(pool);
    if (!q) queues.set(pool, (q = new Queue(pool, o)));
    return q.submit(input);
  };
}

/** The smallest of `sizes` (ascending) that holds n: a batch is padded up to it, so a connection prepares few statements. */
export const batchSize = (sizes: readonly number[], n: number): number => sizes.find((s) => s >= n) ?? sizes[sizes.length - 1]!;
