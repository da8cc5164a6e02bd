// The commands the mongodb driver, Mongoose and mongosh send once authenticated, mapped onto the same
// document actions as the HTTP API (service role: a wire credential is the project's server-side login).
import { Long } from 'bson';
import { BasaltError } from '@basalt/errors';
import type { RunMode } from '../app.js';
import type { Documents } from '../domain/documents.js';
import { docErrors, mongoCodeOf } from '../errors.js';
import { checkCollectionName, listCollections } from '../engine/collection.js';
import { createIndex, describeIndexes, dropIndex } from '../engine/indexes.js';
import { matches } from '../engine/match.js';
import { parseProjection, project } from '../engine/projection.js';
import { isPlainObject, type Doc } from '../engine/values.js';
import type { Cursors } from './cursors.js';

export interface Session { username: string; ref: string; role: string; claims: Record<string, unknown> }

/** what a rules-bound login may run: the document actions, which apply its rules; not the catalogue commands */
export const USER_COMMANDS = new Set(['find', 'getMore', 'killCursors', 'aggregate', 'count', 'distinct', 'insert', 'update', 'delete', 'findAndModify', 'endSessions', 'killAllSessions', 'connectionStatus', 'listDatabases']);
export type InProject = <T>(fn: (d: Documents) => Promise<T>, mode?: RunMode) => Promise<T>;
type Cmd = Record<string, any>;
type Handler = (cmd: Cmd, s: Session, run: InProject, cursors: Cursors) => Promise<Doc>;

const num = (v: unknown): number | undefined => (v === undefined || v === null ? undefined : Number(v instanceof Long ? v.toNumber() : v));
const collOf = (cmd: Cmd, name: string) => {
  const c = cmd[name];
  if (typeof c !== 'string') throw docErrors.invalidNamespace(`collection name has invalid type ${typeof c}`);
  return checkCollectionName(c);
};

/** MongoDB's name of a value's BSON type, for TypeMismatch messages */
const bsonType = (v: unknown) => (Array.isArray(v) ? 'array' : v === null ? 'null' : v instanceof Long ? 'long' : typeof v === 'number' ? (Number.isInteger(v) ? 'int' : 'double') : typeof v);
const wrongType = (field: string, v: unknown, expected: string) =>
  docErrors.typeMismatch(`BSON field '${field}' is the wrong type '${bsonType(v)}', expected type '${expected}'`);

const missingField = (field: string) => new BasaltError(400, 'IDLFailedToParse', `BSON field '${field}' is missing but a required field`, { details: { code: 40414, codeName: 'Location40414' } });

/** the statements of a write (updates, deletes): an array of documents, as MongoDB's parser insists, before any runs */
function statements(cmd: Cmd, name: string, field: string): Cmd[] {
  const list: unknown = cmd[field] ?? [];
  if (!Array.isArray(list)) throw wrongType(`${name}.${field}`, list, 'array');
  list.forEach((st, i) => {
    if (!isPlainObject(st)) throw wrongType(`${name}.${field}.${i}`, st, 'object');
    if (!isPlainObject(st.q)) throw st.q === undefined ? missingField(`${name}.${field}.q`) : wrongType(`${name}.${field}.q`, st.q, 'object');
  });
  return list as Cmd[];
}

/** a cursor id as the driver sends it (int64; small ones may arrive as int32) */
function cursorId(v: unknown, field: string): bigint {
  if (v instanceof Long) return v.toBigInt();
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  throw wrongType(field, v, 'long');
}

function cursorReply(kind: 'firstBatch' | 'nextBatch', ns: string, batch: Doc[], id: bigint): Doc {
  return { cursor: { [kind]: batch, id: Long.fromBigInt(id), ns }, ok: 1 };
}

/** a write error entry ({index, code, errmsg}) from a failed statement */
function writeError(index: number, e: unknown): Doc {
  if (!(e instanceof BasaltError)) throw e;
  const { code } = mongoCodeOf(e);
  return { index, code, errmsg: e.message };
}

async function writeEach<T>(items: T[], ordered: boolean, fn: (item: T, i: number) => Promise<void>): Promise<Doc[]> {
  const errors: Doc[] = [];
  for (let i = 0; i < items.length; i++) {
    try {
      await fn(items[i], i);
    } catch (e) {
      errors.push(writeError(i, e));
      if (ordered) break;
    }
  }
  return errors;
}

export const COMMANDS: Record<string, Handler> = {
  async find(cmd, s, run, cursors) {
    const collection = collOf(cmd, 'find');
    const limit = num(cmd.limit);
    const docs = await run((d) => d.findAll({ collection, filter: cmd.filter, sort: cmd.sort, projection: cmd.projection, skip: num(cmd.skip), limit: limit && Math.abs(limit) }), 'read');
    const { batch, id } = cursors.open(s.username, `${cmd.$db}.${collection}`, docs, num(cmd.batchSize), cmd.singleBatch === true || (limit ?? 0) < 0);
    return cursorReply('firstBatch', `${cmd.$db}.${collection}`, batch, id);
  },
  async getMore(cmd, s, _run, cursors) {
    const id = cursorId(cmd.getMore, 'getMore.getMore');
    const r = cursors.next(s.username, id, num(cmd.batchSize));
    if (!r) throw new BasaltError(404, 'CursorNotFound', `cursor id ${id} not found`, { details: { code: 43, codeName: 'CursorNotFound' } });
    return cursorReply('nextBatch', r.ns, r.batch, r.id);
  },
  async killCursors(cmd, s, _run, cursors) {
    if (!Array.isArray(cmd.cursors)) throw cmd.cursors === undefined ? missingField('killCursors.cursors') : wrongType('killCursors.cursors', cmd.cursors, 'array');
    const ids = cmd.cursors.map((c: unknown, i: number) => cursorId(c, `killCursors.cursors.${i}`));
    const killed = ids.filter((id) => cursors.kill(s.username, id));
    return { cursorsKilled: killed.map((id) => Long.fromBigInt(id)), cursorsNotFound: ids.filter((id) => !killed.includes(id)).map((id) => Long.fromBigInt(id)), cursorsAlive: [], cursorsUnknown: [], ok: 1 };
  },
  async aggregate(cmd, s, run, cursors) {
    if (typeof cmd.aggregate !== 'string') throw docErrors.unsupported('a database-level aggregate');
    const collection = collOf(cmd, 'aggregate');
    const docs = await run((d) => d.aggregate({ collection, pipeline: cmd.pipeline }), 'read');
    const { batch, id } = cursors.open(s.username, `${cmd.$db}.${collection}`, docs, num(cmd.cursor?.batchSize), false);
    return cursorReply('firstBatch', `${cmd.$db}.${collection}`, batch, id);
  },
  async count(cmd, _s, run) {
    const collection = collOf(cmd, 'count');
    return { n: await run((d) => d.count({ collection, filter: cmd.query, skip: num(cmd.skip), limit: num(cmd.limit) }), 'read'), ok: 1 };
  },
  async distinct(cmd, _s, run) {
    const collection = collOf(cmd, 'distinct');
    return { values: await run((d) => d.distinct({ collection, key: cmd.key, filter: cmd.query }), 'read'), ok: 1 };
  },
  async insert(cmd, _s, run) {
    const collection = collOf(cmd, 'insert');
    const docs: Doc[] = cmd.documents ?? [];
    if (!Array.isArray(docs) || !docs.length) throw docErrors.badValue('insert needs documents');
    try {
      await run((d) => d.insert({ collection, documents: docs }, true), 'single');
      return { n: docs.length, ok: 1 };
    } catch (e) {
      if (!(e instanceof BasaltError)) throw e;
      // one transaction per document, to report which failed (ordered stops at the first, as MongoDB)
      let n = 0;
      const writeErrors = await writeEach(docs, cmd.ordered !== false, async (doc) => {
        await run((d) => d.insert({ collection, document: doc }, false), 'single');
        n++;
      });
      return { n, writeErrors, ok: 1 };
    }
  },
  async update(cmd, _s, run) {
    const collection = collOf(cmd, 'update');
    let n = 0;
    let nModified = 0;
    const upserted: Doc[] = [];
    const writeErrors = await writeEach(statements(cmd, 'update', 'updates'), cmd.ordered !== false, async (u, index) => {
      const replace = isPlainObject(u.u) && !Object.keys(u.u).some((k) => k.startsWith('$'));
      if (replace && u.multi) throw docErrors.failedToParse('multi update is not supported for replacement-style update');
      const r = await run((d) => d.update({ collection, filter: u.q, update: replace ? undefined : u.u, replacement: replace ? u.u : undefined, upsert: u.upsert === true }, replace ? 'replace' : u.multi ? 'many' : 'one'));
      n += r.matched + (r.upsertedId !== undefined ? 1 : 0);
      nModified += r.modified;
      if (r.upsertedId !== undefined) upserted.push({ index, _id: r.upsertedId });
    });
    return { n, nModified, ...(upserted.length ? { upserted } : {}), ...(writeErrors.length ? { writeErrors } : {}), ok: 1 };
  },
  async delete(cmd, _s, run) {
    const collection = collOf(cmd, 'delete');
    let n = 0;
    const writeErrors = await writeEach(statements(cmd, 'delete', 'deletes'), cmd.ordered !== false, async (del) => {
      n += await run((d) => d.delete({ collection, filter: del.q }, num(del.limit) !== 1));
    });
    return { n, ...(writeErrors.length ? { writeErrors } : {}), ok: 1 };
  },
  async findAndModify(cmd, _s, run) {
    const collection = collOf(cmd, 'findAndModify');
    // through the document actions, so a rules-bound login gets its read, update and delete rules here too
    return run(async (d) => {
      const [found] = await d.find({ collection, filter: cmd.query ?? {}, sort: cmd.sort }, true);
      const shape = (doc: Doc | undefined) => (doc ? project(doc, parseProjection(cmd.fields)) : null);
      if (cmd.remove) {
        if (found) await d.delete({ collection, filter: { _id: found._id } }, false);
        return { lastErrorObject: { n: found ? 1 : 0 }, value: shape(found), ok: 1 };
      }
      const replace = isPlainObject(cmd.update) && !Object.keys(cmd.update).some((k) => k.startsWith('$'));
      const r = await d.update({ collection, filter: found ? { _id: found._id } : cmd.query ?? {}, update: replace ? undefined : cmd.update, replacement: replace ? cmd.update : undefined, upsert: !found && cmd.upsert === true }, replace ? 'replace' : 'one');
      const id = found?._id ?? r.upsertedId;
      const after = cmd.new && id !== undefined ? (await d.find({ collection, filter: { _id: id } }, true))[0] : undefined;
      const upserted = r.upsertedId !== undefined ? { upserted: r.upsertedId } : {};
      return { lastErrorObject: { n: found || r.upsertedId !== undefined ? 1 : 0, updatedExisting: !!found, ...upserted }, value: shape(cmd.new ? after : found), ok: 1 };
    });
  },
  async createIndexes(cmd, _s, run) {
    const collection = collOf(cmd, 'createIndexes');
    if (!Array.isArray(cmd.indexes) || !cmd.indexes.length) throw docErrors.badValue('createIndexes needs indexes');
    return run(async (d) => {
      const coll = await d.collection(collection);
      const created = !coll.exists;
      const before = coll.indexes.length + 1;
      for (const spec of cmd.indexes) if (await createIndex(coll, spec) && spec.expireAfterSeconds !== undefined) await d.onTtlIndex?.();
      return { createdCollectionAutomatically: created, numIndexesBefore: created ? 0 : before, numIndexesAfter: coll.indexes.length + 1, ok: 1 };
    });
  },
  async dropIndexes(cmd, _s, run) {
    const collection = collOf(cmd, 'dropIndexes');
    return run(async (d) => {
      const coll = await d.collection(collection);
      if (!coll.exists) throw docErrors.namespaceNotFound(`${cmd.$db}.${collection}`);
      const was = coll.indexes.length + 1;
      const names = cmd.index === '*' ? coll.indexes.map((i) => i.name) : Array.isArray(cmd.index) ? cmd.index
        : typeof cmd.index === 'string' ? [cmd.index] : coll.indexes.filter((i) => JSON.stringify(Object.fromEntries(i.key)) === JSON.stringify(cmd.index)).map((i) => i.name);
      if (!names.length) throw docErrors.indexNotFound(JSON.stringify(cmd.index));
      for (const n of names) await dropIndex(coll, n);
      return { nIndexesWas: was, ok: 1 };
    });
  },
  async listIndexes(cmd, s, run, cursors) {
    const collection = collOf(cmd, 'listIndexes');
    const docs = await run(async (d) => {
      const coll = await d.collection(collection);
      if (!coll.exists) throw docErrors.namespaceNotFound(`${cmd.$db}.${collection}`);
      return describeIndexes(coll);
    });
    const { batch, id } = cursors.open(s.username, `${cmd.$db}.${collection}`, docs, num(cmd.cursor?.batchSize), false);
    return cursorReply('firstBatch', `${cmd.$db}.${collection}`, batch, id);
  },
  async listCollections(cmd, s, run, cursors) {
    const names = await run((d) => d.listCollections());
    let docs: Doc[] = names.map((name) => (cmd.nameOnly ? { name, type: 'collection' }
      : { name, type: 'collection', options: {}, info: { readOnly: false }, idIndex: { v: 2, key: { _id: 1 }, name: '_id_' } }));
    if (isPlainObject(cmd.filter)) docs = docs.filter((x) => matches(x, cmd.filter));
    const { batch, id } = cursors.open(s.username, `${cmd.$db}.$cmd.listCollections`, docs, num(cmd.cursor?.batchSize), false);
    return cursorReply('firstBatch', `${cmd.$db}.$cmd.listCollections`, batch, id);
  },
  async create(cmd, _s, run) {
    const collection = collOf(cmd, 'create');
    return run(async (d) => {
      const coll = await d.collection(collection);
      if (coll.exists) throw new BasaltError(409, 'NamespaceExists', `Collection ${cmd.$db}.${collection} already exists.`, { details: { code: 48, codeName: 'NamespaceExists' } });
      await coll.create();
      return { ok: 1 };
    });
  },
  async drop(cmd, _s, run) {
    const collection = collOf(cmd, 'drop');
    return run(async (d) => {
      const coll = await d.collection(collection);
      const was = coll.indexes.length + 1;
      if (!(await coll.drop())) throw docErrors.namespaceNotFound(`${cmd.$db}.${collection}`);
      return { ns: `${cmd.$db}.${collection}`, nIndexesWas: was, ok: 1 };
    });
  },
  async dropDatabase(_cmd, _s, run) {
    await run(async (d) => {
      for (const name of await d.listCollections()) await (await d.collection(name)).drop();
    });
    return { ok: 1 };
  },
  async listDatabases(_cmd, s) {
    return { databases: [{ name: s.ref, sizeOnDisk: 0, empty: false }], totalSize: 0, ok: 1 };
  },
  async connectionStatus(_cmd, s) {
    return { authInfo: { authenticatedUsers: [{ user: s.username, db: 'admin' }], authenticatedUserRoles: [{ role: 'readWrite', db: s.ref }] }, ok: 1 };
  },
  async endSessions() { return { ok: 1 }; },
  async killAllSessions() { return { ok: 1 }; },
};

export { listCollections };
