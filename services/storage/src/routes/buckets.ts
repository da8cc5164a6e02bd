// /storage/v1/bucket: bucket CRUD as storage-js calls it, run as the caller.
import { z } from 'zod';
import { defineRoute } from '@basalt/http';
import type { Project } from '@basalt/tenancy';
import { bucketJson, clientBefore, type bucketDomain } from '../domain/buckets.js';
import type { ObjectDomain } from '../domain/objects.js';
import { JsonObject } from './objects.js';

export interface BucketRouteDeps {
  buckets: (project: Project) => ReturnType<typeof bucketDomain>;
  objects: (project: Project) => ObjectDomain;
}

const BucketId = z.object({ id: z.string() });
/** limit, offset, sortColumn, sortOrder, search: read leniently by the domain, as Supabase does */
const ListQuery = z.record(z.string(), z.unknown());

export const bucketRoutes = ({ buckets, objects }: BucketRouteDeps) => [
  defineRoute({
    method: 'GET', url: '/bucket', schema: { querystring: ListQuery },
    handler: async (req) => {
      // storage-py before 0.12.1 (supabase-py before 2.18.0) fails on a bucket's type, so Storage leaves it out for them
      const hdr = (name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string) : undefined);
      const type = !clientBefore('supabase-py', hdr('x-client-info'), '2.18.0') && !clientBefore('storage3', hdr('user-agent'), '0.12.1');
      return (await buckets(req.storage.project).list(req.storage.caller, req.query)).map((b) => bucketJson(b, { type }));
    },
  }),
  defineRoute({
    method: 'GET', url: '/bucket/:id', schema: { params: BucketId },
    handler: async (req) => bucketJson(await buckets(req.storage.project).get(req.storage.caller, req.params.id), { type: false }),
  }),
  defineRoute({
    method: 'POST', url: '/bucket', schema: { body: JsonObject },
    handler: (req) => buckets(req.storage.project).create(req.storage.caller, req.body),
  }),
  defineRoute({
    method: 'PUT', url: '/bucket/:id', schema: { params: BucketId, body: JsonObject },
    handler: async (req) => {
      await buckets(req.storage.project).update(req.storage.caller, req.params.id, req.body);
      return { message: 'Successfully updated' };
    },
  }),
  defineRoute({
    method: 'POST', url: '/bucket/:id/empty', schema: { params: BucketId },
    handler: async (req) => {
      const versions = await buckets(req.storage.project).empty(req.storage.caller, req.params.id);
      await objects(req.storage.project).dropVersions(versions);
      return { message: 'Successfully emptied' };
    },
  }),
  defineRoute({
    method: 'DELETE', url: '/bucket/:id', schema: { params: BucketId },
    handler: async (req) => {
      await buckets(req.storage.project).remove(req.storage.caller, req.params.id);
      return { message: 'Successfully deleted' };
    },
  }),
];
