// /storage/v1/vector: the vector bucket API as storage-js's `supabase.storage.vectors` calls it, one POST per
// operation (S3 Vectors' operation names), JSON in and out, for the service role only.
import { z } from 'zod';
import { defineRoute } from '@basalt/http';
import type { Project } from '@basalt/tenancy';
import type { VectorDomain } from '../domain/vectors.js';

export interface VectorRouteDeps {
  vectors: (project: Project) => VectorDomain;
}

const Bucket = z.object({ vectorBucketName: z.string() });
const Index = Bucket.extend({ indexName: z.string() });
const Page = { maxResults: z.number().int().optional(), nextToken: z.string().optional() };
const Floats = z.object({ float32: z.array(z.number()).min(1) });
const Metadata = z.record(z.string(), z.unknown());

const schemas = {
  CreateVectorBucket: Bucket,
  GetVectorBucket: Bucket,
  DeleteVectorBucket: Bucket,
  ListVectorBuckets: z.object({ prefix: z.string().optional(), ...Page }).nullish().transform((b) => b ?? {}),
  CreateIndex: Index.extend({
    dataType: z.literal('float32'),
    dimension: z.number().int().min(1).max(4096),
    distanceMetric: z.enum(['cosine', 'euclidean']),
    metadataConfiguration: z.object({ nonFilterableMetadataKeys: z.array(z.string().min(1).max(63)).min(1).max(10) }).optional(),
  }),
  GetIndex: Index,
  DeleteIndex: Index,
  ListIndexes: Bucket.extend({ prefix: z.string().optional(), ...Page }),
  PutVectors: Index.extend({ vectors: z.array(z.object({ key: z.string(), data: Floats, metadata: Metadata.optional() })) }),
  GetVectors: Index.extend({ keys: z.array(z.string()), returnData: z.boolean().optional(), returnMetadata: z.boolean().optional() }),
  DeleteVectors: Index.extend({ keys: z.array(z.string()) }),
  ListVectors: Index.extend({
    ...Page, returnData: z.boolean().optional(), returnMetadata: z.boolean().optional(),
    segmentCount: z.number().int().optional(), segmentIndex: z.number().int().optional(),
  }),
  QueryVectors: Index.extend({
    queryVector: Floats, topK: z.number().int(), filter: Metadata.optional(),
    returnDistance: z.boolean().optional(), returnMetadata: z.boolean().optional(),
  }),
};

/** what an operation that returns nothing answers: an empty JSON object, as storage-js reads `data || {}` */
const done = async (work: Promise<void>) => (await work, {});

export const vectorRoutes = ({ vectors: of }: VectorRouteDeps) => [
  defineRoute({ method: 'POST', url: '/CreateVectorBucket', schema: { body: schemas.CreateVectorBucket }, handler: (req) => done(of(req.storage.project).createBucket(req.body.vectorBucketName)) }),
  defineRoute({ method: 'POST', url: '/GetVectorBucket', schema: { body: schemas.GetVectorBucket }, handler: (req) => of(req.storage.project).getBucket(req.body.vectorBucketName) }),
  defineRoute({ method: 'POST', url: '/ListVectorBuckets', schema: { body: schemas.ListVectorBuckets }, handler: (req) => of(req.storage.project).listBuckets(req.body) }),
  defineRoute({ method: 'POST', url: '/DeleteVectorBucket', schema: { body: schemas.DeleteVectorBucket }, handler: (req) => done(of(req.storage.project).deleteBucket(req.body.vectorBucketName)) }),
  defineRoute({ method: 'POST', url: '/CreateIndex', schema: { body: schemas.CreateIndex }, handler: (req) => done(of(req.storage.project).createIndex(req.body)) }),
  defineRoute({ method: 'POST', url: '/GetIndex', schema: { body: schemas.GetIndex }, handler: (req) => of(req.storage.project).getIndex(req.body.vectorBucketName, req.body.indexName) }),
  defineRoute({ method: 'POST', url: '/ListIndexes', schema: { body: schemas.ListIndexes }, handler: (req) => of(req.storage.project).listIndexes(req.body) }),
  defineRoute({ method: 'POST', url: '/DeleteIndex', schema: { body: schemas.DeleteIndex }, handler: (req) => done(of(req.storage.project).deleteIndex(req.body.vectorBucketName, req.body.indexName)) }),
  // 500 vectors of 4,096 dimensions written as JSON numbers
  defineRoute({ method: 'POST', url: '/PutVectors', bodyLimit: 48 * 1024 * 1024, schema: { body: schemas.PutVectors }, handler: (req) => done(of(req.storage.project).putVectors(req.body)) }),
  defineRoute({ method: 'POST', url: '/GetVectors', schema: { body: schemas.GetVectors }, handler: (req) => of(req.storage.project).getVectors(req.body) }),
  defineRoute({ method: 'POST', url: '/DeleteVectors', schema: { body: schemas.DeleteVectors }, handler: (req) => done(of(req.storage.project).deleteVectors(req.body)) }),
  defineRoute({ method: 'POST', url: '/ListVectors', schema: { body: schemas.ListVectors }, handler: (req) => of(req.storage.project).listVectors(req.body) }),
  defineRoute({ method: 'POST', url: '/QueryVectors', schema: { body: schemas.QueryVectors }, handler: (req) => of(req.storage.project).queryVectors(req.body) }),
];
