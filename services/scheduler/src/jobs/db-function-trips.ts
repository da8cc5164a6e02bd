// Runs of db_function jobs of one project, several to a round trip. Each run is still its own transaction (begin,
// the caller's settings, the call, commit: what oneTrip sends), but a trip sends the transactions of several runs as
// one simple-protocol query, so N runs cost one pool checkout, one write and one read instead of N of each: at
// 1,000 runs a second the per-trip cost, not the functions, was what made runs start late.
//
// A run whose call wrote to the database also writes its receipt (tenant migration 0019) in the same transaction,
// after the call: the receipt commits exactly when the call's effect does, so a run whose outcome never reached the
// control database (the scheduler stopped in between) is settled from it (./settle.ts), and a second execution of
// the same run, or of its slot, fails on the receipt's key and rolls its effect back. A call that wrote nothing
// leaves none: its transaction stays read-only, and its commit waits on no WAL flush (a receipt on every run took
// the lateness p99 of 1,000 no-op jobs a second from 139-147 ms to 265-317).
import pg from 'pg';
import { beginAsCallerSql, ident, literal, readOnlyPool, rollBackOrBroken, SILENCE_GRACE_MS, silenceBound } from '@basalt/db';
import { capped } from '@basalt/tenancy';
import type { ClaimedRun, RunOutcome } from '../db/claims.js';
import type { Target } from '../db/jobs.js';

export type DbFunctionRun = ClaimedRun & { target: Extract<Target, { type: 'db_function' }> };

/**
 * The marker row a trip sends before its first run and after each run's commit. Two columns, so no function's own
 * row (`select f()` has one column, whatever f is named) is taken for one.
 */
const DONE = 'basalt_cron_done';
const MARK = `select (extract(epoch from clock_timestamp()) * 1000)::float8 as ${DONE}, true as basalt_cron_mark`;

const asText = (v: unknown) => (v === null || v === undefined ? 'null' : literal(typeof v === 'object' ? JSON.stringify(v) : String(v)));

/**
 * The run's receipt when its transaction has written (has a transaction id), as the caller, through the function
 * (an INSERT statement is refused in a read-only transaction even when it inserts nothing); with `prune`, the
 * receipts over an hour old too (past any run's timeout, so a stranded run is settled first).
 */
const receiptSql = (run: DbFunctionRun, prune: boolean) =>
  `select basalt.cron_receipt(${literal(run.job_id)}, ${literal(run.scheduled_at.toISOString())}, ${prune}) where pg_current_xact_id_if_assigned() is not null`;

/**
 * One run's transaction, then a marker row. Names are quoted identifiers, argument values quoted literals (typed by
 * the function's signature), validated as identifiers on the way in. The marker runs after COMMIT, so its row proves
 * the run committed; Postgres skips the rest of the string after a failing statement, so no marker follows a failure.
 * With `prune`, the transaction also deletes receipts past their time (one run of each trip does).
 */
export function runSql(ref: string, run: DbFunctionRun, prune = false, capMs: number | null = null, readOnly = false): string {
  const [schema, fn] = run.target.name.includes('.') ? run.target.name.split('.') : ['public', run.target.name];
  const args = Object.entries(run.target.args ?? {}).map(([k, v]) => `${ident(k)} => ${asText(v)}`).join(', ');
  // the one request context every service uses, so policies and functions see the same settings as under REST
  const caller = { role: 'service_role', claims: { role: 'service_role', ref }, timeoutMs: capped(run.timeout_ms, capMs), readOnly, method: 'POST', path: `cron:${run.job_id}` };
  return `${beginAsCallerSql(caller)}; select ${ident(schema)}.${ident(fn)}(${args}); ${receiptSql(run, prune)}; commit; ${MARK}`;
}

/** sends one trip; resolves to the marker times (server clock, ms) received, and the error that stopped it, if any */
function send(client: pg.PoolClient, sql: string): Promise<{ marks: number[]; error: Error | null }> {
  return new Promise((resolve) => {
    const marks: number[] = [];
    const query = new pg.Query(sql);
    // rows of the functions themselves come through here too; only the markers carry the column
    query.on('row', (row: Record<string, unknown>) => {
      if (DONE in row && 'basalt_cron_mark' in row) marks.push(Number(row[DONE]));
    });
    query.on('error', (error) => resolve({ marks, error }));
    query.on('end', () => resolve({ marks, error: null }));
    client.query(query);
  });
}

const failed = (run: DbFunctionRun, e: Error, startedAt: Date, durationMs: number, capMs: number | null = null): RunOutcome => {
  const timedOut = (e as { code?: string }).code === '57014';
  const ms = capped(run.timeout_ms, capMs);
  const why = ms < run.timeout_ms ? `timed out after ${ms} ms (the project's plan caps statements at statement_timeout_ms ${ms})` : `timed out after ${ms} ms`;
  return { runId: run.run_id, status: timedOut ? 'timed_out' : 'failed', error: (timedOut ? why : e.message).slice(0, 2000), startedAt, durationMs };
};

/**
 * Runs `runs` (one project's) in trips over one connection, in order, each under its job's timeout_ms capped by the
 * plan's statement_timeout_ms (`capMs`). A run's start and duration come from the
 * markers around it (server clock differences, placed on this process's clock at the trip's start), so a run that
 * waited behind an earlier one of its trip is recorded as starting when it did. A statement error fails that run
 * and the rest go in the next trip; an error that is not Postgres's (the connection broke) leaves unknown whether
 * later statements ran, so the rest are failed rather than sent again.
 */
export async function runDbFunctions(pool: pg.Pool, ref: string, runs: DbFunctionRun[], capMs: number | null = null): Promise<RunOutcome[]> {
  const outcomes: RunOutcome[] = [];
  // a read-only project's runs ask for read-only themselves, whatever their session's default (readOnlyPool)
  const quotaReadOnly = readOnlyPool(pool);
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (e) {
    const at = new Date();
    return runs.map((run) => failed(run, e as Error, at, 0));
  }
  let broken = false;
  try {
    let rest = runs;
    while (rest.length > 0) {
      // a trip is one statement to the pool's silence watch: it may take every run's timeout, and a grace more
      silenceBound(client, rest.reduce((ms, run) => ms + capped(run.timeout_ms, capMs), 0) + SILENCE_GRACE_MS);
      const sentAt = Date.now();
      const { marks, error } = await send(client, `${MARK}; ${rest.map((run, i) => runSql(ref, run, i === 0, capMs, quotaReadOnly)).join('; ')}`);
      const at = (i: number) => sentAt + (marks[i] - marks[0]);
      const done = Math.max(0, marks.length - 1);
      for (let i = 0; i < done; i++) {
        outcomes.push({ runId: rest[i].run_id, status: 'succeeded', error: null, startedAt: new Date(at(i)), durationMs: marks[i + 1] - marks[i] });
      }
      if (!error) break;
      const startedAt = marks.length > 0 ? at(done) : sentAt;
      outcomes.push(failed(rest[done], error, new Date(startedAt), Date.now() - startedAt, capMs));
      broken = await rollBackOrBroken(client, error);
      if (!(error instanceof pg.DatabaseError) || broken) {
        for (const run of rest.slice(done + 1)) outcomes.push(failed(run, new Error(`connection lost before the run was confirmed: ${error.message}`), new Date(), 0));
        broken = true;
        break;
      }
      rest = rest.slice(done + 1);
    }
  } finally {
    silenceBound(client, null);
    client.release(broken);
  }
  return outcomes;
}
