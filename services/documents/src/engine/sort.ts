// Sort specifications: {a: 1, "b.c": -1} → SQL ORDER BY over the same expressions createIndex indexes
// (ascending with missing first, as MongoDB), and a JS comparator for stages that sort in memory.
import { docErrors } from '../errors.js';
import { compareValues } from './compare.js';
import { pathValues } from './match.js';
import { parsePath, pathExpr } from './sql.js';
import { asNumber, isPlainObject, type Doc } from './values.js';

export type SortKey = [string[], 1 | -1];

export function parseSort(spec: unknown): SortKey[] {
  if (spec === undefined || spec === null) return [];
  if (!isPlainObject(spec)) throw docErrors.typeMismatch('sort must be an object');
  return Object.entries(spec).map(([k, v]) => {
    const d = asNumber(v);
    if (d !== 1 && d !== -1) {
      if (isPlainObject(v) && '$meta' in v) throw docErrors.unsupported('$meta sort');
      throw docErrors.badValue(`$sort key ordering must be 1 (for ascending) or -1 (for descending); "${k}" has ${JSON.stringify(v)}`);
    }
    return [parsePath(k), d] as SortKey;
  });
}

/** ORDER BY text; `_id` last as a tie-breaker keeps pages stable. */
export function sortSql(keys: SortKey[]): string {
  if (keys.length === 0) return '';
  const parts = keys.map(([p, d]) => `${pathExpr('doc', p)} ${d === 1 ? 'asc nulls first' : 'desc nulls last'}`);
  return ` order by ${parts.join(', ')}`;
}

/** MongoDB sorts arrays by their smallest element ascending and largest descending. */
function sortValue(doc: Doc, path: string[], dir: 1 | -1): unknown {
  const vals = pathValues(doc, path).flatMap((v) => (Array.isArray(v) && v.length ? v : [v]));
  if (vals.length === 0) return null;
  return vals.reduce((a, b) => (compareValues(a, b) * dir <= 0 ? a : b));
}

export function sortDocs(docs: Doc[], keys: SortKey[]): Doc[] {
  return docs.sort((a, b) => {
    for (const [p, d] of keys) {
      const c = compareValues(sortValue(a, p, d), sortValue(b, p, d));
      if (c) return c * d;
    }
    return 0;
  });
}
