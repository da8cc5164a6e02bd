// PostgREST's URL grammar: select lists, filter values, logic trees and order terms, parsed into plain data.
// Nothing here touches SQL; names stay names and values stay values until the builder quotes or binds them.
import { restErrors } from '../errors.js';
import { isJsonIndex } from './integers.js';

/** A JSON path step: an array element when `index` (see isJsonIndex), else an object key. */
export type PathStep = { key: string; arrow: '->' | '->>'; index: boolean };
export interface Field { name: string; path: PathStep[] }
export type AggregateFn = 'count' | 'sum' | 'avg' | 'max' | 'min';
/** `agg`: `col.sum()`, `col::numeric.avg()::int` (cast = the output cast, the field's own cast applies to the input);
 * `count()` alone is a field named '*' */
export interface SelectField extends Field { kind: 'field'; alias: string | null; cast: string | null; agg?: { fn: AggregateFn; cast: string | null } }
export interface SelectStar { kind: 'star' }
export interface SelectEmbed { kind: 'embed'; name: string; alias: string | null; hint: string | null; join: 'inner' | 'left' | null; spread: boolean; select: SelectItem[] }
export type SelectItem = SelectField | SelectStar | SelectEmbed;

/**
 * Deepest parenthesised nesting a select list or logic tree may have. Each level is parsed by a recursive call that
 * scans what is inside it again: past this, `select=a(a(a(…)))` or `or=(or(or(…)))` in a 16 KB URL was a stack
 * overflow (a 500) after half a second of blocked event loop. Embeds stop at REST_MAX_EMBED_DEPTH long before.
 */
export const MAX_NESTING = 64;

/** Splits on `sep` outside parentheses and double quotes (backslash escapes inside quotes). */
export function splitTop(s: string, sep = ','): string[] {
  const out: string[] = [];
  let depth = 0, quoted = false, cur = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quoted) {
      if (ch === '\\' && i + 1 < s.length) { cur += ch + s[++i]; continue; }
      if (ch === '"') quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === '(') {
      if (++depth > MAX_NESTING) throw restErrors.parse(`"failed to parse" (${s.length > 200 ? `${s.slice(0, 200)}…` : s})`, `nested deeper than ${MAX_NESTING} levels`);
    } else if (ch === ')') depth--;
    else if (ch === sep && depth === 0) { out.push(cur); cur = ''; continue; }
    if (depth < 0) throw restErrors.parse(`"failed to parse" (${s})`, 'unexpected ")"');
    cur += ch;
  }
  if (quoted || depth !== 0) throw restErrors.parse(`"failed to parse" (${s})`, 'unbalanced quotes or parentheses');
  out.push(cur);
  return out;
}

const unquote = (s: string) => (s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1).replace(/\\(.)/g, '$1') : s);

/** `col->a->0->>b` (column names may be double-quoted). */
export function parseField(raw: string): Field {
  const s = raw.trim();
  let name: string, rest: string;
  if (s.startsWith('"')) {
    const m = /^"((?:[^"\\]|\\.)*)"/.exec(s);
    if (!m) throw restErrors.parse(`"failed to parse field" (${raw})`);
    name = m[1].replace(/\\(.)/g, '$1');
    rest = s.slice(m[0].length);
  } else {
    const i = s.indexOf('->');
    name = i < 0 ? s : s.slice(0, i);
    rest = i < 0 ? '' : s.slice(i);
  }
  if (!name) throw restErrors.parse(`"failed to parse field" (${raw})`);
  const path: PathStep[] = [];
  if (rest) {
    const parts = rest.split(/(->>?)/);
    if (parts[0] !== '') throw restErrors.parse(`"failed to parse field" (${raw})`);
    for (let i = 1; i < parts.length; i += 2) {
      const step = parts[i + 1] ?? '';
      const key = unquote(step);
      if (!key) throw restErrors.parse(`"failed to parse json path" (${raw})`);
      path.push({ arrow: parts[i] as '->' | '->>', key, index: isJsonIndex(step) });
    }
  }
  return { name, path };
}

// `count()`, `field[::cast].fn()[::cast]`: an aggregate of PostgREST 12 (whether it is allowed is the planner's call).
const AGGREGATE = /^(?:count\(\)|([^()]+)\.(sum|avg|max|min|count)\(\))(?:::([^()]+(?:\(\d+(?:,\d+)?\))?(?:\[\])?))?$/s;

function parseAggregate(s: string, alias: string | null): SelectField | null {
  const m = AGGREGATE.exec(s);
  if (!m) return null;
  const agg = { fn: (m[2] ?? 'count') as AggregateFn, cast: m[3] ? castType(m[3]) : null };
  if (m[1] === undefined) return { kind: 'field', name: '*', path: [], alias, cast: null, agg };
  const f = parseFieldWithCast(m[1]);
  return { ...f, alias, agg };
}

/** `field[->path][::cast]` as a select field without alias. */
function parseFieldWithCast(raw: string): SelectField {
  let s = raw.trim();
  let cast: string | null = null;
  const ci = s.lastIndexOf('::');
  if (ci > 0 && !s.slice(ci).includes('"')) { cast = s.slice(ci + 2).trim(); s = s.slice(0, ci); }
  return { kind: 'field', ...parseField(s), alias: null, cast };
}

function parseItem(raw: string): SelectItem {
  let s = raw.trim();
  if (s === '*') return { kind: 'star' };
  const spread = s.startsWith('...');
  if (spread) s = s.slice(3);
  let alias: string | null = null;
  const am = /^("(?:[^"\\]|\\.)*"|[^:("]+):(?!:)(.*)$/s.exec(s);
  if (am) { alias = unquote(am[1].trim()); s = am[2].trim(); }
  if (!spread) {
    const agg = parseAggregate(s, alias);
    if (agg) return agg;
  }
  const open = s.indexOf('(');
  if (open >= 0 && s.endsWith(')')) {
    const head = s.slice(0, open);
    const [name, ...mods] = head.split('!');
    let hint: string | null = null, join: 'inner' | 'left' | null = null;
    for (const mod of mods) {
      if (mod === 'inner' || mod === 'left') join = mod;
      else if (mod) hint = mod;
      else throw restErrors.parse(`"failed to parse select parameter" (${raw})`);
    }
    if (!name) throw restErrors.parse(`"failed to parse select parameter" (${raw})`);
    const inner = s.slice(open + 1, -1).trim();
    return { kind: 'embed', name: unquote(name), alias, hint, join, spread, select: inner ? parseSelect(inner) : [] };
  }
  if (spread) throw restErrors.parse(`"failed to parse select parameter" (${raw})`, 'spread needs an embedded resource');
  return { ...parseFieldWithCast(s), alias };
}

export function parseSelect(s: string): SelectItem[] {
  if (!s.trim()) return [{ kind: 'star' }];
  return splitTop(s).filter((x) => x.trim() !== '').map(parseItem);
}

export const OPERATORS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'match', 'imatch', 'is', 'isdistinct', 'in', 'cs', 'cd', 'ov', 'sl', 'sr', 'nxl', 'nxr', 'adj', 'fts', 'plfts', 'phfts', 'wfts'] as const;
export type Operator = (typeof OPERATORS)[number];
export interface OpValue { negate: boolean; op: Operator; modifier: 'any' | 'all' | null; config: string | null; value: string; list: string[] | null }

/** `in.(a,"b,c")`'s list: double quotes group, backslash escapes inside them. */
function parseList(v: string, raw: string): string[] {
  if (!v.startsWith('(') || !v.endsWith(')')) throw restErrors.parse(`"failed to parse filter" (${raw})`, 'in needs a parenthesised list');
  const body = v.slice(1, -1);
  if (body.trim() === '') return [];
  return splitTop(body).map((x) => unquote(x.trim()));
}

/** `[not.]op[(any|all|config)].value` */
export function parseOpValue(raw: string, inTree = false): OpValue {
  let s = raw;
  let negate = false;
  if (s.startsWith('not.')) { negate = true; s = s.slice(4); }
  const m = /^([a-z]+)(?:\(([^)]*)\))?\.([\s\S]*)$/.exec(s);
  if (!m || !(OPERATORS as readonly string[]).includes(m[1])) {
    throw restErrors.parse(`"failed to parse filter (${raw})" (line 1, column ${Math.max(1, s.indexOf('.') + 1)})`, 'unknown or misplaced operator');
  }
  const op = m[1] as Operator;
  let modifier: 'any' | 'all' | null = null, config: string | null = null;
  if (m[2] !== undefined) {
    if (op.endsWith('fts')) config = m[2];
    else if ((m[2] === 'any' || m[2] === 'all') && ['eq', 'like', 'ilike', 'gt', 'gte', 'lt', 'lte', 'match', 'imatch'].includes(op)) modifier = m[2];
    else throw restErrors.parse(`"failed to parse filter (${raw})"`, `unexpected modifier (${m[2]})`);
  }
  let value = m[3];
  if (inTree && op !== 'in') value = unquote(value);
  const list = op === 'in' ? parseList(value, raw) : null;
  if (op === 'is' && !['null', 'not_null', 'true', 'false', 'unknown'].includes(value.toLowerCase())) {
    throw restErrors.parse(`"failed to parse filter (${raw})"`, 'is accepts null, not_null, true, false or unknown');
  }
  return { negate, op, modifier, config, value, list };
}

export type Cond =
  | { kind: 'filter'; field: Field; embedPath: string[]; op: OpValue }
  | { kind: 'tree'; negate: boolean; and: boolean; items: Cond[] };

/** `(a.eq.1,not.and(b.gt.2,c.lt.3))` → a tree; members address fields of the same resource (or `rel.is.null`). */
export function parseTree(value: string, and: boolean, negate: boolean): Cond {
  const v = value.trim();
  if (!v.startsWith('(') || !v.endsWith(')')) throw restErrors.parse(`"failed to parse logic tree (${value})"`, 'expected parentheses');
  const items = splitTop(v.slice(1, -1)).map((part): Cond => {
    const p = part.trim();
    const tm = /^(not\.)?(and|or)(\(.*\))$/s.exec(p);
    if (tm) return parseTree(tm[3], tm[2] === 'and', !!tm[1]);
    // The field ends at the first '.' outside quotes.
    const fm = /^("(?:[^"\\]|\\.)*"|[^.]+)\.(.*)$/s.exec(p);
    if (!fm) throw restErrors.parse(`"failed to parse logic tree (${value})"`, `bad member ${p}`);
    return { kind: 'filter', field: parseField(fm[1]), embedPath: [], op: parseOpValue(fm[2], true) };
  });
  return { kind: 'tree', negate, and, items };
}

export interface OrderTerm { field: Field; relation: string | null; desc: boolean; nulls: 'first' | 'last' | null }

export function parseOrder(s: string): OrderTerm[] {
  return splitTop(s).filter((x) => x.trim()).map((term) => {
    const parts = term.trim().split('.');
    let desc = false, nulls: 'first' | 'last' | null = null;
    while (parts.length > 1) {
      const last = parts[parts.length - 1];
      if (last === 'asc' || last === 'desc') desc = last === 'desc';
      else if (last === 'nullsfirst' || last === 'nullslast') nulls = last === 'nullsfirst' ? 'first' : 'last';
      else break;
      parts.pop();
    }
    const f = parts.join('.');
    const rm = /^([^(]+)\((.+)\)$/.exec(f);
    if (rm) return { field: parseField(rm[2]), relation: unquote(rm[1]), desc, nulls };
    return { field: parseField(f), relation: null, desc, nulls };
  });
}

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
