// One round trip per request: the request's settings (role, claims, search_path, statement timeout, read-only)
// and the statement go to Postgres as two extended-protocol executions before a single Sync. Postgres runs
// everything up to a Sync as one implicit transaction, so set_config(…, true) scopes the settings to exactly
// this statement and the Sync commits it (or rolls it back on error) — BEGIN; settings; query; COMMIT with
// every value a bind parameter, pipelined. node-pg runs it as a "submittable" (as pg-cursor does).
import { createHash } from 'node:crypto';
import pg from 'pg';

// node-pg's own parameter encoding (Date, Buffer, arrays, JSON), the one its Query uses.
const utils = (pg as unknown as { utils: { prepareValue: (v: unknown) => unknown } }).utils;

export const SETTINGS_SQL = `select set_config('search_path', $1, true), set_config('statement_timeout', $2, true),
  set_config('role', $3, true), set_config('request.jwt.claims', $4, true), set_config('request.jwt.claim.sub', $5, true),
  set_config('request.jwt.claim.role', $3, true), set_config('request.method', $6, true), set_config('request.path', $7, true),
  set_config('transaction_read_only', $8, true), set_config('timezone', coalesce(nullif($9, ''), current_setting('timezone')), true),
  (select count(set_config('request.jwt.claim.' || c.k, c.v, true)) from json_each_text($4::json) as c(k, v) where c.k ~ '^[a-z_][a-z0-9_]*$')`;
// The last line is PostgREST's legacy per-claim settings (request.jwt.claim.email, …) for policies that read them.
const SETTINGS_NAME = 'rest_settings';

const MAX_PER_CONNECTION = 256;
const prepared = new WeakMap<object, Set<string>>();

interface Conn {
  stream: { cork?: () => void; uncork?: () => void };
  parse(q: { text: string; name?: string; types?: number[] }): void;
  bind(c: { statement?: string; values: unknown[]; valueMapper: unknown }): void;
  describe(c: { type: string; name?: string }): void;
  execute(c: { rows?: number }): void;
  sync(): void;
}

type Row = Record<string, string | null>;

class Pipeline {
  #fields: string[] = [];
  #rows: Row[] = [];
  #results = 0;
  #error: unknown = null;
  readonly sent: string[] = [];
  constructor(
    private readonly settings: unknown[],
    private readonly text: string,
    private readonly values: unknown[],
    private readonly done: (err: unknown, rows: Row[]) => void,
  ) {}

  submit(connection: Conn): null {
    let seen = prepared.get(connection);
    if (!seen) prepared.set(connection, (seen = new Set()));
    const name = `restp_${createHash('sha1').update(this.text).digest('base64url').slice(0, 22)}`;
    const useName = seen.has(name) || seen.size < MAX_PER_CONNECTION;
    connection.stream.cork?.();
    try {
      if (!seen.has(SETTINGS_NAME)) { connection.parse({ text: SETTINGS_SQL, name: SETTINGS_NAME }); this.sent.push(SETTINGS_NAME); }
      connection.bind({ statement: SETTINGS_NAME, values: this.settings, valueMapper: utils.prepareValue });
      connection.execute({});
      if (!useName || !seen.has(name)) {
        connection.parse({ text: this.text, name: useName ? name : '' });
        if (useName) this.sent.push(name);
      }
      connection.bind({ statement: useName ? name : '', values: this.values, valueMapper: utils.prepareValue });
      connection.describe({ type: 'P' });
      connection.execute({});
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
    for (const n of this.sent) seen.add(n);
    this.seen = seen;
    return null;
  }

  seen: Set<string> | null = null;

  handleRowDescription(msg: { fields: { name: string }[] }) {
    this.#fields = msg.fields.map((f) => f.name);
  }
  handleDataRow(msg: { fields: (string | null)[] }) {
    if (this.#results === 1) this.#rows.push(Object.fromEntries(this.#fields.map((f, i) => [f, msg.fields[i]])));
  }
  handleCommandComplete() {
    this.#results++;
  }
  handleEmptyQuery() {}
  handlePortalSuspended() {}
  handleCopyInResponse() {}
  handleCopyData() {}
  handleError(err: unknown) {
    // The statements this pipeline tried to prepare may or may not exist now; forget them so the next use
    // prepares afresh (the caller deallocates them, ignoring "does not exist").
    for (const n of this.sent) this.seen?.delete(n);
    this.#error = err;
    this.done(err, []);
  }
  handleReadyForQuery() {
    if (!this.#error) this.done(null, this.#rows);
  }
}

export interface StatementSettings { searchPath: string; timeoutMs: number; role: string; claims: string; sub: string; method: string; path: string; readOnly: boolean; timezone: string | null }

export const settingsValues = (s: StatementSettings) =>
  [s.searchPath, `${Math.trunc(s.timeoutMs)}ms`, s.role, s.claims, s.sub, s.method, s.path, s.readOnly ? 'on' : 'off', s.timezone ?? ''];

/** Runs settings + statement in one round trip; resolves the statement's rows as text fields. */
export function pipelined(client: pg.PoolClient, s: StatementSettings, text: string, values: unknown[]): Promise<{ rows: Row[]; sent: string[] }> {
  return new Promise((resolve, reject) => {
    const settings = settingsValues(s);
    const p: Pipeline = new Pipeline(settings, text, values, (err, rows) => (err ? reject(Object.assign(err as object, { sent: p.sent })) : resolve({ rows, sent: p.sent })));
    (client as unknown as { query: (q: unknown) => void }).query(p);
  });
}
