// Runs of db_function jobs of one project, several to a round trip. Each run is still its own transaction (begin,
// the caller's settings, the call, commit: what oneTrip sends), but a trip sends the transactions of several runs as
// one simple-protocol query, so N runs cost one pool checkout, one write and one read instead of N of each: at
// 1,000 runs a second the per-trip cost, not the functions, was what made runs start late.
import pg from 'pg';
import { beginAsCallerSql, ident, literal } from '@basalt/db';
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
 * One run's transaction, then a marker row. Names are quoted identifiers, argument values quoted literals (typed by
 * the function's signature), validated as identifiers on the way in. The marker runs after COMMIT, so its row proves
 * the run committed; Postgres skips the rest of the string after a failing statement, so no marker follows a failure.
 */
export function runSql(ref: string, run: DbFunctionRun): string {
  const [schema, fn] = run.target.name.includes('.') ? run.target.name.split('.') : ['public', run.target.name];
  const args = Object.entries(run.target.args ?? {}).map(([k, v]) => `${ident(k)} => ${asText(v)}`).join(', ');
  // the one request context every service uses, so policies and functions see the same settings as under REST
  const caller = { role: 'service_role', claims: { role: 'service_role', ref }, timeoutMs: run.timeout_ms, method: 'POST', path: `cron:${run.job_id}` };
  return `${beginAsCallerSql(caller)}; select ${ident(schema)}.${ident(fn)}(${args}); commit; ${MARK}`;
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

const failed = (run: DbFunctionRun, e: Error, startedAt: Date, durationMs: number): RunOutcome => {
  const timedOut = (e as { code?: string }).code === '57014';
  return {
    runId: run.run_id, status: timedOut ? 'timed_out' : 'failed', error: (timedOut ? `timed out after ${run.timeout_ms} ms` : e.message).slice(0, 2000), startedAt, durationMs,
  };
};

/**
 * Runs `runs` (one project's) in trips over one connection, in order. A run's start and duration come from the
 * markers around it (server clock differences, placed on this process's clock at the trip's start), so a run that
 * waited behind an earlier one of its trip is recorded as starting when it did. A statement error fails that run
 * and the rest go in the next trip; an error that is not Postgres's (the connection broke) leaves unknown whether
 * later statements ran, so the rest are failed rather than sent again.
 */
export async function runDbFunctions(pool: pg.Pool, ref: string, runs: DbFunctionRun[]): Promise<RunOutcome[]> {
  const outcomes: RunOutcome[] = [];
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
      const sentAt = Date.now();
      const { marks, error } = await send(client, `${MARK}; ${rest.map((run) => runSql(ref, run)).join('; ')}`);
      const at = (i: number) => sentAt + (marks[i] - marks[0]);
      const done = Math.max(0, marks.length - 1);
      for (let i = 0; i < done; i++) {
        outcomes.push({ runId: rest[i].run_id, status: 'succeeded', error: null, startedAt: new Date(at(i)), durationMs: marks[i + 1] - marks[i] });
      }
      if (!error) break;
      const startedAt = marks.length > 0 ? at(done) : sentAt;
      outcomes.push(failed(rest[done], error, new Date(startedAt), Date.now() - startedAt));
      await client.query('rollback').catch(() => (broken = true));
      if (!(error instanceof pg.DatabaseError) || broken) {
        for (const run of rest.slice(done + 1)) outcomes.push(failed(run, new Error(`connection lost before the run was confirmed: ${error.message}`), new Date(), 0));
        broken = true;
        break;
      }
      rest = rest.slice(done + 1);
    }
  } finally {
    client.release(broken);
  }
  return outcomes;
}
