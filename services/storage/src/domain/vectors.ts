// Vector buckets (Supabase Storage's vector API, S3 Vectors' operations) over the portable vector index the memory
// module uses: each vector is kept as float32 bytes and a sign-bit code. A query ranks candidates in Postgres by the
// Hamming distance of the codes, with the metadata filter applied there, and rescores them exactly here (cosine or
// Euclidean distance, as pgvector's <=> and <-> answer), so an index no larger than the candidate window is
// searched exactly. Every statement runs as service_role: the vector API admits the service key alone.
import type pg from 'pg';
import { SqlParams } from '@basalt/db';
import { cosineDistance, euclideanDistance, fromBytes, signCode, toBytes } from '@basalt/vector-index';
import { SERVICE, type Tx } from '../db/tx.js';
import { vectorErrors } from '../errors.js';
import { metadataFilter } from './vector-filter.js';

export const VECTOR_LIMITS = { topK: 100, listResults: 1000, segments: 16, put: 500, get: 100, delete: 500, keyLength: 1024, metadataBytes: 40 * 1024 };

/** S3 Vectors' names: 3–63 lowercase letters, digits and hyphens (indexes may use dots), a letter or digit at each end */
const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const INDEX_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export type Metric = 'cosine' | 'euclidean';

interface IndexRow {
  id: string;
  bucket_id: string;
  name: string;
  data_type: string;
  dimension: number;
  distance_metric: Metric;
  metadata_configuration: { nonFilterableMetadataKeys?: string[] } | null;
  created_at: Date;
}

export interface VectorInput {
  key: string;
  data: { float32: number[] };
  metadata?: Record<string, unknown>;
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);
const token = (key: string) => Buffer.from(key).toString('base64url');
function untoken(t: string | undefined): string | null {
  if (!t) return null;
  const key = Buffer.from(t, 'base64url').toString();
  if (token(key) !== t) throw vectorErrors.invalid('nextToken is not one this API returned');
  return key;
}

function limit(value: number | undefined, fallback: number, max: number, name: string): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > max) throw vectorErrors.invalid(`${name} must be an integer in [1, ${max}]`);
  return n;
}

function keys(list: string[], max: number): string[] {
  if (list.length < 1 || list.length > max) throw vectorErrors.invalid(`keys must contain between 1 and ${max} entries`);
  for (const k of list) checkKey(k, 'keys');
  return list;
}

function checkKey(key: string, what: string): void {
  if (key.length < 1 || key.length > VECTOR_LIMITS.keyLength) throw vectorErrors.invalid(`${what} must be between 1 and ${VECTOR_LIMITS.keyLength} characters`);
}

/** metadata is an object of strings, finite numbers, booleans and arrays of them, at most 40 KB as JSON */
function metadataOf(m: Record<string, unknown> | undefined, key: string): string {
  if (m === undefined) return '{}';
  const bad = (why: string) => vectorErrors.invalid(`Invalid metadata for vector "${key.slice(0, 100)}": ${why}`);
  const primitive = (v: unknown) => typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
  for (const [k, v] of Object.entries(m)) {
    if (Array.isArray(v) ? !v.every(primitive) : !primitive(v)) throw bad(`field "${k.slice(0, 100)}" must be a string, boolean, finite number or an array of them`);
  }
  const json = JSON.stringify(m);
  if (Buffer.byteLength(json) > VECTOR_LIMITS.metadataBytes) throw bad('metadata is larger than 40 KB');
  return json;
}

function vectorOf(values: number[], dimension: number, what: string): Float32Array {
  if (values.length !== dimension) throw vectorErrors.invalid(`${what} has ${values.length} dimensions; the index has ${dimension}`);
  const v = Float32Array.from(values);
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) throw vectorErrors.invalid(`${what} holds a value outside float32's range`);
  return v;
}

export function vectorDomain(opts: { tx: Tx; maxBuckets: number; maxIndexes: number }) {
  const { tx, maxBuckets, maxIndexes } = opts;
  const run = <T>(fn: (c: pg.PoolClient) => Promise<T>) => tx(SERVICE, fn);

  async function bucketExists(c: pg.PoolClient, name: string, lock = false): Promise<void> {
    const { rowCount } = await c.query(`select 1 from storage.buckets_vectors where id = $1${lock ? ' for update' : ''}`, [name]);
    if (!rowCount) throw vectorErrors.notFound('vector bucket', name);
  }

  async function indexOf(c: pg.PoolClient, bucket: string, name: string): Promise<IndexRow> {
    const { rows } = await c.query<IndexRow>('select * from storage.vector_indexes where bucket_id = $1 and name = $2', [bucket, name]);
    if (!rows[0]) throw vectorErrors.notFound('vector index', name);
    return rows[0];
  }

  const vectorJson = (r: { key: string; embedding?: Buffer; metadata?: unknown }, data: boolean, metadata: boolean) => ({
    key: r.key,
    ...(data && r.embedding ? { data: { float32: Array.from(fromBytes(r.embedding)) } } : {}),
    ...(metadata ? { metadata: r.metadata ?? {} } : {}),
  });

  return {
    createBucket: (name: string) => run(async (c) => {
      if (!BUCKET_NAME.test(name)) throw vectorErrors.invalid('vectorBucketName must be 3-63 lowercase letters, digits or hyphens, starting and ending with a letter or digit');
      // one creation at a time per project, so the count cannot be raced past the limit
      await c.query(`select pg_advisory_xact_lock(hashtext('storage.buckets_vectors'))`);
      const { rows: [{ n }] } = await c.query<{ n: number }>('select count(*)::int as n from storage.buckets_vectors');
      const { rowCount } = await c.query('insert into storage.buckets_vectors (id) values ($1) on conflict do nothing', [name]);
      if (!rowCount) throw vectorErrors.conflict('vector bucket', name);
      if (n >= maxBuckets) throw vectorErrors.maxBuckets(maxBuckets);
    }),

    getBucket: (name: string) => run(async (c) => {
      const { rows } = await c.query<{ id: string; created_at: Date }>('select id, created_at from storage.buckets_vectors where id = $1', [name]);
      if (!rows[0]) throw vectorErrors.notFound('vector bucket', name);
      return { vectorBucket: { vectorBucketName: rows[0].id, creationTime: seconds(rows[0].created_at) } };
    }),

    listBuckets: (o: { prefix?: string; maxResults?: number; nextToken?: string }) => run(async (c) => {
      const max = limit(o.maxResults, 100, VECTOR_LIMITS.listResults, 'maxResults');
      const { rows } = await c.query<{ id: string; created_at: Date }>(
        `select id, created_at from storage.buckets_vectors
         where ($1::text is null or starts_with(id, $1)) and ($2::text is null or id > $2 collate "C")
         order by id collate "C" limit $3`,
        [o.prefix ?? null, untoken(o.nextToken), max + 1],
      );
      const page = rows.slice(0, max);
      return {
        vectorBuckets: page.map((b) => ({ vectorBucketName: b.id, creationTime: seconds(b.created_at) })),
        ...(rows.length > max ? { nextToken: token(page.at(-1)!.id) } : {}),
      };
    }),

    deleteBucket: (name: string) => run(async (c) => {
      await bucketExists(c, name, true);
      const { rowCount } = await c.query('select 1 from storage.vector_indexes where bucket_id = $1 limit 1', [name]);
      if (rowCount) throw vectorErrors.bucketNotEmpty(name);
      await c.query('delete from storage.buckets_vectors where id = $1', [name]);
    }),

    createIndex: (o: { vectorBucketName: string; indexName: string; dataType: string; dimension: number; distanceMetric: Metric; metadataConfiguration?: { nonFilterableMetadataKeys: string[] } }) => run(async (c) => {
      if (!INDEX_NAME.test(o.indexName)) throw vectorErrors.invalid('indexName must be 3-63 lowercase letters, digits, hyphens or dots, starting and ending with a letter or digit');
      // the bucket row is locked: indexes are counted and created one at a time per bucket
      await bucketExists(c, o.vectorBucketName, true);
      const { rows: [{ n }] } = await c.query<{ n: number }>('select count(*)::int as n from storage.vector_indexes where bucket_id = $1', [o.vectorBucketName]);
      const { rowCount } = await c.query(
        `insert into storage.vector_indexes (bucket_id, name, data_type, dimension, distance_metric, metadata_configuration)
         values ($1, $2, $3, $4, $5, $6) on conflict (bucket_id, name) do nothing`,
        [o.vectorBucketName, o.indexName, o.dataType, o.dimension, o.distanceMetric, o.metadataConfiguration ?? null],
      );
      if (!rowCount) throw vectorErrors.conflict('vector index', o.indexName);
      if (n >= maxIndexes) throw vectorErrors.maxIndexes(maxIndexes);
    }),

    getIndex: (bucket: string, name: string) => run(async (c) => {
      const i = await indexOf(c, bucket, name);
      return {
        index: {
          indexName: i.name, vectorBucketName: i.bucket_id, dataType: i.data_type, dimension: i.dimension,
          distanceMetric: i.distance_metric, ...(i.metadata_configuration ? { metadataConfiguration: i.metadata_configuration } : {}),
          creationTime: seconds(i.created_at),
        },
      };
    }),

    listIndexes: (o: { vectorBucketName: string; prefix?: string; maxResults?: number; nextToken?: string }) => run(async (c) => {
      await bucketExists(c, o.vectorBucketName);
      const max = limit(o.maxResults, 100, VECTOR_LIMITS.listResults, 'maxResults');
      const { rows } = await c.query<{ name: string; created_at: Date }>(
        `select name, created_at from storage.vector_indexes
         where bucket_id = $1 and ($2::text is null or starts_with(name, $2)) and ($3::text is null or name > $3 collate "C")
         order by name collate "C" limit $4`,
        [o.vectorBucketName, o.prefix ?? null, untoken(o.nextToken), max + 1],
      );
      const page = rows.slice(0, max);
      return {
        indexes: page.map((i) => ({ indexName: i.name, vectorBucketName: o.vectorBucketName, creationTime: seconds(i.created_at) })),
        ...(rows.length > max ? { nextToken: token(page.at(-1)!.name) } : {}),
      };
    }),

    deleteIndex: (bucket: string, name: string) => run(async (c) => {
      const i = await indexOf(c, bucket, name);
      await c.query('delete from storage.vector_indexes where id = $1', [i.id]);
    }),

    putVectors: (o: { vectorBucketName: string; indexName: string; vectors: VectorInput[] }) => run(async (c) => {
      if (o.vectors.length < 1 || o.vectors.length > VECTOR_LIMITS.put) throw vectorErrors.invalid(`vectors must contain between 1 and ${VECTOR_LIMITS.put} entries`);
      const i = await indexOf(c, o.vectorBucketName, o.indexName);
      const seen = new Set<string>();
      // in key order, so two batches sharing keys lock their rows in the same order
      const rows = [...o.vectors].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((v) => {
        checkKey(v.key, 'vectors.key');
        if (seen.has(v.key)) throw vectorErrors.invalid('Request must not contain duplicate keys');
        seen.add(v.key);
        const vec = vectorOf(v.data.float32, i.dimension, `vector "${v.key.slice(0, 100)}"`);
        return { key: v.key, embedding: toBytes(vec), code: signCode(vec), metadata: metadataOf(v.metadata, v.key) };
      });
      await c.query(
        `insert into storage.vectors (index_id, key, embedding, code, metadata)
         select $1, k, e, b::bit varying, m from unnest($2::text[], $3::bytea[], $4::text[], $5::jsonb[]) as x(k, e, b, m)
         on conflict (index_id, key) do update
           set embedding = excluded.embedding, code = excluded.code, metadata = excluded.metadata, xid = pg_current_xact_id()`,
        [i.id, rows.map((r) => r.key), rows.map((r) => r.embedding), rows.map((r) => r.code), rows.map((r) => r.metadata)],
      );
    }),

    getVectors: (o: { vectorBucketName: string; indexName: string; keys: string[]; returnData?: boolean; returnMetadata?: boolean }) => run(async (c) => {
      const i = await indexOf(c, o.vectorBucketName, o.indexName);
      const { rows } = await c.query(
        `select key${o.returnData ? ', embedding' : ''}${o.returnMetadata ? ', metadata' : ''} from storage.vectors where index_id = $1 and key = any($2::text[])`,
        [i.id, keys(o.keys, VECTOR_LIMITS.get)],
      );
      return { vectors: rows.map((r) => vectorJson(r, !!o.returnData, !!o.returnMetadata)) };
    }),

    deleteVectors: (o: { vectorBucketName: string; indexName: string; keys: string[] }) => run(async (c) => {
      const i = await indexOf(c, o.vectorBucketName, o.indexName);
      await c.query('delete from storage.vectors where index_id = $1 and key = any($2::text[])', [i.id, keys(o.keys, VECTOR_LIMITS.delete)]);
    }),

    listVectors: (o: { vectorBucketName: string; indexName: string; maxResults?: number; nextToken?: string; returnData?: boolean; returnMetadata?: boolean; segmentCount?: number; segmentIndex?: number }) => run(async (c) => {
      const max = limit(o.maxResults, 500, VECTOR_LIMITS.listResults, 'maxResults');
      if ((o.segmentCount === undefined) !== (o.segmentIndex === undefined)) throw vectorErrors.invalid('segmentCount and segmentIndex must be provided together');
      if (o.segmentCount !== undefined) {
        limit(o.segmentCount, 1, VECTOR_LIMITS.segments, 'segmentCount');
        if (!Number.isInteger(o.segmentIndex) || o.segmentIndex! < 0 || o.segmentIndex! >= o.segmentCount) {
          throw vectorErrors.invalid(`segmentIndex must be an integer in [0, ${o.segmentCount - 1}]`);
        }
      }
      const i = await indexOf(c, o.vectorBucketName, o.indexName);
      const { rows } = await c.query(
        `select key${o.returnData ? ', embedding' : ''}${o.returnMetadata ? ', metadata' : ''} from storage.vectors
         where index_id = $1 and ($2::text is null or key > $2 collate "C")
           and ($3::int is null or mod(abs(hashtext(key)::bigint), $3) = $4)
         order by key collate "C" limit $5`,
        [i.id, untoken(o.nextToken), o.segmentCount ?? null, o.segmentIndex ?? null, max + 1],
      );
      const page = rows.slice(0, max);
      return {
        vectors: page.map((r) => vectorJson(r, !!o.returnData, !!o.returnMetadata)),
        ...(rows.length > max ? { nextToken: token(page.at(-1)!.key) } : {}),
      };
    }),

    queryVectors: (o: { vectorBucketName: string; indexName: string; queryVector: { float32: number[] }; topK: number; filter?: Record<string, unknown>; returnDistance?: boolean; returnMetadata?: boolean }) => run(async (c) => {
      const topK = limit(o.topK, 10, VECTOR_LIMITS.topK, 'topK');
      const i = await indexOf(c, o.vectorBucketName, o.indexName);
      const q = vectorOf(o.queryVector.float32, i.dimension, 'queryVector');
      const p = new SqlParams();
      const where = o.filter ? ` and ${metadataFilter('v.metadata', o.filter, p, i.metadata_configuration?.nonFilterableMetadataKeys)}` : '';
      // the Hamming window: every vector of an index this small, the nearest codes of a larger one
      const window = Math.max(200, topK * 20);
      const { rows } = await c.query<{ key: string; embedding: Buffer; metadata: unknown }>(
        `select v.key, v.embedding${o.returnMetadata ? ', v.metadata' : ''} from storage.vectors v
         where v.index_id = ${p.add(i.id)}${where}
         order by bit_count(v.code # ${p.add(signCode(q))}::bit varying) limit ${p.add(window)}`,
        p.values,
      );
      const distance = i.distance_metric === 'euclidean' ? euclideanDistance : cosineDistance;
      const ranked = rows.map((r) => ({ r, d: distance(q, fromBytes(r.embedding)) })).sort((a, b) => a.d - b.d).slice(0, topK);
      return {
        vectors: ranked.map(({ r, d }) => ({
          key: r.key,
          ...(o.returnDistance ? { distance: d } : {}),
          ...(o.returnMetadata ? { metadata: r.metadata ?? {} } : {}),
        })),
        distanceMetric: i.distance_metric,
      };
    }),
  };
}

export type VectorDomain = ReturnType<typeof vectorDomain>;
