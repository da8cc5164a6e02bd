// Per-collection access rules: {read, insert, update, delete}, each `true`, `false`, a filter, or
// {filter?, fields?} (fields: the top-level fields a write may set). Strings in filters may use ${auth.uid},
// ${auth.role} and ${auth.jwt.<claim>}; a rule naming a claim the caller lacks denies (it never widens).
// Absent actions deny. Rules are validated when saved by compiling them for a sample caller.
import { EJSON } from 'bson';
import { LRUCache } from 'lru-cache';
import { SqlParams } from '@basalt/db';
import { docErrors } from '../errors.js';
import { compileFilter } from '../engine/filter.js';
import { matches } from '../engine/match.js';
import { checkCollectionName } from '../engine/collection.js';
import { isPlainObject, type Doc } from '../engine/values.js';
import type { ControlDb } from '../db/control.js';
import type { EffectiveRule, Guard, RuleAction } from './guard.js';

export const RULE_ACTIONS: RuleAction[] = ['read', 'insert', 'update', 'delete'];
const PLACEHOLDER = /\$\{([^}]*)\}/g;
const VALID_VAR = /^auth\.(uid|role|jwt\.[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*)$/;

export interface AuthContext { uid?: string; role: string; jwt: Record<string, unknown> }

interface Rule { filter?: Doc; fields?: string[]; allow: boolean }

function parseRule(action: string, v: unknown): Rule {
  if (v === undefined || v === false) return { allow: false };
  if (v === true) return { allow: true };
  if (!isPlainObject(v)) throw docErrors.invalidRule(`${action}: a rule is true, false, a filter or {filter, fields}`);
  const keys = Object.keys(v);
  const structured = keys.length > 0 && keys.every((k) => k === 'filter' || k === 'fields');
  if (!structured) return { allow: true, filter: v };
  if (v.fields !== undefined && (!Array.isArray(v.fields) || !v.fields.every((f) => typeof f === 'string' && f && !f.includes('.') && !f.startsWith('$')))) {
    throw docErrors.invalidRule(`${action}.fields must be an array of top-level field names`);
  }
  if (v.fields !== undefined && action !== 'insert' && action !== 'update') throw docErrors.invalidRule(`${action}: fields apply to insert and update only`);
  if (v.filter !== undefined && !isPlainObject(v.filter)) throw docErrors.invalidRule(`${action}.filter must be an object`);
  return { allow: true, filter: v.filter as Doc | undefined, fields: v.fields as string[] | undefined };
}

/** Validates a rule set; returns it normalised (what is stored). */
export function validateRules(body: unknown): Record<RuleAction, unknown> {
  if (!isPlainObject(body)) throw docErrors.invalidRule('rules must be an object {read, insert, update, delete}');
  for (const k of Object.keys(body)) if (!(RULE_ACTIONS as string[]).includes(k)) throw docErrors.invalidRule(`unknown rule "${k}" (read, insert, update, delete)`);
  const sample: AuthContext = { uid: '00000000-0000-0000-0000-000000000000', role: 'authenticated', jwt: new Proxy({}, { get: () => 'x', has: () => true }) };
  const out = {} as Record<RuleAction, unknown>;
  for (const action of RULE_ACTIONS) {
    const rule = parseRule(action, body[action]);
    if (rule.filter) {
      checkPlaceholders(rule.filter);
      try {
        compileFilter(interpolate(rule.filter, sample) as Doc, new SqlParams());
      } catch (e) {
        throw docErrors.invalidRule(`${action}: ${(e as Error).message}`);
      }
    }
    out[action] = body[action] ?? false;
  }
  return out;
}

function checkPlaceholders(v: unknown): void {
  if (typeof v === 'string') {
    for (const m of v.matchAll(PLACEHOLDER)) if (!VALID_VAR.test(m[1])) throw docErrors.invalidRule(`unknown variable \${${m[1]}} (use auth.uid, auth.role or auth.jwt.<claim>)`);
  } else if (Array.isArray(v)) v.forEach(checkPlaceholders);
  else if (isPlainObject(v)) Object.values(v).forEach(checkPlaceholders);
}

const MISSING = Symbol('missing');

function lookupVar(name: string, auth: AuthContext): unknown {
  if (name === 'auth.uid') return auth.uid ?? MISSING;
  if (name === 'auth.role') return auth.role;
  let v: unknown = auth.jwt;
  for (const part of name.slice('auth.jwt.'.length).split('.')) {
    if (!isPlainObject(v) && typeof v !== 'object') return MISSING;
    v = (v as Record<string, unknown>)?.[part];
    if (v === undefined) return MISSING;
  }
  return v;
}

/** Fills ${auth.*} in; returns MISSING when the caller lacks a value the rule needs. */
function interpolate(v: unknown, auth: AuthContext): unknown {
  if (typeof v === 'string') {
    const whole = /^\$\{([^}]*)\}$/.exec(v);
    if (whole) return lookupVar(whole[1], auth);
    let missing = false;
    const s = v.replace(PLACEHOLDER, (_, name: string) => {
      const x = lookupVar(name, auth);
      if (x === MISSING) missing = true;
      return typeof x === 'string' ? x : JSON.stringify(x);
    });
    return missing ? MISSING : s;
  }
  if (Array.isArray(v)) {
    const out = v.map((x) => interpolate(x, auth));
    return out.includes(MISSING) ? MISSING : out;
  }
  if (isPlainObject(v)) {
    const out: Doc = {};
    for (const [k, x] of Object.entries(v)) {
      const y = interpolate(x, auth);
      if (y === MISSING) return MISSING;
      out[k] = y;
    }
    return out;
  }
  return v;
}

export function effectiveRule(stored: unknown, action: RuleAction, auth: AuthContext): EffectiveRule {
  if (!isPlainObject(stored)) return { allow: false };
  const rule = parseRule(action, stored[action]);
  if (!rule.allow || !rule.filter) return rule;
  const filter = interpolate(rule.filter, auth);
  if (filter === MISSING) return { allow: false };
  return { allow: true, filter: filter as Doc, fields: rule.fields };
}

/**
 * Rules read from the control database, cached briefly per process. A save or delete drops this process's copy and
 * tells the other replicas (onChange), so a tightened rule holds everywhere at once, not after the cache's 5 s.
 */
export class RuleBook {
  readonly #cache = new LRUCache<string, { rules: unknown }>({ max: 10_000, ttl: 5_000 });
  constructor(private readonly db: ControlDb, private readonly onChange: (ref: string, collection: string) => void = () => undefined) {}

  /** drops the cached rules of a collection (saved here, or on another replica) */
  forget(ref: string, collection: string): void {
    this.#cache.delete(`${ref}\0${collection}`);
  }

  async get(ref: string, collection: string): Promise<unknown> {
    const key = `${ref}\0${collection}`;
    const hit = this.#cache.get(key);
    if (hit) return hit.rules;
    const rules = await this.db.getRules(ref, collection);
    this.#cache.set(key, { rules });
    return rules;
  }

  async put(ref: string, collection: string, body: unknown) {
    checkCollectionName(collection);
    const rules = validateRules(body);
    await this.db.putRules(ref, collection, rules);
    this.forget(ref, collection);
    this.onChange(ref, collection);
    return { collection, ...rules };
  }

  async remove(ref: string, collection: string) {
    const gone = await this.db.deleteRules(ref, collection);
    this.forget(ref, collection);
    this.onChange(ref, collection);
    return gone;
  }

  /**
   * What the saved rules give a sample caller: allowed or not, the filter they would see, and whether a sample
   * document (an insert or an update's result) passes the write rule and its field list.
   */
  async test(ref: string, collection: string, body: unknown) {
    if (!isPlainObject(body) || !RULE_ACTIONS.includes(body.action as RuleAction)) throw docErrors.invalidRule('test needs {action: read|insert|update|delete, auth?: {uid, role, jwt}, document?}');
    const a = isPlainObject(body.auth) ? body.auth : {};
    const auth: AuthContext = {
      uid: typeof a.uid === 'string' ? a.uid : undefined, role: typeof a.role === 'string' ? a.role : a.uid ? 'authenticated' : 'anon',
      jwt: { ...(isPlainObject(a.jwt) ? a.jwt : {}), ...(typeof a.uid === 'string' ? { sub: a.uid } : {}) },
    };
    const stored = await this.get(ref, collection);
    const rule = auth.role === 'service_role' ? { allow: true } as EffectiveRule : effectiveRule(stored, body.action as RuleAction, auth);
    const out: Record<string, unknown> = { allowed: rule.allow, ...(rule.filter ? { filter: rule.filter } : {}), ...(rule.fields ? { fields: rule.fields } : {}) };
    if (rule.allow && isPlainObject(body.document)) {
      const doc = EJSON.deserialize(body.document, { relaxed: false }) as Doc;
      const badField = rule.fields ? Object.keys(doc).find((k) => k !== '_id' && !rule.fields!.includes(k)) : undefined;
      const passes = !badField && (!rule.filter || matches(doc, rule.filter));
      Object.assign(out, { document_allowed: passes, ...(badField ? { refused_field: badField } : {}) });
    }
    return out;
  }

  guard(ref: string, auth: AuthContext): Guard {
    return { bypass: false, rule: async (collection, action) => effectiveRule(await this.get(ref, collection), action, auth) };
  }
}
