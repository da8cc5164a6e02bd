// Named prepared statements for the reads every request repeats (find, count): a connection parses and plans a
// statement text once and afterwards only binds its values, where an unnamed statement is parsed and planned
// on every call. Filters compile to the same text for the same shape (values are parameters), so a shape is
// one statement. The name is a digest of the text; a connection holds at most MAX_PER_CONNECTION of them and
// runs further texts unnamed, so an endless variety of shapes cannot grow a session without bound.
import { createHash } from 'node:crypto';
import pg from 'pg';

export const MAX_PER_CONNECTION = 256;

/** text → statement name (saves hashing the same text again); emptied when it grows past MAX_NAMES */
const names = new Map<string, string>();
const MAX_NAMES = 4096;
/** per connection: the names it has prepared */
const held = new WeakMap<pg.ClientBase, Set<string>>();

export function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `docs_${createHash('sha256').update(text).digest('base64url').slice(0, 40)}`;
    if (names.size >= MAX_NAMES) names.clear();
    names.set(text, name);
  }
  return name;
}

/** The name `text` runs under on this connection, or undefined when it already holds MAX_PER_CONNECTION others. */
export function preparedName(c: pg.ClientBase, text: string): string | undefined {
  const name = statementName(text);
  let mine = held.get(c);
  if (!mine) held.set(c, (mine = new Set()));
  if (!mine.has(name)) {
    if (mine.size >= MAX_PER_CONNECTION) return undefined;
    mine.add(name);
  }
  return name;
}

/**
 * Runs a read as a named statement (see preparedName). The query is built from its text and named after: given
 * a config object, pg copies it property by property on every call, which costs more here than the rest of
 * the call's own work.
 */
export function runPrepared<R extends pg.QueryResultRow>(c: pg.ClientBase, text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
  return new Promise((resolve, reject) => {
    const q = new pg.Query(text, values, (err, res) => (err ? reject(err) : resolve(res as unknown as pg.QueryResult<R>)));
    const name = preparedName(c, text);
    if (name !== undefined) (q as unknown as { name: string }).name = name;
    void c.query(q);
  });
}
