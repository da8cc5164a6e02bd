// MongoDB's order over BSON values (for JS-side sorts, $min/$max and the JS matcher):
// MinKey < null < numbers < strings < objects < arrays < binary < ObjectId < booleans < dates < timestamps < regex < MaxKey.
import { Binary, BSONRegExp, MaxKey, MinKey, ObjectId, Timestamp } from 'bson';
import { asNumber, isPlainObject } from './values.js';

export function typeRank(v: unknown): number {
  if (v instanceof MinKey) return 0;
  if (v === null || v === undefined) return 1;
  if (asNumber(v) !== undefined) return 2;
  if (typeof v === 'string') return 3;
  if (Array.isArray(v)) return 5;
  if (v instanceof Binary) return 6;
  if (v instanceof ObjectId) return 7;
  if (typeof v === 'boolean') return 8;
  if (v instanceof Date) return 9;
  if (v instanceof Timestamp) return 10;
  if (v instanceof RegExp || v instanceof BSONRegExp) return 11;
  if (v instanceof MaxKey) return 12;
  return 4; // plain object
}

/**
 * Strings as MongoDB compares them (their UTF-8 bytes, which is code point order) and as a project database's
 * C.UTF-8 collation orders them in SQL. JS's < compares UTF-16 units, which puts every character above U+FFFF
 * (a surrogate pair, D800-DFFF) before U+E000-U+FFFF.
 */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    // a surrogate stands for a code point above every unit that is not one; two surrogates order as their code points
    if (xs !== ys && (x >= 0xe000 || y >= 0xe000)) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : 1;
}

export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 2: {
      const x = asNumber(a)!;
      const y = asNumber(b)!;
      // NaN equals NaN and sorts before every other number, as in MongoDB (compared as is, it equalled them all)
      if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : -1) : 1;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 3: return compareStrings(a as string, b as string);
    case 5: {
      const x = a as unknown[];
      const y = b as unknown[];
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = compareValues(x[i], y[i]);
        if (c) return c;
      }
      return x.length - y.length < 0 ? -1 : x.length > y.length ? 1 : 0;
    }
    case 4: {
      const xe = Object.entries(a as object);
      const ye = Object.entries(b as object);
      for (let i = 0; i < Math.min(xe.length, ye.length); i++) {
        if (xe[i][0] !== ye[i][0]) return compareStrings(xe[i][0], ye[i][0]);
        const c = compareValues(xe[i][1], ye[i][1]);
        if (c) return c;
      }
      return xe.length === ye.length ? 0 : xe.length < ye.length ? -1 : 1;
    }
    case 6: return Buffer.compare(Buffer.from((a as Binary).buffer), Buffer.from((b as Binary).buffer));
    case 7: return (a as ObjectId).toHexString().localeCompare((b as ObjectId).toHexString());
    case 8: return a === b ? 0 : a ? 1 : -1;
    case 9: return Math.sign((a as Date).getTime() - (b as Date).getTime());
    case 10: return (a as Timestamp).compare(b as Timestamp);
    default: return 0;
  }
}

export const valuesEqual = (a: unknown, b: unknown) => typeRank(a) === typeRank(b) && compareValues(a, b) === 0
  && (!isPlainObject(a) || Object.keys(a).length === Object.keys(b as object).length);

/**
 * A string two values share exactly when valuesEqual holds for them (numbers by value whatever their BSON type,
 * documents by their fields in order, arrays by their items), so sets of values can be kept in a Map.
 */
export function valueKey(v: unknown): string {
  const rank = typeRank(v);
  switch (rank) {
    case 2: return `2:${asNumber(v)}`;
    case 3: return `3:${JSON.stringify(v)}`;
    case 4: return `4{${Object.entries(v as object).map(([k, x]) => `${JSON.stringify(k)}:${valueKey(x)}`).join(',')}}`;
    case 5: return `5[${(v as unknown[]).map(valueKey).join(',')}]`;
    case 6: return `6:${Buffer.from((v as Binary).buffer).toString('base64')}`;
    case 7: return `7:${(v as ObjectId).toHexString()}`;
    case 8: return `8:${v}`;
    case 9: return `9:${(v as Date).getTime()}`;
    case 10: return `10:${(v as Timestamp).toString()}`;
    default: return String(rank); // MinKey, null, regular expressions and MaxKey each compare equal among themselves
  }
}

/**
 * Values without repeats (by valuesEqual), in the order first added. A Map over valueKey: n values cost n lookups,
 * where comparing each with those kept cost n²/2 (distinct, $addToSet and $lookup over 20,000 values held the
 * thread every tenant shares for seconds, and the 200,000 a scan may reach for minutes).
 */
export class ValueSet {
  readonly #byKey = new Map<string, unknown>();

  /** false when an equal value is there already */
  add(v: unknown): boolean {
    const k = valueKey(v);
    if (this.#byKey.has(k)) return false;
    this.#byKey.set(k, v);
    return true;
  }

  values(): unknown[] {
    return [...this.#byKey.values()];
  }
}
