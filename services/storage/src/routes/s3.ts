// /storage/v1/s3: the S3 protocol, path-style, as @aws-sdk/client-s3 and rclone speak it. Every request is signed
// (SigV4 header or presigned query): with one of the project's S3 access keys it acts as the service role (RLS
// bypassed); in session-token mode (access key id = project ref, secret = anon key, x-amz-security-token = a
// user's JWT) it acts as that user and RLS decides, as on the REST API. Errors are S3's XML.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { closeAfterAnswer, type App } from '@basalt/http';
import type { Project, ProjectRegistry } from '@basalt/tenancy';
import { SERVICE } from '../db/tx.js';
import { projectOf } from '../domain/caller.js';
import { objectContentType } from '../domain/mime.js';
import type { ObjectDomain, ObjectRow, UploadHead } from '../domain/objects.js';
import type { bucketDomain } from '../domain/buckets.js';
import type { S3KeysDomain } from '../domain/s3-keys.js';
import { md5Tap, s3Payload } from '../domain/s3-payload.js';
import { s3Errors, type S3Domain } from '../domain/s3.js';
import { parseQuery } from '../domain/sigv4.js';
import { storageErrors } from '../errors.js';
import { bucketId, objectName } from '../keys.js';
import { s3Caller, type S3Caller } from './s3-auth.js';
import { sendS3Error } from './s3-errors.js';
import { elements, readXml, requireXml, sendXml, text } from './s3-xml.js';
import { wildcardSegments } from './object-path.js';
import { sendObject } from './send-object.js';

export interface S3RouteDeps {
  registry: ProjectRegistry;
  keys: S3KeysDomain;
  objects: (project: Project) => ObjectDomain;
  buckets: (project: Project) => ReturnType<typeof bucketDomain>;
  s3: (project: Project) => S3Domain;
  region: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** the S3 request's project and the actor its signature proves */
    s3: S3Caller;
  }
}

interface Op {
  req: FastifyRequest;
  reply: FastifyReply;
  deps: S3RouteDeps;
  bucket: string;
  key: string;
  q: Record<string, string>;
}

const header = (req: FastifyRequest, name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string) : undefined);

/** x-amz-meta-* headers as the object's user metadata */
function amzMeta(req: FastifyRequest): Record<string, unknown> | null {
  const meta = Object.entries(req.headers).filter(([k]) => k.startsWith('x-amz-meta-')).map(([k, v]) => [k.slice(11), Array.isArray(v) ? v.join(',') : String(v)]);
  return meta.length ? Object.fromEntries(meta) : null;
}

const uploadHead = (req: FastifyRequest): UploadHead => ({
  contentType: objectContentType(header(req, 'content-type')),
  cacheControl: header(req, 'cache-control') ?? 'no-cache',
  userMetadata: amzMeta(req),
});

const int = (v: string | undefined, fallback: number, max: number) => {
  if (v === undefined || v === '') return fallback;
  if (!/^\d+$/.test(v)) throw s3Errors.invalidArgument('Provided max-keys not an integer or within integer range');
  return Math.min(Number(v), max);
};

export const s3Api = (deps: S3RouteDeps) => async (api: App) => {
  api.decorateRequest('s3', null as never);
  // bodies are object bytes or small XML documents: read by the operation itself, never by a parser first
  api.removeAllContentTypeParsers();
  api.addContentTypeParser('*', (_req, _payload, done) => done(null));
  api.setErrorHandler(async (err, req, reply) => {
    if (!req.raw.complete) closeAfterAnswer(reply); // the unread body is not drained, and the answer not lost
    return sendS3Error(req, reply, err);
  });
  api.addHook('onRequest', async (req) => {
    const project = await projectOf(req.headers, deps.registry);
    req.s3 = await s3Caller(req, project, deps.keys);
  });
  const methods = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'] as ('GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE')[];
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const parts = req.url.split('?')[0].replace(/^\/storage\/v1\/s3\/?/, '') === '' ? [] : wildcardSegments(req);
    const q = Object.fromEntries(parseQuery(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : ''));
    const op: Op = { req, reply, deps, bucket: parts[0] ?? '', key: parts.slice(1).join('/'), q };
    if (!op.bucket) return serviceOp(op);
    bucketId(op.bucket);
    return op.key === '' ? bucketOp(op) : objectOp(op);
  };
  api.route({ method: methods, url: '/', handler });
  api.route({ method: methods, url: '/*', handler });
};

function serviceOp({ req, reply, deps }: Op) {
  if (req.method !== 'GET') throw s3Errors.invalidArgument('Only ListBuckets is served at the service root');
  return deps.buckets(req.s3.project).list(req.s3.actor, { limit: 1000 }).then((rows) => sendXml(reply, 'ListAllMyBucketsResult', {
    Owner: { ID: req.s3.project.ref, DisplayName: req.s3.project.ref },
    Buckets: { Bucket: rows.map((b) => ({ Name: b.id, CreationDate: new Date(b.created_at) })) },
  }));
}

async function bucketOp({ req, reply, deps, bucket, q }: Op) {
  const { project, actor } = req.s3;
  const s3 = deps.s3(project);
  switch (req.method) {
    case 'HEAD':
      await deps.buckets(project).get(actor, bucket);
      return reply.header('x-amz-bucket-region', deps.region).code(200).send();
    case 'PUT': {
      if ('versioning' in q || 'policy' in q || 'cors' in q || 'lifecycle' in q || 'acl' in q) throw s3Errors.invalidArgument('This bucket configuration is not supported');
      await readXml(req.raw); // CreateBucketConfiguration (LocationConstraint): one region here
      await deps.buckets(project).create(actor, { id: bucket, name: bucket, public: header(req, 'x-amz-acl') === 'public-read' });
      return reply.header('location', `/${bucket}`).code(200).send();
    }
    case 'DELETE':
      await deps.buckets(project).remove(actor, bucket);
      return reply.code(204).send();
    case 'POST':
      if ('delete' in q) return deleteObjects({ req, reply, deps, bucket, key: '', q });
      throw s3Errors.invalidArgument('Unsupported bucket operation');
    default:
      break;
  }
  if ('location' in q) {
    await deps.buckets(project).get(actor, bucket);
    return reply.type('application/xml').send(`<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${deps.region}</LocationConstraint>`);
  }
  if ('versioning' in q) {
    await deps.buckets(project).get(actor, bucket);
    return sendXml(reply, 'VersioningConfiguration', {});
  }
  if ('uploads' in q) {
    const max = int(q['max-uploads'], 1000, 1000);
    const { uploads, truncated } = await s3.listUploads(actor, bucket, q.prefix ?? '', max);
    return sendXml(reply, 'ListMultipartUploadsResult', {
      Bucket: bucket, KeyMarker: '', UploadIdMarker: '', Prefix: q.prefix ?? '', MaxUploads: max, IsTruncated: truncated,
      Upload: uploads.map((u) => ({ Key: u.key, UploadId: u.id, Initiated: new Date(u.created_at), StorageClass: 'STANDARD' })),
    });
  }
  return listObjects({ req, reply, deps, bucket, key: '', q });
}

async function listObjects({ req, reply, deps, bucket, q }: Op) {
  const v2 = q['list-type'] === '2';
  const max = int(q['max-keys'], 1000, 1000);
  const prefix = q.prefix ?? '';
  const delimiter = q.delimiter ?? '';
  const urlEncode = q['encoding-type'] === 'url';
  const enc = (s: string) => (urlEncode ? encodeURIComponent(s).replace(/%2F/g, '/') : s);
  let after: string | null = null;
  if (v2 && q['continuation-token']) {
    after = Buffer.from(q['continuation-token'], 'base64url').toString('utf8');
  } else if (v2) {
    after = q['start-after'] || null;
  } else {
    after = q.marker || null;
  }
  const { entries, truncated } = await deps.s3(req.s3.project).listObjects(req.s3.actor, bucket, { prefix, delimiter, after, max });
  const contents = entries.filter((e) => !e.is_prefix).map((e) => ({
    Key: enc(e.key), LastModified: e.updated_at ? new Date(e.updated_at) : undefined, ETag: e.etag ?? undefined, Size: e.size ?? 0, StorageClass: 'STANDARD',
  }));
  const prefixes = entries.filter((e) => e.is_prefix).map((e) => ({ Prefix: enc(e.key) }));
  const last = entries[entries.length - 1]?.key;
  const common = { Name: bucket, Prefix: enc(prefix), Delimiter: delimiter ? enc(delimiter) : undefined, MaxKeys: max, EncodingType: urlEncode ? 'url' : undefined, IsTruncated: truncated };
  if (v2) {
    return sendXml(reply, 'ListBucketResult', {
      ...common, KeyCount: entries.length, ContinuationToken: q['continuation-token'], StartAfter: q['start-after'] ? enc(q['start-after']) : undefined,
      NextContinuationToken: truncated && last ? Buffer.from(last).toString('base64url') : undefined, Contents: contents, CommonPrefixes: prefixes,
    });
  }
  return sendXml(reply, 'ListBucketResult', {
    ...common, Marker: enc(q.marker ?? ''), NextMarker: truncated && last && delimiter ? enc(last) : undefined, Contents: contents, CommonPrefixes: prefixes,
  });
}

async function deleteObjects({ req, reply, deps, bucket }: Op) {
  const body = requireXml(await readXml(req.raw), 'Delete');
  const keys = elements(body, 'Object').map((o) => text(o, 'Key') ?? '');
  if (keys.length === 0 || keys.length > 1000) throw s3Errors.invalidArgument('A Delete request names 1 to 1000 objects');
  const quiet = text(body, 'Quiet') === 'true';
  const { project, actor } = req.s3;
  const o = deps.objects(project);
  const deleted = new Set((await o.remove(actor, bucket, keys)).map((r) => r.name));
  // what is left was either never there (deleted, as S3 says) or is refused by RLS
  const left = keys.filter((k) => !deleted.has(k));
  const refused = left.length ? await o.canRead(SERVICE, bucket, left) : new Set<string>();
  return sendXml(reply, 'DeleteResult', {
    Deleted: quiet ? [] : keys.filter((k) => !refused.has(k)).map((k) => ({ Key: k })),
    Error: [...refused].map((k) => ({ Key: k, Code: 'AccessDenied', Message: 'Access Denied' })),
  });
}

/** S3 headers of an object answer: its user metadata as x-amz-meta-*, and S3's ETag for ranges and HEAD alike. */
function objectHeaders(reply: FastifyReply, row: ObjectRow) {
  for (const [k, v] of Object.entries(row.user_metadata ?? {})) {
    const value = typeof v === 'string' ? v : JSON.stringify(v);
    if (/^[\w-]+$/.test(k) && !/[\r\n]/.test(value)) reply.header(`x-amz-meta-${k.toLowerCase()}`, value);
  }
}

/** GetObject's response-* parameters (presigned download links name the file to save this way) */
const OVERRIDABLE = ['content-type', 'content-language', 'expires', 'cache-control', 'content-disposition', 'content-encoding'];
function responseOverrides(q: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of OVERRIDABLE) {
    const v = q[`response-${name}`];
    if (v !== undefined && v !== '' && !/[\r\n]/.test(v)) out[name] = v;
  }
  return out;
}

async function objectOp({ req, reply, deps, bucket, key, q }: Op) {
  const { project, actor } = req.s3;
  const o = deps.objects(project);
  const s3 = deps.s3(project);
  objectName(key);
  const uploadId = q.uploadId;
  switch (req.method) {
    case 'GET':
    case 'HEAD': {
      if (uploadId !== undefined && req.method === 'GET') {
        const max = int(q['max-parts'], 1000, 1000);
        const marker = int(q['part-number-marker'], 0, 10000);
        const { parts, truncated } = await s3.listParts(actor, bucket, key, uploadId, marker, max);
        return sendXml(reply, 'ListPartsResult', {
          Bucket: bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker,
          NextPartNumberMarker: parts.length ? parts[parts.length - 1].part_number : marker, MaxParts: max, IsTruncated: truncated, StorageClass: 'STANDARD',
          Part: parts.map((p) => ({ PartNumber: p.part_number, LastModified: new Date(p.created_at), ETag: `"${p.etag}"`, Size: p.size })),
        });
      }
      const row = await o.find(actor, bucket, key);
      objectHeaders(reply, row);
      return sendObject(req, reply, o, row, { override: responseOverrides(q) });
    }
    case 'PUT': {
      const source = header(req, 'x-amz-copy-source');
      if (uploadId !== undefined) {
        if (source) throw s3Errors.invalidArgument('UploadPartCopy is not supported; upload the part\'s bytes');
        const payload = s3Payload(req.raw, req.headers, req.s3.sig, req.s3.signingKey);
        const etag = await s3.uploadPart(actor, bucket, key, uploadId, Number(q.partNumber), payload.stream);
        return reply.header('etag', `"${etag}"`).code(200).send();
      }
      if (source) return copyObject({ req, reply, deps, bucket, key, q }, source);
      const payload = s3Payload(req.raw, req.headers, req.s3.sig, req.s3.signingKey);
      const head = uploadHead(req);
      const checked = await o.prepareUpload(actor, bucket, key, true, payload.length);
      const tap = md5Tap(payload.stream);
      await o.upload(actor, bucket, key, tap, head, { upsert: true, checked, etag: () => `"${tap.hex}"` });
      return reply.header('etag', `"${tap.hex}"`).code(200).send();
    }
    case 'POST': {
      if ('uploads' in q) {
        const id = await s3.createMultipart(actor, bucket, key, uploadHead(req));
        return sendXml(reply, 'InitiateMultipartUploadResult', { Bucket: bucket, Key: key, UploadId: id });
      }
      if (uploadId !== undefined) {
        const body = requireXml(await readXml(req.raw), 'CompleteMultipartUpload');
        const listed = elements(body, 'Part').map((p) => ({ part: Number(text(p, 'PartNumber')), etag: text(p, 'ETag') ?? '' }));
        const done = await s3.complete(actor, bucket, key, uploadId, listed);
        return sendXml(reply, 'CompleteMultipartUploadResult', { Location: `/${bucket}/${key}`, Bucket: bucket, Key: key, ETag: done.etag });
      }
      throw s3Errors.invalidArgument('Unsupported object operation');
    }
    case 'DELETE':
      if (uploadId !== undefined) {
        await s3.abort(actor, bucket, key, uploadId);
        return reply.code(204).send();
      }
      // S3 deletes are idempotent: a key that is not there is deleted all the same
      await o.remove(actor, bucket, [key]);
      return reply.code(204).send();
    default:
      throw storageErrors.invalidRequest('Unsupported method');
  }
}

async function copyObject({ req, reply, deps, bucket, key }: Op, source: string) {
  const { project, actor } = req.s3;
  const raw = source.split('?')[0].replace(/^\//, '');
  const slash = raw.indexOf('/');
  if (slash < 1) throw s3Errors.invalidArgument('Copy Source must mention the source bucket and key: sourcebucket/sourcekey');
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw s3Errors.invalidArgument('Copy Source is not URL-encoded');
    }
  };
  const replace = header(req, 'x-amz-metadata-directive') === 'REPLACE';
  const o = deps.objects(project);
  await o.move(actor, {
    bucketId: decode(raw.slice(0, slash)), sourceKey: decode(raw.slice(slash + 1)), destinationBucket: bucket, destinationKey: key,
    upsert: true, copyMetadata: !replace, metadata: replace ? amzMeta(req) : undefined,
  }, true);
  const row = await o.find(actor, bucket, key);
  return sendXml(reply, 'CopyObjectResult', { LastModified: new Date(row.updated_at), ETag: row.metadata?.eTag });
}
