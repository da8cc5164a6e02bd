// Several statements in one round trip: each as an extended-protocol Parse (first use on the connection only,
// see statements.ts)/Bind/Execute, then a single Sync. Outside a transaction block Postgres runs everything up to
// the Sync as one implicit transaction, so set_config(…, true) in the first step scopes the caller's settings to
// exactly the statement after it. node-pg has no public API for this: it runs as a "submittable" (as pg-cursor
// does) on node-pg's Connection, writing its messages (wire.ts) to the connection's socket and reading the answers
// node-pg parses, which is why `pg` is pinned to an exact version (see pipeline.int.test.ts).
import type pg from 'pg';
import { DatabaseSilent, Sweeper } from '@basalt/db';
import { restStatements } from './statements.js';
import { WireWriter } from './wire.js';

/** the messages of every pipeline, written one pipeline at a time (submit runs start to end without a wait) */
const wire = new WireWriter();

interface Connection {
  stream: { writable: boolean; write: (b: Buffer) => boolean; destroy?: () => void };
}

export interface Step { text: string; values: unknown[] }
export type Row = Record<string, string | null>;

/**
 * A failed pipeline names the statements it prepared (they may or may not exist now, see deallocateSql), and the
 * step whose statement failed.
 */
export type PipelineError = Error & { severity?: string; prepared: string[]; step: number };

/** an error Postgres answered (the connection is fine), not a failure of the connection */
export const isPgError = (e: unknown): e is PipelineError => !!(e as PipelineError)?.severity;


/** A step whose rows are wanted names the list they go to. */
export type Planned = Step & { into?: number };

class Pipeline {
  #fields: string[] = [];
  readonly #rows: Row[][] = [];
  #completed = 0;
  #failed = false;
  #connection: Connection | null = null;
  readonly prepared: string[] = [];
  /** when the answer is given up on (performance.now()), once sent; Infinity without a deadline */
  deadlineAt = Infinity;
  constructor(
    private readonly steps: Planned[], private readonly done: (err: unknown, rows: Row[][]) => void,
    private readonly each?: (into: number, rows: Row[]) => void, private readonly deadlineMs: number | null = null,
  ) {
    for (const s of steps) if (s.into !== undefined) this.#rows[s.into] = [];
  }

  submit(connection: Connection): Error | null {
    this.#connection = connection;
    if (this.deadlineMs !== null) {
      this.deadlineAt = performance.now() + this.deadlineMs;
      waiting.add(this);
    }
    try {
      for (const s of this.steps) {
        const { name, parse } = restStatements.claim(connection, s.text);
        if (parse) {
          wire.parse(name, s.text);
          if (name) this.prepared.push(name);
        }
        wire.bind(name, s.values);
        // only the wanted steps' row descriptions are asked for
        if (s.into !== undefined) wire.describePortal();
        wire.execute();
      }
      wire.sync();
    } catch (e) {
      // a value that cannot be encoded: nothing was sent, and node-pg hands the error to handleError
      wire.reset();
      return e as Error;
    }
    const out = wire.take();
    if (connection.stream.writable) connection.stream.write(out);
    return null;
  }

  handleRowDescription(msg: { fields: { name: string }[] }) {
    this.#fields = msg.fields.map((f) => f.name);
  }
  handleDataRow(msg: { fields: (string | null)[] }) {
    const into = this.steps[this.#completed]?.into;
    if (into !== undefined) this.#rows[into]!.push(Object.fromEntries(this.#fields.map((f, i) => [f, msg.fields[i]])));
  }
  handleCommandComplete() {
    const into = this.steps[this.#completed]?.into;
    if (into !== undefined) this.each?.(into, this.#rows[into]!);
    this.#completed++;
  }
  handleEmptyQuery() {}
  handlePortalSuspended() {}
  handleCopyInResponse() {}
  handleCopyData() {}
  /** The deadline passed: the caller is answered, and the connection cut (whatever comes later has no reader). */
  expire() {
    if (this.#failed) return;
    this.#failed = true;
    waiting.delete(this);
    this.done(new DatabaseSilent(this.deadlineMs!), this.#rows);
    this.#connection?.stream.destroy?.();
  }

  handleError(err: unknown) {
    if (this.#failed) return;
    this.#failed = true;
    waiting.delete(this);
    if (this.#connection) restStatements.forget(this.#connection, this.prepared);
    this.done(Object.assign(err as object, { prepared: this.prepared, step: this.#completed }), this.#rows);
  }
  handleReadyForQuery() {
    waiting.delete(this);
    if (!this.#failed) this.done(null, this.#rows);
  }
}

/**
 * Pipelines sent with a deadline and not yet answered, looked over once a second by one timer: a timer of their
 * own (node-pg's query_timeout) cost 8–14 µs of CPU per statement here, a third of a GET by key's. (REST's pools are
 * not watched for silence as other services' are: a pipeline knows its own deadline.)
 */
const waiting = new Sweeper<Pipeline>((p, now) => {
  if (now >= p.deadlineAt) p.expire();
});

/** Runs the steps in one round trip; resolves the last step's rows, every field as text. */
export function runPipeline(client: pg.ClientBase, steps: Step[], deadlineMs?: number | null): Promise<Row[]> {
  const planned: Planned[] = steps.map((s, i) => (i === steps.length - 1 ? { ...s, into: 0 } : s));
  return new Promise((resolve, reject) => {
    const p = new Pipeline(planned, (err, rows) => (err ? reject(err) : resolve(rows[0]!)), undefined, deadlineMs);
    (client as unknown as { query: (q: unknown) => void }).query(p);
  });
}

export interface PlannedRun {
  /** the rows of each list (`into`); those of the steps before a failed one are complete */
  rows: Row[][];
  /** a Postgres error, at `step`: the steps after it did not run */
  failed: PipelineError | null;
}

/**
 * Runs the steps in one round trip, their rows into the lists they name; `each` has a list as soon as its step has
 * completed. A Postgres error is answered, not thrown (the steps before it have their rows); any other failure (the
 * connection's) rejects.
 */
export function runPlanned(
  client: pg.ClientBase, steps: Planned[], each?: (into: number, rows: Row[]) => void, deadlineMs?: number | null,
): Promise<PlannedRun> {
  return new Promise((resolve, reject) => {
    const p = new Pipeline(steps, (err, rows) => {
      if (!err) resolve({ rows, failed: null });
      else if (isPgError(err)) resolve({ rows, failed: err });
      else reject(err);
    }, each, deadlineMs);
    (client as unknown as { query: (q: unknown) => void }).query(p);
  });
}

/** Drops what a failed pipeline may have prepared; run it once the connection is out of any failed transaction. */
export const deallocateSql = (name: string) => `deallocate "${name}"`;
