// A batch of captured changes → postgres_changes messages: match each change against the subscribed
// channels of its table, check row visibility under RLS once per (claims, table) for the whole batch, then
// deliver in commit order with Realtime's payload. What can be decided per channel (its bindings on the table,
// its grant, its check, its frame's head) is decided once per batch, not once per change; what depends on the
// change only (its key, its record JSON) is computed once per change, not once per subscriber.
import type { Principal } from '@basalt/tenancy';
import { CallerError, loggedChanges, visibleKeys, type TableMeta } from '../db/tables.js';
import type { Channel, ChannelOwner } from '../socket/channel.js';
import type { Feed } from './feeds.js';
import { matches, type Binding } from './filters.js';

export interface Note {
  i: number;
  s: string;
  t: string;
  o: 'INSERT' | 'UPDATE' | 'DELETE';
  c: number;
  n: Record<string, unknown> | null;
  p: Record<string, unknown> | null;
  x?: boolean;
}

type Op = Note['o'];

/** One visibility check: one set of claims on one table, every key its channels need in this batch. */
interface Check {
  principal: Principal;
  table: Table;
  /** indexes into table.keys, each once */
  idx: number[];
  seen: Uint8Array;
  /** by key index: the row is visible */
  visible?: Uint8Array;
}

/** A channel subscribed to a table, as far as this batch goes. */
interface Sub {
  ch: Channel;
  bindings: Binding[];
  /** no binding on the table has a filter: the ids depend on the operation only */
  plain: boolean;
  /** the binding ids as JSON, by operation, for plain subs ('' = no binding for it) */
  ids: Record<Op, string>;
  /** null: no row check (service_role, RLS off); 'none': RLS on but no primary key, only deletes reach it */
  check: Check | null | 'none';
  head: string;
  tail: string;
}

interface Table {
  meta: TableMeta;
  subs: Sub[];
  /** plain subs with a binding for each operation, in subscription order */
  plainFor: Record<Op, Sub[]>;
  filtered: Sub[];
  /** every distinct primary key of this table's checked changes in the batch */
  keys: string[][];
  keyIndex: Map<string, number>;
}

interface Pending {
  note: Note;
  table: Table;
  key: number;
  subs: Sub[];
  /** per sub (same order), its binding ids as JSON */
  ids: string[] | null;
}

/** check work in rows: what one caller's read costs besides its rows, and what is worth a round trip of its own */
const CALLER_ROWS = 20;
const ROUND_TRIP_ROWS = 4_000;

const keyText = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
const pick = (row: Record<string, unknown>, cols: { name: string }[]) => Object.fromEntries(cols.map((c) => [c.name, row[c.name]]));
const OPS: Op[] = ['INSERT', 'UPDATE', 'DELETE'];

/** Whether the role may see the table at all (grants), before any row check. */
const maySelect = (meta: TableMeta, p: Principal) => p.role === 'service_role' || meta.selectable[p.role as 'anon' | 'authenticated'];

/** Who a principal is for check grouping: the role and the claims (what the check's settings are made of). */
const principals = new WeakMap<Principal, string>();
function principalKey(p: Principal): string {
  let k = principals.get(p);
  if (k === undefined) principals.set(p, (k = `${p.role}\u0000${JSON.stringify(p.claims)}`));
  return k;
}

/** What comes before a change's binding ids in the channel's frames, and after its data (a channel keeps its topic). */
const ends = new WeakMap<Channel, [string, string]>();
function frameEnds(ch: Channel): [string, string] {
  let e = ends.get(ch);
  if (!e) {
    const topic = JSON.stringify(ch.topic);
    e = ch.vsn === '2.0.0'
      ? [`[null,null,${topic},"postgres_changes",{"ids":`, '}]']
      : [`{"join_ref":null,"ref":null,"topic":${topic},"event":"postgres_changes","payload":{"ids":`, '}}'];
    ends.set(ch, e);
  }
  return e;
}

/** A channel's bindings on one table: which, whether any has a filter, and the ids by operation where none has. */
interface OnTable {
  bindings: Binding[];
  plain: boolean;
  ids: Record<Op, string>;
}

/** per bindings list (a channel's, set once at its join), per table */
const onTables = new WeakMap<Binding[], Map<string, OnTable>>();
function onTable(all: Binding[], schema: string, table: string): OnTable {
  let byTable = onTables.get(all);
  if (!byTable) onTables.set(all, (byTable = new Map()));
  const name = `${schema}.${table}`;
  let t = byTable.get(name);
  if (!t) {
    const bindings = all.filter((b) => b.schema === schema && (b.table === '*' || b.table === table));
    const plain = bindings.every((b) => !b.conditions.length);
    const ids = { INSERT: '', UPDATE: '', DELETE: '' };
    if (plain) {
      for (const op of OPS) {
        const matched = bindings.filter((b) => b.event === '*' || b.event === op).map((b) => b.id);
        if (matched.length) ids[op] = JSON.stringify(matched);
      }
    }
    byTable.set(name, (t = { bindings, plain, ids }));
  }
  return t;
}

/** The table's subscribers for this batch, each with what does not change from one change to the next. */
function tableOf(meta: TableMeta, channels: Channel[], checks: Map<string, Check>, size: number): Table {
  const table: Table = { meta, subs: [], plainFor: { INSERT: [], UPDATE: [], DELETE: [] }, filtered: [], keys: [], keyIndex: new Map() };
  const name = `${meta.schema}.${meta.table}`;
  for (const ch of channels) {
    const { bindings, plain, ids } = onTable(ch.bindings, meta.schema, meta.table);
    if (!bindings.length) continue;
    const p = ch.opts.principal;
    if (!maySelect(meta, p)) continue;
    let check: Sub['check'] = null;
    // Deletes are not row-checked (the row is gone); with RLS on they carry only the primary key, as in Realtime.
    if (p.role !== 'service_role' && meta.rls) {
      if (!meta.pk.length) check = 'none'; // no key to check visibility by: only deletes are delivered
      else {
        const ck = `${principalKey(p)}\u0000${name}`;
        check = checks.get(ck) ?? null;
        if (!check) checks.set(ck, (check = { principal: p, table, idx: [], seen: new Uint8Array(size) }));
      }
    }
    const [head, tail] = frameEnds(ch);
    const sub: Sub = { ch, bindings, plain, ids, check, head, tail };
    table.subs.push(sub);
    if (!plain) table.filtered.push(sub);
    else for (const op of OPS) if (ids[op] && !(op !== 'DELETE' && check === 'none')) table.plainFor[op].push(sub);
  }
  return table;
}

/** The change's key index in its table (its primary key, once per change). */
function keyOf(table: Table, row: Record<string, unknown>): number {
  const pk = table.meta.pk.map((c) => keyText(row[c.name]));
  const text = pk.join('\u0001');
  let i = table.keyIndex.get(text);
  if (i === undefined) {
    table.keyIndex.set(text, (i = table.keys.length));
    table.keys.push(pk);
  }
  return i;
}

function need(check: Check, key: number): void {
  if (check.seen[key]) return;
  check.seen[key] = 1;
  check.idx.push(key);
}

export async function processBatch(feed: Feed, notes: Note[]): Promise<void> {
  const big = notes.filter((n) => n.x).map((n) => n.i);
  if (big.length) {
    const found = await loggedChanges(feed.pool, big);
    notes = notes.map((n) => (n.x ? ((found.get(n.i) as Note | undefined) ?? n) : n)).filter((n) => !n.x);
  }
  const channels = [...feed.claims.keys()].filter((ch) => !ch.closed);
  const metas = new Map<string, TableMeta | null>();
  for (const n of notes) {
    const name = `${n.s}.${n.t}`;
    if (!metas.has(name)) metas.set(name, await feed.tables.get(n.s, n.t));
  }
  const tables = new Map<string, Table | null>();
  const checks = new Map<string, Check>();
  const pending: Pending[] = [];
  for (const note of notes) {
    const name = `${note.s}.${note.t}`;
    let table = tables.get(name);
    if (table === undefined) {
      const meta = metas.get(name)!;
      tables.set(name, (table = meta && tableOf(meta, channels, checks, notes.length)));
    }
    if (!table || !table.subs.length) continue;
    const row = (note.o === 'DELETE' ? note.p : note.n) ?? {};
    let subs = table.plainFor[note.o];
    let ids: string[] | null = null;
    if (table.filtered.length) {
      subs = subs.slice();
      ids = subs.map((s) => s.ids[note.o]);
      for (const s of table.filtered) {
        if (note.o !== 'DELETE' && s.check === 'none') continue;
        let matched: number[] | null = null;
        for (const b of s.bindings) if (matches(b, note.o, note.s, note.t, row)) (matched ??= []).push(b.id);
        if (!matched) continue;
        subs.push(s);
        ids.push(JSON.stringify(matched));
      }
    }
    if (!subs.length) continue;
    let key = -1;
    if (note.o !== 'DELETE') {
      for (const s of subs) {
        if (s.check === null || s.check === 'none') continue;
        if (key < 0) key = keyOf(table, row);
        need(s.check, key);
      }
    }
    pending.push({ note, table, key, subs, ids });
  }
  await checkVisibility(feed, [...checks.values()].filter((c) => c.idx.length));
  // each socket's frames of the batch leave together once the batch is out
  const corked = new Set<ChannelOwner>();
  try {
    for (const { note, table, key, subs, ids } of pending) {
      let json: string | null = null;
      for (let i = 0; i < subs.length; i++) {
        const s = subs[i];
        if (s.ch.closed) continue;
        if (key >= 0 && s.check !== null && !(s.check as Check).visible?.[key]) continue;
        json ??= changeData(note, table.meta);
        if (!corked.has(s.ch.owner)) {
          corked.add(s.ch.owner);
          s.ch.owner.cork?.();
        }
        s.ch.pushFrame(`${s.head}${ids ? ids[i] : s.ids[note.o]},"data":${json}${s.tail}`);
      }
    }
  } finally {
    for (const o of corked) o.uncork?.();
  }
}

/**
 * Spreads the batch's checks over the project's connections, several callers per round trip: as many round trips
 * as the work is worth (a caller's read costs about as much as checking CALLER_ROWS rows, and a round trip should
 * carry some ROUND_TRIP_ROWS of it), at most one per connection.
 */
async function checkVisibility(feed: Feed, checks: Check[]): Promise<void> {
  const work = checks.reduce((n, c) => n + c.idx.length + CALLER_ROWS, 0);
  const trips = Math.max(1, Math.min(feed.deps.poolSize, Math.ceil(work / ROUND_TRIP_ROWS), checks.length));
  const per = Math.ceil(checks.length / trips);
  const chunks: Check[][] = [];
  for (let i = 0; i < checks.length; i += per) chunks.push(checks.slice(i, i + per));
  await Promise.all(chunks.map(async (chunk) => {
    const sets = await visibleKeys(feed.pool, chunk.map((c) => {
      const all = c.idx.length === c.table.keys.length;
      return {
        caller: { role: c.principal.role, claims: c.principal.claims, readOnly: true }, meta: c.table.meta,
        // every key of the table in the batch: the same array for all such checks, read once per round trip
        keys: all ? c.table.keys : c.idx.map((i) => c.table.keys[i]), shared: all,
      };
    }));
    chunk.forEach((c, i) => {
      const visible = new Uint8Array(c.table.keys.length);
      c.visible = visible;
      const set = sets[i];
      if (set instanceof CallerError) {
        // its policy raised for it alone: it gets none of the batch, everyone else their rows
        const { meta, keys } = c.table;
        feed.deps.log.warn({ ref: feed.project.ref, role: c.principal.role, table: `${meta.schema}.${meta.table}`, changes: keys.length, code: set.code, err: set.message },
          'a subscriber\'s row check failed: those changes are not delivered to it');
        return;
      }
      for (const k of set) {
        const at = c.table.keyIndex.get(k);
        if (at !== undefined) visible[at] = 1;
      }
    });
  }));
}

/** The table's part of every change record of it: schema, table and columns (JSON, made once per description). */
const tableParts = new WeakMap<TableMeta, [string, string]>();
function tablePart(meta: TableMeta): [string, string] {
  let p = tableParts.get(meta);
  if (!p) tableParts.set(meta, (p = [`{"schema":${JSON.stringify(meta.schema)},"table":${JSON.stringify(meta.table)},"commit_timestamp":`, `,"columns":${JSON.stringify(meta.columns)},"errors":null`]));
  return p;
}

/**
 * Realtime's change record (schema, table, commit_timestamp, type, columns, errors, record, old_record): old_record
 * holds the primary key only unless REPLICA IDENTITY FULL (and never more with RLS on deletes).
 */
function changeData(n: Note, meta: TableMeta): string {
  const [head, columns] = tablePart(meta);
  let out = `${head}"${new Date(n.c).toISOString()}","type":${JSON.stringify(n.o)}${columns}`;
  if (n.o !== 'DELETE') out += `,"record":${JSON.stringify(n.n ?? {})}`;
  if (n.o !== 'INSERT') {
    const old = n.p ?? {};
    out += `,"old_record":${JSON.stringify(meta.fullIdentity && !(meta.rls && n.o === 'DELETE') ? old : pick(old, meta.pk))}`;
  }
  return `${out}}`;
}
