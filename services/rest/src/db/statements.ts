// The one prepared-statement cache of the REST service. Statements are generated per query shape with every
// value bound, so the same text recurs for every request of a shape: naming it makes Postgres parse and plan it
// once per connection. Names per connection are capped, so endless shapes cannot grow server memory unbounded.
import { createHash } from 'node:crypto';

export const MAX_PREPARED_PER_CONNECTION = 256;

// Keyed by node-pg's Connection object: it lives exactly as long as the server session that holds the statements.
const named = new WeakMap<object, Set<string>>();

export const statementName = (text: string) => `rest_${createHash('sha1').update(text).digest('base64url').slice(0, 22)}`;

/** The name to run `text` under on this connection and whether it must be parsed first ('' = unnamed, past the cap). */
export function claimStatement(connection: object, text: string): { name: string; parse: boolean } {
  let seen = named.get(connection);
  if (!seen) named.set(connection, (seen = new Set()));
  const name = statementName(text);
  if (seen.has(name)) return { name, parse: false };
  if (seen.size >= MAX_PREPARED_PER_CONNECTION) return { name: '', parse: true };
  seen.add(name);
  return { name, parse: true };
}

/** Statements whose preparation may have failed with their pipeline: the next use prepares them again. */
export function forgetStatements(connection: object, names: string[]): void {
  const seen = named.get(connection);
  for (const n of names) seen?.delete(n);
}

export const preparedCount = (connection: object): number => named.get(connection)?.size ?? 0;
