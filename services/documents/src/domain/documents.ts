// The document actions shared by the HTTP API and the wire protocol: each validates its arguments, applies the
// caller's rules (read filters merged into queries, write filters checked on the stored result, field
// allow-lists) and runs on one transaction of the project's database.
import { EJSON } from 'bson';
import { docErrors } from '../errors.js';
import { aggregate, checkPipeline } from '../engine/aggregate.js';
import { Collection, listCollections, type Client, type CollectionMeta } from '../engine/collection.js';
import { compareValues, ValueSet } from '../engine/compare.js';
import { createIndex, describeIndexes, dropIndex } from '../engine/indexes.js';
import { pathValues } from '../engine/match.js';
import { parseProjection, project } from '../engine/projection.js';
import { parsePath } from '../engine/sql.js';
import { parseSort } from '../engine/sort.js';
import { checkUpdate, updatedFields } from '../engine/update.js';
import { asNumber, checkFieldNames, isPlainObject, loadDoc, relaxedJson, type Doc } from '../engine/values.js';
import type { EffectiveRule, Guard, RuleAction } from './guard.js';

export interface Limits { maxPage: number; maxScan: number }

export interface ActionBody {
  collection?: unknown; filter?: unknown; projection?: unknown; sort?: unknown; limit?: unknown; skip?: unknown;
  document?: unknown; documents?: unknown; update?: unknown; replacement?: unknown; upsert?: unknown; pipeline?: unknown; key?: unknown;
  index?: unknown; name?: unknown;
}

const objectOr = (v: unknown, what: string): Doc | undefined => {
  if (v === undefined || v === null) return undefined;
  if (!isPlainObject(v)) throw docErrors.typeMismatch(`${what} must be an object`);
  return v;
};

const intArg = (v: unknown, what: string): number => {
  if (v === undefined || v === null) return 0;
  const n = asNumber(v);
  if (n === undefined || !Number.isInteger(n) || n < 0) throw docErrors.badValue(`${what} must be a nonnegative integer`);
  return n;
};

const and = (a: Doc | undefined, b: Doc | undefined): Doc | undefined => {
  if (!b) return a;
  return a && Object.keys(a).length ? { $and: [a, b] } : b;
};

export interface MetaSource { get: (collection: string) => CollectionMeta | undefined; set: (collection: string, m: CollectionMeta) => void }

export class Documents {
  /** told when a TTL index is created, so the sweeper visits this project */
  onTtlIndex?: () => Promise<void>;
  readonly #opened: Collection[] = [];

  constructor(private readonly tx: Client, private readonly guard: Guard, private readonly limits: Limits, private readonly meta?: MetaSource) {}

  async collection(name: unknown, fresh = false): Promise<Collection> {
    const c = new Collection(this.tx, name as string);
    const hit = fresh ? undefined : this.meta?.get(c.name);
    if (hit) c.useSnapshot(hit);
    else {
      await c.load();
      this.meta?.set(c.name, c.snapshot());
    }
    this.#opened.push(c);
    return c;
  }

  /** names of the collections whose catalogue changed in this call */
  changedCollections(): string[] {
    if (!this.#opened.some((c) => c.metaChanged)) return [];
    return [...new Set(this.#opened.filter((c) => c.metaChanged).map((c) => c.name))];
  }

  async allowed(collection: string, action: RuleAction): Promise<EffectiveRule> {
    if (this.guard.bypass) return { allow: true };
    const r = await this.guard.rule(collection, action);
    if (!r.allow) throw docErrors.denied(action, collection);
    return r;
  }

  async readFilter(collection: string, filter: Doc | undefined): Promise<Doc | undefined> {
    if (this.guard.bypass) return filter; // what allowed() gives it: no rule filter
    return and(filter, (await this.allowed(collection, 'read')).filter);
  }

  async find(b: ActionBody, one = false): Promise<Doc[]> {
    const { rows, projection } = await this.#findRows(b, one);
    return rows.map((r) => project(loadDoc(r), projection));
  }

  /** find, each document as relaxed Extended JSON text (the Data API's default answer) */
  async findRelaxed(b: ActionBody, one = false): Promise<string[]> {
    const { rows, projection } = await this.#findRows(b, one);
    return rows.map((r) => (projection ? EJSON.stringify(project(loadDoc(r), projection), { relaxed: true }) : relaxedJson(r)));
  }

  async #findRows(b: ActionBody, one: boolean) {
    const coll = await this.collection(b.collection);
    const filter = await this.readFilter(coll.name, objectOr(b.filter, 'filter'));
    const projection = parseProjection(b.projection);
    const sort = parseSort(b.sort);
    let limit = one ? 1 : intArg(b.limit, 'limit');
    if (limit > this.limits.maxPage) throw docErrors.pageTooLarge(limit, this.limits.maxPage);
    if (limit === 0) limit = this.limits.maxPage;
    return { rows: await coll.findRows({ filter, sort, skip: intArg(b.skip, 'skip'), limit }), projection };
  }

  /** find for wire cursors: no page size, but never more than maxScan documents held for one cursor */
  async findAll(b: ActionBody): Promise<Doc[]> {
    const coll = await this.collection(b.collection);
    const filter = await this.readFilter(coll.name, objectOr(b.filter, 'filter'));
    const projection = parseProjection(b.projection);
    const limit = intArg(b.limit, 'limit');
    const docs = await coll.find({ filter, sort: parseSort(b.sort), skip: intArg(b.skip, 'skip'), limit: limit && limit <= this.limits.maxScan ? limit : this.limits.maxScan + 1 });
    if (docs.length > this.limits.maxScan) throw docErrors.badValue(`find would return more than ${this.limits.maxScan} documents; add a filter or a limit`);
    return docs.map((d) => project(d, projection));
  }

  async count(b: ActionBody): Promise<number> {
    const coll = await this.collection(b.collection);
    const filter = await this.readFilter(coll.name, objectOr(b.filter, 'filter'));
    return coll.count(filter, intArg(b.skip, 'skip'), intArg(b.limit, 'limit'));
  }

  async distinct(b: ActionBody): Promise<unknown[]> {
    if (typeof b.key !== 'string') throw docErrors.typeMismatch('distinct needs a string key');
    const path = parsePath(b.key);
    const coll = await this.collection(b.collection);
    const filter = await this.readFilter(coll.name, objectOr(b.filter, 'filter'));
    const docs = await coll.find({ filter, limit: this.limits.maxScan + 1 });
    if (docs.length > this.limits.maxScan) throw docErrors.badValue(`distinct would scan more than ${this.limits.maxScan} documents; narrow the filter`);
    const out = new ValueSet();
    for (const d of docs) for (const v of pathValues(d, path).flatMap((x) => (Array.isArray(x) ? x : [x]))) out.add(v);
    return out.values().sort(compareValues);
  }

  async aggregate(b: ActionBody): Promise<Doc[]> {
    const coll = await this.collection(b.collection);
    const pipeline = checkPipeline(b.pipeline);
    const rf = await this.readFilter(coll.name, undefined);
    const stages = rf ? [{ $match: rf }, ...pipeline] : pipeline;
    return aggregate(coll, stages, {
      maxScan: this.limits.maxScan,
      lookup: async (from, filter) => {
        const other = await this.collection(from);
        return other.find({ filter: await this.readFilter(other.name, filter), limit: this.limits.maxScan });
      },
    });
  }

  async insert(b: ActionBody, many: boolean): Promise<unknown[]> {
    const docs = many ? b.documents : [b.document];
    if (!Array.isArray(docs) || docs.length === 0 || !docs.every(isPlainObject)) {
      throw docErrors.typeMismatch(many ? 'documents must be a nonempty array of objects' : 'document must be an object');
    }
    // a document with an array may turn an index multikey: that needs the catalogue as it is now, not cached
    const coll = await this.collection(b.collection, docs.some((d) => hasArray(d)));
    const rule = await this.allowed(coll.name, 'insert');
    for (const d of docs) {
      checkFieldNames(d);
      checkFields(rule, Object.keys(d).filter((k) => k !== '_id'), 'insert');
    }
    const ids = await coll.insert(docs as Doc[]);
    if (rule.filter && (await coll.countIds(ids, rule.filter)) !== ids.length) throw docErrors.ruleRefused('insert', coll.name);
    return ids;
  }

  async update(b: ActionBody, mode: 'one' | 'many' | 'replace') {
    const coll = await this.collection(b.collection);
    const filter = objectOr(b.filter, 'filter') ?? {};
    let update: Doc | undefined;
    let replacement: Doc | undefined;
    if (mode === 'replace') {
      replacement = objectOr(b.replacement, 'replacement');
      if (!replacement) throw docErrors.typeMismatch('replaceOne needs a replacement document');
      if (Object.keys(replacement).some((k) => k.startsWith('$'))) throw docErrors.badValue('the replacement document must not contain update operators');
      checkFieldNames(replacement);
    } else update = checkUpdate(b.update);
    const upsert = b.upsert === true;
    const written = replacement ? Object.keys(replacement).filter((k) => k !== '_id') : updatedFields(update!);
    const rule = await this.allowed(coll.name, 'update');
    checkFields(rule, written, 'update');
    const insertRule = upsert ? await this.allowed(coll.name, 'insert') : undefined;
    if (insertRule) checkFields(insertRule, written, 'insert');
    return coll.update(and(filter, rule.filter) ?? {}, { update, replacement }, mode === 'many', upsert, async (docs, inserted) => {
      // an updated document must still satisfy the update rule; an upserted one the insert rule too
      const filters = [rule.filter, inserted ? insertRule?.filter : undefined].filter((f): f is Doc => !!f);
      const ids = docs.map((d) => d._id);
      for (const f of filters) if ((await coll.countIds(ids, f)) !== ids.length) throw docErrors.ruleRefused(inserted ? 'insert' : 'update', coll.name);
    });
  }

  async delete(b: ActionBody, many: boolean): Promise<number> {
    const coll = await this.collection(b.collection);
    const filter = objectOr(b.filter, 'filter') ?? {};
    const rule = await this.allowed(coll.name, 'delete');
    return coll.delete(and(filter, rule.filter) ?? {}, many);
  }

  // collection and index management: service role only
  private admin(action: string) {
    if (!this.guard.bypass) throw docErrors.serviceRoleOnly(action);
  }

  async createIndex(b: ActionBody): Promise<string> {
    this.admin('createIndex');
    const coll = await this.collection(b.collection);
    const spec = objectOr(b.index, 'index');
    if (!spec) throw docErrors.badValue('createIndex needs index: {key, name?, unique?, expireAfterSeconds?}');
    if (await createIndex(coll, spec) && spec.expireAfterSeconds !== undefined) await this.onTtlIndex?.();
    return (spec.name as string) ?? Object.entries(spec.key as Doc).map(([k, d]) => `${k}_${d}`).join('_');
  }

  async dropIndex(b: ActionBody): Promise<void> {
    this.admin('dropIndex');
    if (typeof b.name !== 'string') throw docErrors.badValue('dropIndex needs a name');
    await dropIndex(await this.collection(b.collection), b.name);
  }

  async listIndexes(b: ActionBody): Promise<Doc[]> {
    this.admin('listIndexes');
    const coll = await this.collection(b.collection);
    if (!coll.exists) throw docErrors.namespaceNotFound(coll.name);
    return describeIndexes(coll);
  }

  async listCollections(): Promise<string[]> {
    this.admin('listCollections');
    return listCollections(this.tx);
  }

  async dropCollection(b: ActionBody): Promise<boolean> {
    this.admin('dropCollection');
    return (await this.collection(b.collection)).drop();
  }
}

function hasArray(v: unknown): boolean {
  if (Array.isArray(v)) return true;
  return isPlainObject(v) && Object.values(v).some(hasArray);
}

function checkFields(rule: EffectiveRule, fields: string[], action: string): void {
  if (!rule.fields) return;
  for (const f of fields) if (!rule.fields.includes(f)) throw docErrors.fieldRefused(action, f);
}
