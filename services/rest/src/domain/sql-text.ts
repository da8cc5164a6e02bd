// SQL text assembly helpers of the SQL stage: bound parameters, aliases, and the few fragments that must be spelled
// inline (identifiers via ident(), integers we parsed ourselves, casts the planner checked against a type grammar).
import { ident } from '@basalt/db';

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

/** A LIMIT, OFFSET or JSON index the parser checked against its Postgres type. Anything else reaching SQL text is a
 * bug, and a 500 rather than `Infinity` or `1e+21` spelled into the statement. */
export function int(n: number | bigint): string {
  if (typeof n === 'number' && !Number.isSafeInteger(n)) throw new Error(`not an integer for SQL text: ${n}`);
  return String(n);
}

/** CSV rows as PostgREST writes them: each row's record text output without its parentheses (Postgres' own text
 * of every value, quoted when it holds whitespace, commas, quotes or parentheses), one per line. */
export const GEOJSON_ROWS = `json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(ST_AsGeoJSON(_r)::json), '[]'))::text`;
export const CSV_ROWS = `coalesce(string_agg(substring(_r::text, 2, length(_r::text) - 2), E'\\n'), '')`;
