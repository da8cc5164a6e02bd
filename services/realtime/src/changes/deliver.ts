// A batch of captured changes → postgres_changes messages: match each change against the subscribed
// channels of its table, check row visibility under RLS once per (subscriber, table) for the whole batch,
// then deliver in commit order with Realtime's payload. Per-change work is done once per change, not per
// subscriber: the key text, the record JSON.
import type { Principal } from '@basalt/tenancy';
import { overflowPayloads, visibleKeys, type TableMeta } from '../db/tables.js';
import type { Channel } from '../socket/channel.js';
import type { Feed } from './feeds.js';
import { matches } from './filters.js';

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

interface Check {
  principal: Principal;
  meta: TableMeta;
  keys: Map<string, string[]>;
  visible?: Set<string>;
}

interface Target {
  ch: Channel;
  ids: number[];
  check: Check | null;
}

interface Pending {
  note: Note;
  meta: TableMeta;
  key: string;
  targets: Target[];
}

const keyText = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
const pick = (row: Record<string, unknown>, cols: { name: string }[]) => Object.fromEntries(cols.map((c) => [c.name, row[c.name]]));

/** Whether the role may see the table at all (grants), before any row check. */
const maySelect = (meta: TableMeta, p: Principal) => p.role === 'service_role' || meta.selectable[p.role as 'anon' | 'authenticated'];

/** Who a principal is for check grouping: one token, one set of claims. */
const principals = new WeakMap<Principal, string>();
const principalKey = (p: Principal) => principals.get(p) ?? (principals.set(p, `${p.role}\u0000${p.token}`), principals.get(p)!);

export async function processBatch(feed: Feed, notes: Note[]): Promise<void> {
  const big = notes.filter((n) => n.x).map((n) => n.i);
  if (big.length) {
    const found = await overflowPayloads(feed.pool, big);
    notes = notes.map((n) => (n.x ? ((found.get(n.i) as Note | undefined) ?? n) : n)).filter((n) => !n.x);
  }
  const subs = [...feed.claims.keys()].filter((ch) => !ch.closed);
  const byTable = new Map<string, Channel[]>();
  const checks = new Map<string, Check>();
  const pending: Pending[] = [];
  for (const note of notes) {
    const meta = await feed.tables.get(note.s, note.t);
    if (!meta) continue;
    const table = `${note.s}.${note.t}`;
    let candidates = byTable.get(table);
    if (!candidates) byTable.set(table, (candidates = subs.filter((ch) => ch.bindings.some((b) => b.schema === note.s && (b.table === '*' || b.table === note.t)))));
    if (!candidates.length) continue;
    const row = (note.o === 'DELETE' ? note.p : note.n) ?? {};
    let pk: string[] | null = null;
    const targets: Target[] = [];
    for (const ch of candidates) {
      let ids: number[] | null = null;
      for (const b of ch.bindings) if (matches(b, note.o, note.s, note.t, row)) (ids ??= []).push(b.id);
      if (!ids) continue;
      const p = ch.opts.principal;
      if (!maySelect(meta, p)) continue;
      // Deletes are not row-checked (the row is gone); with RLS on they carry only the primary key, as in Realtime.
      if (p.role === 'service_role' || !meta.rls || note.o === 'DELETE') {
        targets.push({ ch, ids, check: null });
        continue;
      }
      if (!meta.pk.length) continue; // no key to check visibility by: not delivered
      pk ??= meta.pk.map((c) => keyText(row[c.name]));
      const ck = `${principalKey(p)}\u0000${table}`;
      let check = checks.get(ck);
      if (!check) checks.set(ck, (check = { principal: p, meta, keys: new Map() }));
      check.keys.set(pk.join('\u0001'), pk);
      targets.push({ ch, ids, check });
    }
    if (targets.length) pending.push({ note, meta, key: pk ? pk.join('\u0001') : '', targets });
  }
  await checkVisibility(feed, [...checks.values()]);
  for (const { note, meta, key, targets } of pending) {
    let json: string | null = null;
    for (const { ch, ids, check } of targets) {
      if (ch.closed || (check && !check.visible!.has(key))) continue;
      json ??= changeData(note, meta);
      const payload = `{"ids":${JSON.stringify(ids)},"data":${json}}`;
      const topic = JSON.stringify(ch.topic);
      ch.pushFrame(ch.vsn === '2.0.0'
        ? `[null,null,${topic},"postgres_changes",${payload}]`
        : `{"join_ref":null,"ref":null,"topic":${topic},"event":"postgres_changes","payload":${payload}}`);
    }
  }
}

/** Spreads the batch's checks over the project's connections, several callers per round trip. */
async function checkVisibility(feed: Feed, checks: Check[]): Promise<void> {
  const per = Math.min(25, Math.max(1, Math.ceil(checks.length / feed.deps.poolSize)));
  const chunks: Check[][] = [];
  for (let i = 0; i < checks.length; i += per) chunks.push(checks.slice(i, i + per));
  await Promise.all(chunks.map(async (chunk) => {
    const sets = await visibleKeys(feed.pool, chunk.map((c) => ({
      caller: { role: c.principal.role, claims: c.principal.claims, readOnly: true }, meta: c.meta, keys: [...c.keys.values()],
    })));
    chunk.forEach((c, i) => (c.visible = sets[i]));
  }));
}

/** Realtime's change record: old_record holds the primary key only unless REPLICA IDENTITY FULL (and never more with RLS on deletes). */
function changeData(n: Note, meta: TableMeta): string {
  const out: Record<string, unknown> = {
    schema: n.s, table: n.t, commit_timestamp: new Date(n.c).toISOString(), type: n.o, columns: meta.columns, errors: null,
  };
  if (n.o !== 'DELETE') out.record = n.n ?? {};
  if (n.o !== 'INSERT') {
    const old = n.p ?? {};
    out.old_record = meta.fullIdentity && !(meta.rls && n.o === 'DELETE') ? old : pick(old, meta.pk);
  }
  return JSON.stringify(out);
}
