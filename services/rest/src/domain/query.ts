// The parse stage's reading of PostgREST's query string and of the Prefer and Range headers: a ReadSpec (select
// tree, filters, order and paging per embed path) plus columns/on_conflict. Reserved keys may carry an embed path
// prefix (`actors.order`, `roles.actors.limit`).
import { restErrors } from '../errors.js';
import { parseField, parseOpValue, parseOrder, parseSelect, parseTree, splitTop, type Cond, type OrderTerm, type SelectItem } from './grammar.js';
import { BIGINT_MAX, bigintParam, toBigint } from './integers.js';

export interface ReadSpec {
  select: SelectItem[];
  /** keyed by embed path ('' = root, 'actors', 'roles.actors') */
  conds: Map<string, Cond[]>;
  order: Map<string, OrderTerm[]>;
  /** a number: the planner caps every limit at max rows (or refuses the root's), so past 2^53 it need not be exact */
  limit: Map<string, number>;
  /** exact up to bigint: it goes into the SQL and comes back in Content-Range and PGRST103 as asked */
  offset: Map<string, bigint>;
}

export interface Prefer {
  return: 'minimal' | 'representation' | 'headers-only' | null;
  count: 'exact' | 'planned' | 'estimated' | null;
  resolution: 'merge-duplicates' | 'ignore-duplicates' | null;
  missing: 'default' | null;
  tx: 'commit' | 'rollback' | null;
  maxAffected: bigint | null;
  timezone: string | null;
  strict: boolean;
  applied: string[];
}

const PREFER_VALUES: Record<string, string[]> = {
  return: ['minimal', 'representation', 'headers-only'], count: ['exact', 'planned', 'estimated'],
  resolution: ['merge-duplicates', 'ignore-duplicates'], missing: ['default', 'null'], tx: ['commit', 'rollback'], handling: ['lenient', 'strict'],
};

/** One comma-joined header (postgrest-js appends), RFC 7240 tokens, case-insensitive. */
export function parsePrefer(header: string | string[] | undefined): Prefer {
  const raw = (Array.isArray(header) ? header.join(',') : header ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const p: Prefer = { return: null, count: null, resolution: null, missing: null, tx: null, maxAffected: null, timezone: null, strict: false, applied: [] };
  const invalid: string[] = [];
  for (const item of raw) {
    const [k, v = ''] = item.split('=').map((s) => s.trim().toLowerCase());
    // past bigint (PostgREST's Int64) it is no number PostgREST can hold: an invalid preference
    const maxAffected = k === 'max-affected' && /^\d+$/.test(v) ? toBigint(v) : null;
    if (maxAffected !== null) { p.maxAffected = maxAffected; continue; }
    if (k === 'timezone') { p.timezone = item.slice(item.indexOf('=') + 1).trim(); continue; }
    if (!PREFER_VALUES[k]?.includes(v)) { invalid.push(item); continue; }
    if (k === 'handling') p.strict = v === 'strict';
    else if (k === 'missing') p.missing = v === 'default' ? 'default' : null;
    else (p as unknown as Record<string, string>)[k] = v;
  }
  if (p.strict && invalid.length) throw restErrors.strictPrefs(invalid);
  if (!p.strict) p.maxAffected = null; // PostgREST honours max-affected only with handling=strict
  return p;
}

const RESERVED = new Set(['select', 'order', 'limit', 'offset', 'or', 'and', 'columns', 'on_conflict']);

export interface ParsedQuery {
  spec: ReadSpec;
  columns: string[] | null;
  onConflict: string[] | null;
  /** GET /rpc: unreserved single-segment pairs, arguments or root filters; the planner tells them apart by the
   * function's parameter names */
  rest: [string, string][];
}

/**
 * `limit`/`offset`: digits only (no sign, fraction, exponent or blanks), else PGRST100; 22003 past bigint. A negative
 * limit is PostgREST's own answer to it, a 416 (the range it asks for ends before it starts).
 */
function rowCount(v: string, what: 'limit' | 'offset'): bigint {
  if (what === 'limit' && /^-\d+$/.test(v)) throw restErrors.negativeLimit();
  if (!/^\d+$/.test(v)) throw restErrors.parse(`"failed to parse ${what}" (${v})`);
  return bigintParam(v);
}

/** Splits a key on dots outside quotes: `roles.actors.order` → ['roles', 'actors', 'order']. */
const keyParts = (k: string) => splitTop(k, '.');

function add<T>(m: Map<string, T[]>, path: string, v: T): void {
  const list = m.get(path);
  if (list) list.push(v);
  else m.set(path, [v]);
}

export function parseQuery(search: URLSearchParams, mayBeArgs = false): ParsedQuery {
  const spec: ReadSpec = { select: [{ kind: 'star' }], conds: new Map(), order: new Map(), limit: new Map(), offset: new Map() };
  const q: ParsedQuery = { spec, columns: null, onConflict: null, rest: [] };
  for (const [key, value] of search) {
    if (key === 'select') { spec.select = parseSelect(value); continue; }
    if (key === 'columns') { q.columns = splitTop(value).map((c) => parseField(c).name); continue; }
    if (key === 'on_conflict') { q.onConflict = splitTop(value).map((c) => parseField(c).name); continue; }
    const parts = keyParts(key);
    const last = parts[parts.length - 1];
    let negate = false;
    let prefix = parts.slice(0, -1);
    if ((last === 'or' || last === 'and') && prefix[prefix.length - 1] === 'not') { negate = true; prefix = prefix.slice(0, -1); }
    const path = prefix.join('.');
    if (RESERVED.has(last)) {
      if (last === 'order') spec.order.set(path, [...(spec.order.get(path) ?? []), ...parseOrder(value)]);
      else if (last === 'limit') spec.limit.set(path, Number(rowCount(value, 'limit')));
      else if (last === 'offset') spec.offset.set(path, rowCount(value, 'offset'));
      else if (last === 'or' || last === 'and') add(spec.conds, path, parseTree(value, last === 'and', negate));
      else throw restErrors.parse(`"failed to parse" (${key})`);
      continue;
    }
    if (parts.length === 1 && mayBeArgs) { q.rest.push([key, value]); continue; }
    add(spec.conds, parts.slice(0, -1).join('.'), filterCond(parts, value));
  }
  return q;
}

/** A filter: the last key segment is the field (it may hold a JSON path), the others the embed path. */
export function filterCond(parts: string[], value: string): Cond {
  return { kind: 'filter', field: parseField(parts[parts.length - 1]), embedPath: parts.slice(0, -1), op: parseOpValue(value) };
}

/** `Range: 0-19` (Range-Unit items) → offset/limit for the root. As in PostgREST, the end is only arithmetic: the
 * start (the offset) and the length (the limit) are what must fit bigint. */
export function applyRange(spec: ReadSpec, header: string | undefined): void {
  if (!header) return;
  const m = /^(?:items=)?\s*(\d+)-(\d*)\s*$/.exec(header);
  if (!m) return;
  const from = bigintParam(m[1]);
  if (!spec.offset.has('')) spec.offset.set('', from);
  if (m[2] === '') return;
  const to = BigInt(m[2]);
  if (to < from) throw restErrors.rangeInverted();
  const length = to - from + 1n;
  if (length > BIGINT_MAX) throw restErrors.outOfRange(String(length), 'bigint');
  const lim = Number(length);
  spec.limit.set('', Math.min(lim, spec.limit.get('') ?? lim));
}
