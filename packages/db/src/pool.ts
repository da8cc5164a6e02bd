// Bounded node-postgres pools that never wait forever and never crash the process on a dropped idle client.
import pg from 'pg';
import { rollBackOrBroken, watchSilence } from './silence.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface PoolOptions {
  max?: number;
  idleTimeoutMillis?: number;
  /** node-postgres defaults to 0 = wait forever; we never do. */
  connectionTimeoutMillis?: number;
  applicationName?: string;
  /** a role every connection takes at session start (the login must be a member of it) */
  role?: string;
  /**
   * ms a statement may go unanswered before the database counts as silent and the statement fails with
   * DatabaseSilent (silence.ts); for a service's own statements, which have no statement timeout of their own.
   * Absent: never (statements that may run long by design: a called function's, a cron job's).
   */
  silenceMs?: number;
  onError?: (err: Error) => void;
}

/** One connection for a few statements (admin work, tools, tests): opened, used, always closed. */
export async function withClient<T>(
  connectionString: string, fn: (c: pg.Client) => Promise<T>, opts: { applicationName?: string; connectionTimeoutMillis?: number } = {},
): Promise<T> {
  const client = new pg.Client({ connectionString, application_name: opts.applicationName ?? 'basalt', connectionTimeoutMillis: opts.connectionTimeoutMillis ?? 5_000 });
  // a connection ended between queries (its database dropped, the server restarted) fails the next query: without
  // a listener its 'error' event would end the process
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function createPool(connectionString: string, opts: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max: opts.max ?? 10,
    idleTimeoutMillis: opts.idleTimeoutMillis ?? 10_000,
    connectionTimeoutMillis: opts.connectionTimeoutMillis ?? 5_000,
    application_name: opts.applicationName ?? 'basalt',
    // set in the startup packet, so no statement of the caller's can run before it
    ...(opts.role ? { options: `-c role=${roleName(opts.role)}` } : {}),
  });
  // An idle client dropped by the server emits 'error' on the pool; unhandled, it would kill the process.
  pool.on('error', (err) => opts.onError?.(err));
  // A checked-out client has no listener of the pool's (a project database dropped or a backend terminated
  // mid-query): its query rejects, and this keeps the client's own 'error' event from killing the process.
  pool.on('connect', (client) => client.on('error', (err) => opts.onError?.(err)));
  if (opts.silenceMs) pool.on('connect', (client) => watchSilence(client, opts.silenceMs!));
  return pool;
}

function roleName(role: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role)) throw new Error(`not a role name: ${role}`);
  return role;
}

export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('begin');
    const result = await fn(client);
    await client.query('commit');
    return result;
  } catch (e) {
    broken = await rollBackOrBroken(client, e);
    throw e;
  } finally {
    client.release(broken);
  }
}

/** Quotes an identifier for SQL text; identifiers can never be bind parameters. */
export const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Quotes a literal for the few statements that take no parameters (CREATE ROLE … PASSWORD). */
export const literal = (value: string): string => pg.escapeLiteral(value);

/** The role and claims of one request, applied transaction-locally so they can never leak to the next user of the connection. */
export async function setRequestRole(client: pg.PoolClient, role: string, claims: Record<string, unknown>): Promise<void> {
  await client.query(
    "select set_config('role', $1, true), set_config('request.jwt.claims', $2, true), set_config('request.jwt.claim.sub', $3, true), set_config('request.jwt.claim.role', $1, true)",
    [role, JSON.stringify(claims), typeof claims.sub === 'string' ? claims.sub : ''],
  );
}
