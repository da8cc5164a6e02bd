// POST /mongo/v1/action/:action — the Data API's actions (find, findOne, insertOne, insertMany, updateOne,
// updateMany, replaceOne, deleteOne, deleteMany, aggregate, countDocuments, distinct) plus collection and index
// management for the service role (createIndex, dropIndex, listIndexes, listCollections, dropCollection).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RunMode } from '../app.js';
import type { ActionBody, Documents } from '../domain/documents.js';
import { docErrors } from '../errors.js';
import { parseEjson, RelaxedJson, sendEjson, wantsCanonical } from './ejson.js';

type Run = <T>(req: FastifyRequest, fn: (docs: Documents) => Promise<T>, mode: RunMode) => Promise<T>;

const READS = new Set(['find', 'findOne', 'aggregate', 'countDocuments', 'distinct', 'listIndexes', 'listCollections']);
const SINGLE = new Set(['insertOne', 'insertMany']);
const modeOf = (action: string): RunMode => (READS.has(action) ? 'read' : SINGLE.has(action) ? 'single' : 'tx');

/** canonical: the client asked for canonical Extended JSON; else answers may come rendered already (RelaxedJson) */
const ACTIONS: Record<string, (d: Documents, b: ActionBody, canonical: boolean) => Promise<unknown>> = {
  find: async (d, b, canonical) => (canonical ? { documents: await d.find(b) } : new RelaxedJson(`{"documents":[${(await d.findRelaxed(b)).join(',')}]}`)),
  findOne: async (d, b, canonical) => (canonical ? { document: (await d.find(b, true))[0] ?? null } : new RelaxedJson(`{"document":${(await d.findRelaxed(b, true))[0] ?? 'null'}}`)),
  insertOne: async (d, b) => ({ insertedId: (await d.insert(b, false))[0] }),
  insertMany: async (d, b) => ({ insertedIds: await d.insert(b, true) }),
  updateOne: async (d, b) => updated(await d.update(b, 'one')),
  updateMany: async (d, b) => updated(await d.update(b, 'many')),
  replaceOne: async (d, b) => updated(await d.update(b, 'replace')),
  deleteOne: async (d, b) => ({ deletedCount: await d.delete(b, false) }),
  deleteMany: async (d, b) => ({ deletedCount: await d.delete(b, true) }),
  aggregate: async (d, b) => ({ documents: await d.aggregate(b) }),
  countDocuments: async (d, b) => ({ count: await d.count(b) }),
  distinct: async (d, b) => ({ values: await d.distinct(b) }),
  createIndex: async (d, b) => ({ name: await d.createIndex(b) }),
  dropIndex: async (d, b) => ({ dropped: (await d.dropIndex(b), true) }),
  listIndexes: async (d, b) => ({ indexes: await d.listIndexes(b) }),
  listCollections: async (d) => ({ collections: (await d.listCollections()).map((name) => ({ name, type: 'collection' })) }),
  dropCollection: async (d, b) => ({ dropped: await d.dropCollection(b) }),
};

const updated = (r: { matched: number; modified: number; upsertedId?: unknown }) =>
  ({ matchedCount: r.matched, modifiedCount: r.modified, ...(r.upsertedId !== undefined ? { upsertedId: r.upsertedId } : {}) });

export function actionHandler(run: Run) {
  return async (req: FastifyRequest<{ Params: { action: string } }>, reply: FastifyReply) => {
    const action = ACTIONS[req.params.action];
    if (!action) throw docErrors.unknownAction(req.params.action);
    const body = parseEjson(req.body) as ActionBody;
    if (typeof body.collection !== 'string' && req.params.action !== 'listCollections') throw docErrors.validation('collection is required');
    const canonical = wantsCanonical(req);
    return sendEjson(req, reply, await run(req, (docs) => action(docs, body, canonical), modeOf(req.params.action)), canonical);
  };
}
