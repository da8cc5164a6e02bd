// Stage 4 of a request: the statement runs as the caller. Settings (the request context of @basalt/db: role, claims,
// search_path, timeout, read-only, time zone) and statement go in one round trip, shared by the reads waiting for
// the project's pool at the same moment (readTogether); a plan whose rows must be checked or counted before
// committing runs BEGIN, settings and statement in one round trip, then COMMIT.
import type pg from 'pg';
import { callerSettingsStatement, coalesced, DatabaseSilent, ident, readOnlyPool, rollBackOrBroken } from '@basalt/db';
import { BasaltError, fromPgError, isPgConnectionError } from '@basalt/errors';
import type { RequestRole } from '@basalt/tenancy';
import { restErrors } from '../errors.js';
import { deallocateSql, isPgError, runPipeline, runPlanned, type PipelineError, type Planned, type Row, type Step } from './pipeline.js';

export interface Caller {
  pool: pg.Pool;
  role: RequestRole;
  claims: Record<string, unknown>;
  schema: string;
  timeoutMs: number;
  /** past it, a database that has not answered is taken for gone: the connection is dropped, the request a 503 */
  deadlineMs: number | null;
  method: string;
  path: string;
  /** Prefer: timezone=… */
  timezone: string | null;
}

export interface Execution {
  readOnly: boolean;
  /** an explicit transaction: rows are checked (or counted) before COMMIT, or it rolls back */
  tx: boolean;
  rollback: boolean;
  /** PGRST124 before committing when more rows were written */
  maxAffected: bigint | null;
  /** PGRST116 before committing unless exactly one row */
  singular: boolean;
  /** count=planned (exactUpTo null) or estimated: the planner's row estimate, exact when at most exactUpTo */
  estimate: { exactUpTo: number | null } | null;
}

export interface Statements {
  main: Step;
  /** EXPLAIN of the unpaged rows (count=planned|estimated) */
  explain: Step | null;
  /** the exact count, when the estimate is small enough to replace (count=estimated) */
  exact: Step | null;
}

export interface Result { body: string | null; n: number; total: number | null; loc: string | null; inserted: number | null }

const BEGIN: Step = { text: 'begin', values: [] };

// the caller's settings, decided here and bound by name and value (the statement's text depends only on their
// number), so Postgres spends about half what deciding them itself (json_each_text, coalesce) cost it per request
const settingsStep = (c: Caller, readOnly: boolean): Step => callerSettingsStatement({
  // the verified claims themselves when they name the role (their settings are then decided once per token)
  role: c.role, claims: c.claims.role === c.role ? c.claims : { ...c.claims, role: c.role }, method: c.method, path: c.path,
  // a read-only project's pool (over db_bytes): read-only whatever the session's default says (readOnlyPool)
  searchPath: `${ident(c.schema)}, extensions`, timeoutMs: c.timeoutMs, readOnly: readOnly || readOnlyPool(c.pool), timezone: c.timezone,
});

const toResult = (r: Row | undefined): Result => ({
  body: r?.body ?? null,
  n: Number(r?.n ?? 0),
  total: r?.total == null ? null : Number(r.total),
  loc: r?.loc ?? null,
  inserted: r?.inserted == null ? null : Number(r.inserted),
});

function check(exec: Execution, r: Result): void {
  if (exec.maxAffected !== null && r.n > exec.maxAffected) throw restErrors.maxAffected(r.n);
  if (exec.singular && r.n !== 1) throw restErrors.singular(r.n);
}

/** A Postgres error leaves the connection usable; what the failed pipeline prepared is dropped before the
 * connection goes back to the pool (one by one: a name whose Parse failed does not exist, which is fine). */
async function dropPrepared(client: pg.PoolClient, e: unknown): Promise<void> {
  for (const n of (e as PipelineError).prepared ?? []) await client.query(deallocateSql(n)).catch(() => undefined);
}

// Reads that wait for a connection of the same project's pool at the same moment share one round trip: up to 8 of
// them as one transaction, each inside the same savepoint, rolled back to once its rows are in, so that whatever
// one request set (its role and claims, and any setting its policies or functions made) is gone before the next
// one's settings are made, as between two transactions. Reads whose settings are the same (one token's, on one
// path: a public page's visitors) run one after the other after one statement of settings, each inside a second
// savepoint that keeps them: the settings cost Postgres as much as a GET by key's statement. A lone read goes as
// before (settings and statement, one implicit transaction).
const READS_PER_TRIP = 8;
const SAVEPOINT: Step = { text: 'savepoint basalt_read', values: [] };
const BACK: Step = { text: 'rollback to savepoint basalt_read', values: [] };
const SHARED: Step = { text: 'savepoint basalt_shared', values: [] };
const BACK_TO_SHARED: Step = { text: 'rollback to savepoint basalt_shared', values: [] };
const END: Step = { text: 'commit', values: [] };
const ROLLBACK: Step = { text: 'rollback', values: [] };

interface Read { c: Caller; main: Step }
/** a statement's rows, or the Postgres error it met */
type Outcome = { rows: Row[] } | { error: unknown };

/** Settings and statement in one round trip on the client (one implicit transaction); what it prepared is dropped on an error. */
async function settingsAndStatement(client: pg.PoolClient, c: Caller, readOnly: boolean, main: Step): Promise<Outcome> {
  const { rows, failed } = await runPlanned(client, [settingsStep(c, readOnly), { ...main, into: 0 }], undefined, c.deadlineMs);
  if (failed) await dropPrepared(client, failed);
  return failed ? { error: failed } : { rows: rows[0]! };
}

/** the same settings, value for value (the statement's text follows from their number) */
function sameSettings(a: Step, b: Step): boolean {
  if (a.values.length !== b.values.length) return false;
  for (let i = 0; i < a.values.length; i++) if (a.values[i] !== b.values[i]) return false;
  return true;
}

/** the batch's reads in groups of the same settings, each group in arrival order */
function bySettings(settings: Step[]): number[][] {
  const groups: number[][] = [];
  for (let i = 0; i < settings.length; i++) {
    const same = groups.find((g) => sameSettings(settings[g[0]!]!, settings[i]!));
    if (same) same.push(i);
    else groups.push([i]);
  }
  return groups;
}

export interface ReadSteps {
  steps: Planned[];
  /** the reads in the order they run */
  order: number[];
  /** the first step of each (in that order) that is its own */
  firstStepOf: number[];
}

/** The round trip of several reads (each one's settings and statement; the rows of read i go to list i). */
export function readSteps(reads: readonly { settings: Step; main: Step }[]): ReadSteps {
  const steps: Planned[] = [BEGIN, SAVEPOINT];
  const order: number[] = [];
  const firstStepOf: number[] = [];
  for (const group of bySettings(reads.map((r) => r.settings))) {
    const first = group[0]!;
    order.push(first);
    firstStepOf.push(steps.length);
    steps.push(reads[first]!.settings);
    if (group.length === 1) {
      steps.push({ ...reads[first]!.main, into: first }, BACK);
      continue;
    }
    steps.push(SHARED);
    group.forEach((i, k) => {
      if (k > 0) {
        order.push(i);
        firstStepOf.push(steps.length);
      }
      steps.push({ ...reads[i]!.main, into: i }, BACK_TO_SHARED);
    });
    steps.push(BACK);
  }
  steps.push(END);
  return { steps, order, firstStepOf };
}

async function readTogether(client: pg.PoolClient, batch: readonly Read[], answer: (i: number, o: Outcome) => void): Promise<(Outcome | null)[]> {
  if (batch.length === 1) return [await settingsAndStatement(client, batch[0]!.c, true, batch[0]!.main)];
  const { steps, order, firstStepOf } = readSteps(batch.map((r) => ({ settings: settingsStep(r.c, true), main: r.main })));
  // each read is answered as soon as its statement has completed, not when the last one has
  const deadlines = batch.map((r) => r.c.deadlineMs);
  const deadline = deadlines.includes(null) ? null : Math.max(...(deadlines as number[]));
  const { rows, failed } = await runPlanned(client, steps, (i, got) => answer(i, { rows: got }), deadline);
  if (!failed) return batch.map((_, i) => ({ rows: rows[i]! }));
  // the transaction is aborted: out of it first (a connection that cannot is closed by the caller)
  await client.query('rollback');
  await dropPrepared(client, failed);
  // the reads before the failed one have their rows, the failed one its error; the ones after go on their own (a
  // group's shared settings fail as its first read: the others meet the error again on their own)
  const at = firstStepOf.findLastIndex((first) => first <= failed.step);
  const out: (Outcome | null)[] = batch.map(() => null);
  order.forEach((i, k) => {
    if (k < at) out[i] = { rows: rows[i]! };
    else if (k === at) out[i] = { error: failed };
  });
  return out;
}

// Four such round trips at once, and more (up to the pool's size) only once a read has waited READ_GROW_AFTER_MS for
// one: fast reads then travel in fuller batches on fewer connections, which measured 19–24 % more GETs by key per
// second than starting one per pooled connection at once (bench/rest, 64 connections on 2 cores: every extra
// statement in flight is another Postgres process to wake and schedule), while slow ones (a 50 ms function) still
// get the pool's connections, at 0.9 of the throughput they had (a pool of 4 halves it).
const READ_STATEMENTS_AT_ONCE = 4;
const READ_GROW_AFTER_MS = 20;
const reads = coalesced<Read, Outcome>({ maxBatch: READS_PER_TRIP, workers: READ_STATEMENTS_AT_ONCE, growAfterMs: READ_GROW_AFTER_MS, run: readTogether });

/** A statement on a connection of its own. */
async function alone(c: Caller, readOnly: boolean, main: Step): Promise<Outcome> {
  const client = await c.pool.connect();
  let out: Outcome;
  try {
    out = await settingsAndStatement(client, c, readOnly, main);
  } catch (e) {
    client.release(e as Error); // not a Postgres error: the connection itself is suspect
    throw e;
  }
  client.release();
  return out;
}

async function oneRoundTrip(c: Caller, exec: Execution, s: Statements): Promise<Result> {
  const out = (exec.readOnly ? await reads(c.pool, { c, main: s.main }) : null) ?? await alone(c, exec.readOnly, s.main);
  if ('error' in out) throw out.error;
  return toResult(out.rows[0]);
}

/**
 * Gives back the connection of an explicit transaction that failed: ROLLBACK first (nothing else, DEALLOCATE
 * included, runs in an aborted transaction), then what the failed pipeline prepared; discarded if it cannot roll
 * back, or at once if the database went silent (it would never answer the ROLLBACK either).
 */
async function releaseAfterFailure(client: pg.PoolClient, e: unknown): Promise<void> {
  const broken = await rollBackOrBroken(client, e);
  if (!broken && isPgError(e)) await dropPrepared(client, e);
  client.release(broken);
}

async function inTransaction(c: Caller, exec: Execution, s: Statements): Promise<Result> {
  const client = await c.pool.connect();
  let result: Result;
  try {
    result = toResult((await runPipeline(client, [BEGIN, settingsStep(c, exec.readOnly), s.main], c.deadlineMs))[0]);
    check(exec, result);
    if (exec.estimate && s.explain) {
      const planned = async () => Number(JSON.parse((await runPipeline(client, [s.explain!], c.deadlineMs))[0]['QUERY PLAN']!)[0].Plan['Plan Rows']);
      // PostgREST: count=estimated is exact up to max-rows; past it, the planner's estimate when that is larger.
      const upTo = exec.estimate.exactUpTo;
      const exact = upTo !== null && s.exact ? Number((await runPipeline(client, [s.exact], c.deadlineMs))[0].c) : null;
      result.total = exact === null ? await planned() : exact > upTo! ? Math.max(exact, await planned()) : exact;
    }
  } catch (e) {
    await releaseAfterFailure(client, e);
    throw e;
  }
  if (exec.readOnly && !exec.rollback) {
    // A read-only transaction has nothing to make durable: its COMMIT is queued on this client (node-pg runs a
    // client's queries in order, so the next request's statements wait behind it) and the response goes out now.
    // A failed COMMIT discards the connection instead of returning it to the pool.
    runPipeline(client, [END], c.deadlineMs).then(() => client.release(), (err) => client.release(err));
    return result;
  }
  try {
    await runPipeline(client, [exec.rollback ? ROLLBACK : END], c.deadlineMs);
  } catch (e) {
    client.release(isPgError(e) ? undefined : (e as Error)); // a refused COMMIT (a deferred constraint) has rolled back
    throw e;
  }
  client.release();
  return result;
}

/** Runs the plan's statements as the caller; Postgres errors become PostgREST's (42501 → 401 for anon, 403 otherwise). */
export function execute(c: Caller, exec: Execution, s: Statements): Promise<Result> {
  return pgErrors(c, () => (exec.tx ? inTransaction(c, exec, s) : oneRoundTrip(c, exec, s)));
}

/** EXPLAIN of the statement that would answer the request (PostgREST's vnd.pgrst.plan), as the caller and in the
 * same read-only or read-write transaction; with `analyze` the statement runs, and commits unless tx=rollback. */
export function explain(c: Caller, exec: Execution, main: Step, format: 'json' | 'text', options: string[]): Promise<string> {
  const text = `EXPLAIN (${[`FORMAT ${format.toUpperCase()}`, ...options.map((o) => o.toUpperCase())].join(', ')}) ${main.text}`;
  return pgErrors(c, async () => {
    const client = await c.pool.connect();
    let rows: Row[];
    try {
      rows = await runPipeline(client, [BEGIN, settingsStep(c, exec.readOnly), { text, values: main.values }], c.deadlineMs);
      await runPipeline(client, [exec.rollback ? ROLLBACK : END], c.deadlineMs);
    } catch (e) {
      await releaseAfterFailure(client, e);
      throw e;
    }
    client.release();
    return rows.map((r) => r['QUERY PLAN'] ?? '').join('\n');
  });
}

async function pgErrors<T>(c: Caller, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof DatabaseSilent) throw restErrors.connectionLost(e.message);
    if (e instanceof BasaltError) throw e;
    if (e instanceof Error && /timeout exceeded when trying to connect/.test(e.message)) {
      throw new BasaltError(504, 'PGRST003', 'Timed out acquiring connection from connection pool.', { cause: e });
    }
    if (isPgConnectionError(e)) throw restErrors.connectionLost(e.message);
    const mapped = fromPgError(e, c.role === 'anon');
    if (mapped instanceof BasaltError && mapped.code === '57014') {
      throw new BasaltError(504, '57014', mapped.message, { details: null, hint: 'The request exceeded the statement timeout of its role', cause: e });
    }
    throw mapped;
  }
}
