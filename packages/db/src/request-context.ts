// The one request context every service opens before it runs a statement for a caller: the role, the JWT
// claims (whole, and per claim as PostgREST's legacy request.jwt.claim.<name>), search_path, the statement
// timeout, request.method / request.path, read-only and time zone, all transaction-local. RLS policies see
// the same settings whichever service runs the statement (REST, storage, auth, cron, documents, memory, …).
import pg from 'pg';
import { readOnlyPool } from './project-pools.js';
import { rollBackOrBroken, silenceBound, transactionBound } from './silence.js';

export interface CallerSettings {
  /** anon | authenticated | service_role, or basalt_admin for a service's own bookkeeping */
  role: string;
  claims: Record<string, unknown>;
  method?: string;
  path?: string;
  searchPath?: string;
  /** statement_timeout for this transaction; 0 keeps the role's own */
  timeoutMs?: number;
  readOnly?: boolean;
  timezone?: string | null;
}

const CLAIM_NAME = /^[a-z_][a-z0-9_]*$/;

/**
 * The settings of a caller, in order (a later one of the same name wins, as when Postgres runs them), decided here
 * as a server-side statement would (the test keeps one, SERVER_SIDE_SETTINGS_SQL, as the reference): a setting left
 * as the session has it is not named; the per-claim settings are listed (json_each_text's text of each value: a
 * string unquoted, JSON null as SQL null, an object or array as JSON) rather than found by the server. A read-write
 * caller keeps the session's own mode rather than asking for read-write: a project database the platform made
 * read-only (over its db_bytes quota) then refuses the write itself with 25006, as PostgREST reports it.
 */
export function callerSettingsEntries(s: CallerSettings): [string, string | null][] {
  const flat = callerSettingsFlat(s);
  const out: [string, string | null][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

/** callerSettingsEntries as one list, name, value, name, value, …: the parameters of the settings statement */
function callerSettingsFlat(s: CallerSettings): (string | null)[] {
  const out: (string | null)[] = [];
  if (s.searchPath) out.push('search_path', s.searchPath);
  const timeoutMs = Math.trunc(s.timeoutMs ?? 0);
  if (timeoutMs !== 0) out.push('statement_timeout', `${timeoutMs}ms`);
  const claims = claimSettings(s.claims);
  out.push('role', s.role, 'request.jwt.claims', claims.whole, 'request.jwt.claim.sub', claims.sub, 'request.jwt.claim.role', s.role,
    'request.method', s.method ?? '', 'request.path', s.path ?? '');
  if (s.readOnly) out.push('transaction_read_only', 'on');
  if (s.timezone) out.push('timezone', s.timezone);
  const each = claims.each;
  for (let i = 0; i < each.length; i++) out.push(each[i]!);
  // the claim's own role, when it differs from the role the caller runs as, is the one that stays (it comes later)
  if (claims.role !== undefined && claims.role !== s.role) out.push('request.jwt.claim.role', claims.role);
  return out;
}

interface ClaimSettings {
  /** request.jwt.claims */
  whole: string;
  /** request.jwt.claim.sub */
  sub: string;
  /** the per-claim settings, name, value, name, value, …, but for a string sub and the role (set anyway) */
  each: (string | null)[];
  /** request.jwt.claim.role as the role claim sets it; undefined without one */
  role: string | null | undefined;
}

// A verified token's claims are a frozen object shared by every request that presents the token (see
// @basalt/tenancy's verifiedClaims): what they decide is worked out once per such object, not per request.
const decided = new WeakMap<object, ClaimSettings>();

function claimSettings(claims: Record<string, unknown>): ClaimSettings {
  const known = decided.get(claims);
  if (known) return known;
  const made: ClaimSettings = { whole: JSON.stringify(claims), sub: typeof claims.sub === 'string' ? claims.sub : '', each: [], role: undefined };
  for (const [k, v] of Object.entries(claims)) {
    if (v === undefined || typeof v === 'function' || !CLAIM_NAME.test(k)) continue;
    const text = v === null ? null : typeof v === 'object' ? JSON.stringify(v) : String(v);
    // request.jwt.claim.sub and .role are set before the per-claim ones: a string sub is already there as it is,
    // and the role is settled per caller (callerSettingsFlat)
    if (k === 'role') made.role = text;
    else if (!(k === 'sub' && typeof v === 'string')) made.each.push(`request.jwt.claim.${k}`, text);
  }
  // a deep-frozen object only: one that can change (or whose nested values can) is decided afresh each time
  if (deepFrozen(claims)) decided.set(claims, made);
  return made;
}

const deepFrozen = (v: object): boolean => Object.isFrozen(v) && Object.values(v).every((x) => x === null || typeof x !== 'object' || deepFrozen(x));

/**
 * The settings as a parameterised statement whose text depends only on how many there are (names and values are
 * both parameters), so a pipelining client prepares a handful of texts per connection. Deciding them here rather
 * than with json_each_text, a regex and coalesce on the server halves the server's CPU for them.
 */
export function callerSettingsStatement(s: CallerSettings): { text: string; values: (string | null)[] } {
  const values = callerSettingsFlat(s);
  return { text: settingsText(values.length / 2), values };
}

const settingsTexts: string[] = [];
function settingsText(n: number): string {
  if (settingsTexts[n]) return settingsTexts[n];
  const calls: string[] = [];
  for (let i = 0; i < n; i++) calls.push(`set_config($${2 * i + 1}, $${2 * i + 2}, true)`);
  return (settingsTexts[n] = `select ${calls.join(', ')}`);
}

/** One setting, transaction-local, as a set_config call with literal values. */
export const setConfigSql = (name: string, value: string | null) => `set_config(${pg.escapeLiteral(name)}, ${value === null ? 'null' : pg.escapeLiteral(value)}, true)`;

/**
 * BEGIN and the settings as one simple-protocol query (one round trip), every value a quoted literal: deciding
 * them on the server (json_each_text, coalesce) made the settings cost five times the statement they precede
 * (235 µs against 48 per cron run).
 */
export function beginAsCallerSql(s: CallerSettings, readWrite = false): string {
  return `begin${readWrite ? ' read write' : ''}; select ${callerSettingsEntries(s).map(([name, value]) => setConfigSql(name, value)).join(', ')}`;
}

/** the caller each client's open transaction began as, or last switched to (whose per-claim settings it holds) */
const callerOn = new WeakMap<pg.ClientBase, CallerSettings>();
const isClaim = (name: string) => name.startsWith('request.jwt.claim.');

/**
 * Changes who the open transaction runs as (a service-role read inside a caller's transaction, and back). A
 * per-claim setting the previous caller had and this one has not is emptied, as a fresh transaction would not have
 * it: no claim of one caller reaches the next one's policies.
 */
export async function switchCaller(client: pg.PoolClient, s: CallerSettings): Promise<void> {
  const previous = callerOn.get(client);
  const entries = callerSettingsEntries(s);
  const now = new Set(entries.map(([name]) => name).filter(isClaim));
  const stale = previous ? callerSettingsEntries(previous).map(([name]) => name).filter((name) => isClaim(name) && !now.has(name)) : [];
  callerOn.set(client, s);
  const set = [...stale.map((name) => setConfigSql(name, null)), ...entries.map(([name, value]) => setConfigSql(name, value))];
  await client.query(`select ${set.join(', ')}`);
}

export interface AsCallerOptions {
  /** roll back instead of committing: a dry run (a permission probe) */
  rollback?: boolean;
  /**
   * With rollback: the dry run writes (probe rows inserted to test policies on them), so it begins read-write even on
   * a read-only project's pool, where it would otherwise be refused (25006); it never commits, so nothing it writes
   * counts against the quota that made the project read-only.
   */
  writes?: boolean;
  /** maps an error thrown inside (a Postgres error, say) before it is rethrown */
  mapError?: (e: unknown) => unknown;
}

/** the caller's settings as a transaction on `pool` takes them: read-only on a read-only project's (readOnlyPool) */
export const onPool = (pool: pg.Pool, s: CallerSettings): CallerSettings => (readOnlyPool(pool) && !s.readOnly ? { ...s, readOnly: true } : s);

/** Runs fn in one transaction as the caller; commits, or rolls back on error (and releases a broken client). */
export async function asCaller<T>(pool: pg.Pool, s: CallerSettings, fn: (client: pg.PoolClient) => Promise<T>, opts: AsCallerOptions = {}): Promise<T> {
  const client = await pool.connect();
  silenceBound(client, transactionBound(s.timeoutMs));
  let broken = false;
  try {
    const probe = opts.rollback === true && opts.writes === true && readOnlyPool(pool);
    await client.query(probe ? beginAsCallerSql(s, true) : beginAsCallerSql(onPool(pool, s)));
    callerOn.set(client, s);
    const result = await fn(client);
    await client.query(opts.rollback ? 'rollback' : 'commit');
    return result;
  } catch (e) {
    broken = await rollBackOrBroken(client, e);
    throw opts.mapError ? opts.mapError(e) : e;
  } finally {
    silenceBound(client, null);
    client.release(broken);
  }
}
