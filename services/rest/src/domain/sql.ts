// SQL text assembly helpers: bound parameters, aliases, and the few fragments that must be spelled inline
// (identifiers via ident(), integers we parsed ourselves, casts checked against a strict type grammar).
import { ident } from '@basalt/db';
import { restErrors } from '../errors.js';

export class Sql {
  readonly params: unknown[] = [];
  #n = 1; // t0 is the root relation's alias
  /** binds a value; `$n` in the text */
  p(v: unknown, cast?: string): string {
    this.params.push(v);
    return cast ? `$${this.params.length}::${cast}` : `$${this.params.length}`;
  }
  alias(prefix: string): string {
    return `${prefix}${this.#n++}`;
  }
}

export { ident };
export const qualified = (schema: string, name: string) => `${ident(schema)}.${ident(name)}`;

// Casts are type names, never bindable: one or two words of letters/digits/underscores, optional [] and (n).
const TYPE = /^[a-z_][a-z0-9_]*( [a-z_][a-z0-9_]*){0,3}(\(\d+(,\d+)?\))?(\[\])?$/i;
const TYPE_WORDS = new Set(['double', 'precision', 'character', 'varying', 'with', 'without', 'time', 'zone', 'bit']);
export function castType(t: string): string {
  const s = t.trim();
  const words = s.replace(/\(.*$|\[\]$/, '').split(' ');
  if (!TYPE.test(s) || (words.length > 1 && !words.every((w, i) => i === 0 || TYPE_WORDS.has(w.toLowerCase())))) {
    throw restErrors.parse(`"failed to parse select parameter" (::${t})`, 'invalid cast type');
  }
  return s;
}

/** A LIMIT/OFFSET value we parsed as a non-negative integer. */
export const int = (n: number) => String(Math.trunc(n));
