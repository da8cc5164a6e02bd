// Several statements in one round trip: each as an extended-protocol Parse (first use on the connection only,
// see statements.ts)/Bind/Execute, then a single Sync. Outside a transaction block Postgres runs everything up to
// the Sync as one implicit transaction, so set_config(…, true) in the first step scopes the caller's settings to
// exactly the statement after it. node-pg has no public API for this: it runs as a "submittable" (as pg-cursor
// does) on node-pg's Connection, which is why `pg` is pinned to an exact version (see pipeline.int.test.ts).
import pg from 'pg';
import { restStatements } from './statements.js';

// node-pg's own parameter encoding (Date, Buffer, arrays, JSON), the one its Query uses.
const utils = (pg as unknown as { utils: { prepareValue: (v: unknown) => unknown } }).utils;

interface Connection {
  stream: { cork?: () => void; uncork?: () => void };
  parse(q: { text: string; name?: string }): void;
  bind(c: { statement?: string; values: unknown[]; valueMapper: unknown }): void;
  describe(c: { type: string; name?: string }): void;
  execute(c: { rows?: number }): void;
  sync(): void;
}

export interface Step { text: string; values: unknown[] }
export type Row = Record<string, string | null>;

/** A failed pipeline names the statements it prepared: they may or may not exist now (see deallocateSql). */
export type PipelineError = Error & { severity?: string; prepared: string[] };

class Pipeline {
  #fields: string[] = [];
  #rows: Row[] = [];
  #completed = 0;
  #failed = false;
  #connection: Connection | null = null;
  readonly prepared: string[] = [];
  constructor(private readonly steps: Step[], private readonly done: (err: unknown, rows: Row[]) => void) {}

  submit(connection: Connection): null {
    this.#connection = connection;
    connection.stream.cork?.();
    try {
      this.steps.forEach((s, i) => {
        const { name, parse } = restStatements.claim(connection, s.text);
        if (parse) {
          connection.parse({ text: s.text, name });
          if (name) this.prepared.push(name);
        }
        connection.bind({ statement: name, values: s.values, valueMapper: utils.prepareValue });
        // Only the last step's rows are wanted, so only its row description is asked for.
        if (i === this.steps.length - 1) connection.describe({ type: 'P' });
        connection.execute({});
      });
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
    return null;
  }

  handleRowDescription(msg: { fields: { name: string }[] }) {
    this.#fields = msg.fields.map((f) => f.name);
  }
  handleDataRow(msg: { fields: (string | null)[] }) {
    if (this.#completed === this.steps.length - 1) this.#rows.push(Object.fromEntries(this.#fields.map((f, i) => [f, msg.fields[i]])));
  }
  handleCommandComplete() {
    this.#completed++;
  }
  handleEmptyQuery() {}
  handlePortalSuspended() {}
  handleCopyInResponse() {}
  handleCopyData() {}
  handleError(err: unknown) {
    this.#failed = true;
    if (this.#connection) restStatements.forget(this.#connection, this.prepared);
    this.done(Object.assign(err as object, { prepared: this.prepared }), []);
  }
  handleReadyForQuery() {
    if (!this.#failed) this.done(null, this.#rows);
  }
}

/** Runs the steps in one round trip; resolves the last step's rows, every field as text. */
export function runPipeline(client: pg.ClientBase, steps: Step[]): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    const p = new Pipeline(steps, (err, rows) => (err ? reject(err) : resolve(rows)));
    (client as unknown as { query: (q: unknown) => void }).query(p);
  });
}

/** Drops what a failed pipeline may have prepared; run it once the connection is out of any failed transaction. */
export const deallocateSql = (name: string) => `deallocate "${name}"`;
