// The document database in MongoDB's query language over the Data API's actions (POST /mongo/v1/action/{action}):
// collection(name).find(filter, {projection, sort, limit, skip}), insertOne, updateMany, aggregate, … with the
// Data API's answer fields (documents, insertedId, matchedCount, …). Values travel as relaxed EJSON: ObjectIds
// as {$oid}, dates as {$date}. Calls run under the collection's access rules for the caller's token.
import { call, type Http } from './http.js';

export type Filter = Record<string, unknown>;
export type Doc = Record<string, unknown>;

export interface FindOptions {
  projection?: Record<string, 0 | 1 | boolean>;
  sort?: Record<string, 1 | -1>;
  limit?: number;
  skip?: number;
}

export function documentsClient(h: Http) {
  const action = <T>(name: string, body: Record<string, unknown>) => call<T>(h, 'POST', `/mongo/v1/action/${name}`, body);
  const collection = <T extends Doc = Doc>(name: string) => ({
    find: (filter: Filter = {}, o: FindOptions = {}) => action<{ documents: T[] }>('find', { collection: name, filter, ...o }).then((r) => r.documents),
    findOne: (filter: Filter = {}, o: Pick<FindOptions, 'projection' | 'sort'> = {}) =>
      action<{ document: T | null }>('findOne', { collection: name, filter, ...o }).then((r) => r.document),
    insertOne: (document: T) => action<{ insertedId: unknown }>('insertOne', { collection: name, document }),
    insertMany: (documents: T[]) => action<{ insertedIds: unknown[] }>('insertMany', { collection: name, documents }),
    updateOne: (filter: Filter, update: Doc, o: { upsert?: boolean } = {}) =>
      action<{ matchedCount: number; modifiedCount: number; upsertedId?: unknown }>('updateOne', { collection: name, filter, update, ...o }),
    updateMany: (filter: Filter, update: Doc, o: { upsert?: boolean } = {}) =>
      action<{ matchedCount: number; modifiedCount: number; upsertedId?: unknown }>('updateMany', { collection: name, filter, update, ...o }),
    replaceOne: (filter: Filter, replacement: T, o: { upsert?: boolean } = {}) =>
      action<{ matchedCount: number; modifiedCount: number; upsertedId?: unknown }>('replaceOne', { collection: name, filter, replacement, ...o }),
    deleteOne: (filter: Filter) => action<{ deletedCount: number }>('deleteOne', { collection: name, filter }),
    deleteMany: (filter: Filter) => action<{ deletedCount: number }>('deleteMany', { collection: name, filter }),
    aggregate: <R = Doc>(pipeline: Doc[]) => action<{ documents: R[] }>('aggregate', { collection: name, pipeline }).then((r) => r.documents),
    countDocuments: (filter: Filter = {}) => action<{ count: number }>('countDocuments', { collection: name, filter }).then((r) => r.count),
    distinct: (key: string, filter: Filter = {}) => action<{ values: unknown[] }>('distinct', { collection: name, key, filter }).then((r) => r.values),
  });
  return { collection };
}

export type DocumentsClient = ReturnType<typeof documentsClient>;
