// postgres_changes bindings as realtime-js sends them in phx_join, Realtime's filter grammar
// (`col=op.value`, comma-separated AND; eq neq lt lte gt gte in), and matching a captured row against them.

export type ChangeEvent = '*' | 'INSERT' | 'UPDATE' | 'DELETE';
type Op = 'eq' | 'neq' | 'lt' | 'lte' | 'gt' | 'gte' | 'in';

export interface Condition {
  column: string;
  op: Op;
  negate: boolean;
  value: string;
  list?: string[];
}

export interface Binding {
  /** what the join reply echoes: exactly the fields the client sent */
  echo: Record<string, unknown>;
  id: number;
  event: ChangeEvent;
  schema: string;
  /** '*' = every table of the schema */
  table: string;
  conditions: Condition[];
}

export class FilterError extends Error {}

const IDENT = /^[^\s"\\]{1,63}$/;

/** 32-bit FNV-1a: identical bindings get the same id (as Realtime's phash2 does), any socket, any replica. */
function bindingId(parts: string[]): number {
  let h = 0x811c9dc5;
  for (const ch of parts.join('\u0000')) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % 2_147_483_647;
}

function parseList(v: string): string[] {
  const m = /^\((.*)\)$/.exec(v);
  if (!m) throw new FilterError(`\`in\` needs a list in parentheses, got ${v}`);
  return m[1].split(',').map((s) => s.trim().replace(/^"(.*)"$/, '$1'));
}

/**
 * The filter's conditions: split at the commas outside parentheses (an `in` list keeps its own). One pass: a
 * lookahead regex for "not inside a list" rescans the rest of the filter at every comma, seconds of a blocked
 * event loop for a join of a few tens of thousands of commas.
 */
function splitConditions(filter: string): string[] {
  const parts: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i < filter.length; i++) {
    const c = filter[i];
    if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (c === ',' && depth === 0) {
      parts.push(filter.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(filter.slice(start));
  return parts;
}

export function parseFilter(filter: string): Condition[] {
  if (filter.trim() === '') return [];
  return splitConditions(filter).map((part) => {
    const m = /^([^=]+)=(not\.)?(eq|neq|lt|lte|gt|gte|in)\.(.*)$/s.exec(part.trim());
    if (!m) throw new FilterError(`${part} is not column=op.value with op one of eq, neq, lt, lte, gt, gte, in`);
    const op = m[3] as Op;
    return { column: m[1].trim(), op, negate: !!m[2], value: m[4], ...(op === 'in' ? { list: parseList(m[4]) } : {}) };
  });
}

/**
 * postgres_changes entries one join may carry: each is matched against every change of its tables for as long as the
 * channel lives, and each table it names is looked up (a whole schema listed) when it joins.
 */
export const MAX_BINDINGS = 100;

export function parseBindings(raw: unknown): Binding[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new FilterError('postgres_changes must be a list');
  if (raw.length > MAX_BINDINGS) throw new FilterError(`a channel may carry at most ${MAX_BINDINGS} postgres_changes entries`);
  return raw.map((b: unknown) => {
    if (!b || typeof b !== 'object') throw new FilterError('each postgres_changes binding must be an object');
    const o = b as Record<string, unknown>;
    const event = typeof o.event === 'string' ? o.event.toUpperCase() : '';
    if (!['*', 'INSERT', 'UPDATE', 'DELETE'].includes(event)) throw new FilterError(`event must be *, INSERT, UPDATE or DELETE, got ${String(o.event)}`);
    const schema = o.schema === undefined || o.schema === null ? 'public' : String(o.schema);
    const table = o.table === undefined || o.table === null ? '*' : String(o.table);
    if (!IDENT.test(schema) || !IDENT.test(table)) throw new FilterError('schema and table must be plain names');
    const filter = typeof o.filter === 'string' ? o.filter : '';
    const conditions = parseFilter(filter);
    return { echo: o, id: bindingId([String(o.event), schema, table, filter]), event: event as ChangeEvent, schema, table, conditions };
  });
}

/** Reply entries in the order sent, echoing each binding's fields plus its id. */
export const replyBindings = (bs: Binding[]) => bs.map((b) => ({ ...b.echo, id: b.id }));

const text = (v: unknown): string | null => (v === null || v === undefined ? null : typeof v === 'object' ? JSON.stringify(v) : String(v));

function compare(v: unknown, target: string): number {
  const a = Number(v), b = Number(target);
  if (typeof v === 'number' && Number.isFinite(b)) return a - b;
  const s = text(v)!;
  return s < target ? -1 : s > target ? 1 : 0;
}

function holds(c: Condition, row: Record<string, unknown>): boolean {
  const v = row[c.column];
  const s = text(v);
  let ok: boolean;
  if (s === null) ok = c.op === 'neq' ? c.value !== 'null' : c.op === 'eq' ? c.value === 'null' : false;
  else if (c.op === 'eq') ok = s === c.value || (typeof v === 'number' && Number(c.value) === v);
  else if (c.op === 'neq') ok = !(s === c.value || (typeof v === 'number' && Number(c.value) === v));
  else if (c.op === 'in') ok = c.list!.some((x) => x === s || (typeof v === 'number' && Number(x) === v));
  else {
    const d = compare(v, c.value);
    ok = c.op === 'lt' ? d < 0 : c.op === 'lte' ? d <= 0 : c.op === 'gt' ? d > 0 : d >= 0;
  }
  return c.negate ? !ok : ok;
}

export function matches(b: Binding, op: 'INSERT' | 'UPDATE' | 'DELETE', schema: string, table: string, row: Record<string, unknown>): boolean {
  if (b.schema !== schema || (b.table !== '*' && b.table !== table)) return false;
  if (b.event !== '*' && b.event !== op) return false;
  return b.conditions.every((c) => holds(c, row));
}
