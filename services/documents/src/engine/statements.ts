// Named prepared statements for the reads every request repeats (find, count): a connection parses and plans a
// statement text once and afterwards only binds its values, where an unnamed statement is parsed and planned
// on every call. Filters compile to the same text for the same shape (values are parameters), so a shape is
// one statement. Names come from @basalt/db's StatementNames (as REST's): a connection holds at most
// MAX_PREPARED_PER_CONNECTION of them and runs further texts unnamed, so an endless variety of shapes cannot grow
// a session without bound.
import pg from 'pg';
import { StatementNames } from '@basalt/db';

const statements = new StatementNames('docs');

/** The name `text` runs under on this connection, or undefined when it already holds the cap of others. */
export function preparedName(c: pg.ClientBase, text: string): string | undefined {
  return statements.claim(c, text).name || undefined;
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
