// A caller's transaction in one round trip: begin, the caller's settings, the statements and commit sent as a
// single simple-protocol query, the statements' parameters inlined as literals. For statements run on every request
// or job (memory's embedding cache read and insert), where asCaller's begin / statement / commit would be three round
// trips. (Cron's function calls go several transactions to a trip: services/scheduler/src/jobs/db-function-trips.ts.)
import pg from 'pg';
import { beginAsCallerSql, onPool, type CallerSettings } from './request-context.js';
import { rollBackOrBroken, silenceBound, transactionBound } from './silence.js';

/**
 * A NUL would end the simple-query message early (08P01 "invalid message format", the connection's error): it is
 * refused as Postgres refuses it in a bound parameter, 22021, a data error of the caller's.
 */
function noNul(s: string): string {
  if (s.includes('\u0000')) throw Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021', severity: 'ERROR' });
  return s;
}

/** a parameter as a SQL literal, as the extended protocol would have read it (strings stay of unknown type) */
export function valueLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Buffer.isBuffer(v)) return `decode('${v.toString('base64')}', 'base64')`;
  if (typeof v === 'string') return pg.escapeLiteral(noNul(v));
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error('a SQL literal must be a finite number');
    return String(v);
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Date) return pg.escapeLiteral(v.toISOString());
  if (Array.isArray(v)) {
    // statements cast every array parameter ($n::text[]); an empty one is the empty array literal
    if (v.length === 0) return `'{}'`;
    if (v.some((x) => Array.isArray(x))) throw new Error('nested arrays are not inlined');
    return `array[${v.map(valueLiteral).join(',')}]`;
  }
  return pg.escapeLiteral(JSON.stringify(v));
}

/** the statement with $1…$n replaced by the values as literals; one without values is sent as written */
export function inline(text: string, values: unknown[]): string {
  if (values.length === 0) return text;
  return text.replace(/\$(\d+)/g, (_, n: string) => {
    const i = Number(n) - 1;
    if (i < 0 || i >= values.length) throw new Error(`no value for $${n}`);
    return valueLiteral(values[i]);
  });
}

/** runs statements (parameterised as for pg) in one transaction as the caller, in one round trip; each one's rows */
export async function oneTripMany(
  pool: pg.Pool, s: CallerSettings, statements: { text: string; values: unknown[] }[], mapError?: (e: unknown) => unknown,
): Promise<pg.QueryResultRow[][]> {
  const sql = `${beginAsCallerSql(onPool(pool, s))}; ${statements.map((st) => inline(st.text, st.values)).join('; ')}; commit`;
  const client = await pool.connect();
  silenceBound(client, transactionBound(s.timeoutMs));
  let broken = false;
  try {
    const results = (await client.query(sql)) as unknown as pg.QueryResult[];
    // begin and the settings come first, commit last
    return results.slice(results.length - 1 - statements.length, results.length - 1).map((r) => r.rows);
  } catch (e) {
    // the failed statement left the transaction aborted (the rest of the query string was skipped)
    broken = await rollBackOrBroken(client, e);
    throw mapError ? mapError(e) : e;
  } finally {
    silenceBound(client, null);
    client.release(broken);
  }
}

/** runs one statement (parameterised as for pg) in a transaction as the caller, in one round trip; its result rows */
export async function oneTrip<R extends pg.QueryResultRow>(
  pool: pg.Pool, s: CallerSettings, text: string, values: unknown[], mapError?: (e: unknown) => unknown,
): Promise<R[]> {
  return (await oneTripMany(pool, s, [{ text, values }], mapError))[0] as R[];
}
