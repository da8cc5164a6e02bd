// Keeps the planner's view of a project's tables in step with their growth. A new project's table can grow from
// nothing to tens of thousands of rows before autovacuum first analyzes it (it visits a database about once a
// minute), and until then Postgres plans for the size it last knew: auth's batched refresh, a statement each
// connection prepared while refresh_tokens held a hundred rows, kept a hash join over a sequential scan of the whole
// table on every batch as the table grew by a row per refresh (bench/auth, fresh project: 1,422–1,979 refreshes/s
// with Postgres at 308–513 µs of CPU each; 2,811–3,005/s at 131–133 µs once analyzed); memory's add, planned anew
// each time but without statistics, read memories whole to check each text was not already stored.
// So a service nudges this after its requests, and the tables of its schema holding more than twice the rows of
// their last analyze (and 1,000 more) are analyzed (tenant migration 0016): analyzed at each doubling, a table is
// analyzed a logarithmic number of times, each a sample of at most 30,000 rows. An analyze also ends the prepared
// statements' old plans. A check costs the database 220–260 µs of CPU, so it runs a second after the last one that
// analyzed something, and backs off to a minute while there is nothing to analyze, or until the project has served
// 1,000 requests since: a project quiet for a while (sign-ins, nothing to analyze) that turns busy (refreshes adding
// thousands of tokens a second) would otherwise keep its stale plans for up to that minute (bench/auth: 1,586
// refreshes/s at 423 µs of Postgres CPU each after its sign-in part, against 2,689/s at 148 µs alone).
import type pg from 'pg';
import { oneTrip } from './one-trip.js';
import { perDatabase, type JobLog } from './per-database.js';

const SOON_MS = 1_000;
const IDLE_MS = 60_000;
const OR_AFTER_REQUESTS = 1_000;

/** as the owner's role, which a pool whose connections take no role of their own (most) may still take */
const OWNER = { role: 'basalt_admin', claims: {} };

/** Analyzes the schema's tables that outgrew their statistics (see above); returns them. One round trip. */
export async function analyzeOutgrown(pool: pg.Pool, schema: string): Promise<string[]> {
  const rows = await oneTrip<{ tables: string[] }>(pool, OWNER, 'select basalt.analyze_outgrown($1) as tables', [schema]);
  return rows[0]!.tables;
}

/** The job a service nudges after each request that used a project's database. */
export const plannerStatistics = (schema: string, log: JobLog) =>
  perDatabase(`${schema} statistics`, SOON_MS, () => ({ waitMs: SOON_MS }), async (pool, state) => {
    const analyzed = await analyzeOutgrown(pool, schema);
    state.waitMs = analyzed.length > 0 ? SOON_MS : Math.min(state.waitMs * 2, IDLE_MS);
    return state.waitMs;
  }, log, { orAfterNudges: OR_AFTER_REQUESTS });
