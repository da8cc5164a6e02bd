// Names for prepared statements, for services that generate SQL per query shape with every value bound (REST,
// documents): the same text recurs for every request of a shape, and naming it makes Postgres parse and plan it
// once per connection. Names per connection are capped, so endless shapes cannot grow server memory unbounded.
import { createHash } from 'node:crypto';

export const MAX_PREPARED_PER_CONNECTION = 256;
/** text → name memo (saves hashing the same text again); emptied when it grows past this */
const MAX_MEMO = 4096;

export class StatementNames {
  // keyed by the connection object that lives exactly as long as the server session holding the statements
  readonly #named = new WeakMap<object, Set<string>>();
  readonly #memo = new Map<string, string>();

  constructor(private readonly prefix: string, private readonly max = MAX_PREPARED_PER_CONNECTION) {}

  name(text: string): string {
    let name = this.#memo.get(text);
    if (name === undefined) {
      name = `${this.prefix}_${createHash('sha1').update(text).digest('base64url').slice(0, 22)}`;
      if (this.#memo.size >= MAX_MEMO) this.#memo.clear();
      this.#memo.set(text, name);
    }
    return name;
  }

  /** The name to run `text` under on this connection and whether it must be parsed first ('' = unnamed, past the cap). */
  claim(connection: object, text: string): { name: string; parse: boolean } {
    let seen = this.#named.get(connection);
    if (!seen) this.#named.set(connection, (seen = new Set()));
    const name = this.name(text);
    if (seen.has(name)) return { name, parse: false };
    if (seen.size >= this.max) return { name: '', parse: true };
    seen.add(name);
    return { name, parse: true };
  }

  /** Statements whose preparation may have failed: the next use prepares them again. */
  forget(connection: object, names: string[]): void {
    const seen = this.#named.get(connection);
    for (const n of names) seen?.delete(n);
  }

  count(connection: object): number {
    return this.#named.get(connection)?.size ?? 0;
  }
}
