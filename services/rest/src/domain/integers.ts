// Integers a request spells in decimal (limit, offset, Range, Prefer: max-affected, a JSON path index), read exactly
// and held to the Postgres type PostgREST hands each one to. Number() made 400 digits `Infinity` and 22 digits
// `1e+21`, both spelled into the SQL as they were, and rounded bigint's largest value past it.
import { restErrors } from '../errors.js';

export const BIGINT_MAX = 9223372036854775807n;
const INT_MAX = 2147483647n;

/** Decimal digits without their leading zeros ('0' stays). */
const canonical = (digits: string) => digits.replace(/^0+(?=\d)/, '');

/** Decimal digits (the caller matched /^\d+$/) as a bigint, or null past bigint. The length is looked at first: a
 * URL full of digits is never made into a BigInt. */
export function toBigint(digits: string): bigint | null {
  const d = canonical(digits);
  if (d.length > 19) return null;
  const n = BigInt(d);
  return n > BIGINT_MAX ? null : n;
}

/** A limit, an offset or a Range bound: Postgres' 22003 past bigint, the parameter type PostgREST binds it as. */
export function bigintParam(digits: string): bigint {
  const n = toBigint(digits);
  if (n === null) throw restErrors.outOfRange(canonical(digits), 'bigint');
  return n;
}

/**
 * Whether a JSON path step, as written, is an array index: bare digits (`->0`, `->>-1`); quoted ones (`->"0"`) are
 * an object key, as PostgREST's grammar reads them. PostgREST casts `'+0'`/`'-1'` to int, so past int an index is
 * Postgres' 22003 on that text.
 */
export function isJsonIndex(step: string): boolean {
  const m = /^(-?)(\d+)$/.exec(step);
  if (!m) return false;
  const d = canonical(m[2]);
  const max = m[1] ? INT_MAX + 1n : INT_MAX;
  if (d.length > 10 || BigInt(d) > max) throw restErrors.outOfRange(`${m[1] || '+'}${m[2]}`, 'integer');
  return true;
}
