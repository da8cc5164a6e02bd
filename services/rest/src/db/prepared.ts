// Statements are generated per query shape with every value bound, so the same text recurs for every request of
// a shape: naming it makes Postgres parse and plan it once per connection. The number of named statements per
// connection is capped, so a client sending endless shapes cannot grow server memory without bound.
import { createHash } from 'node:crypto';
import type pg from 'pg';

const MAX_PER_CONNECTION = 256;
const named = new WeakMap<pg.ClientBase, Set<string>>();

export async function queryShape<R extends pg.QueryResultRow>(client: pg.ClientBase, text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
  const name = `rest_${createHash('sha1').update(text).digest('base64url').slice(0, 22)}`;
  let seen = named.get(client);
  if (!seen) named.set(client, (seen = new Set()));
  if (!seen.has(name)) {
    if (seen.size >= MAX_PER_CONNECTION) return client.query<R>(text, values);
    seen.add(name);
  }
  return client.query<R>({ name, text, values });
}
