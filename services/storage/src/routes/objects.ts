// /storage/v1/object/*: every route storage-js calls (api-compat §3.1). Object names contain slashes, so they are
// read from the path after each route's static prefix (object-path.ts), decoded and checked once.
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { defineRoute } from '@basalt/http';
import type { Project } from '@basalt/tenancy';
import { storageErrors } from '../errors.js';
import { SERVICE } from '../db/tx.js';
import { fileObjectJson, infoJson, SMALL_UPLOAD_BYTES, type ObjectDomain } from '../domain/objects.js';
import { parseTransform, transformKey } from '../domain/render.js';
import { expiresIn, signObject, verifySigned } from '../domain/signing.js';
import { bucketAndName, objectAt, wildcardSegments } from './object-path.js';
import { sendObject } from './send-object.js';
import { declaredLength, readUploadBody } from './upload-body.js';

export interface ObjectRouteDeps {
  objects: (project: Project) => ObjectDomain;
  signedUploadExpires: number;
}

/** A JSON object body; absent (or of another type, which is not read) counts as empty, as storage-js relies on. */
export const JsonObject = z.record(z.string(), z.unknown()).nullish().transform((b) => b ?? {});
const Token = z.object({ token: z.unknown() }).passthrough();
/** GET and HEAD for downloads, declared together so HEAD never reads the bytes */
const READ = ['GET', 'HEAD'] as ('GET' | 'HEAD')[];

/** Relative to /storage/v1, unencoded: storage-js prefixes its URL and encodes it (api-compat §3.1). */
const signedPath = (route: 'object' | 'object/upload' | 'render/image', bucket: string, name: string, token: string) =>
  `/${route}/sign/${bucket}/${name}?token=${token}`;
const truthy = (v: unknown) => v === 'true' || v === true;

/** An upload: a small raw body is written and checked at commit; anything else is checked before it is read. */
async function receive(o: ObjectDomain, req: FastifyRequest, actor: Parameters<ObjectDomain['upload']>[0], upsert: boolean) {
  const { bucket, name } = objectAt(req);
  const length = declaredLength(req.raw);
  const small = length !== undefined && length <= SMALL_UPLOAD_BYTES;
  const checked = small ? undefined : await o.prepareUpload(actor, bucket, name, upsert, length);
  const upload = await readUploadBody(req.raw);
  return o.upload(actor, bucket, name, upload.stream, upload.head, { upsert, checked });
}

/** Reads that need no token: public buckets and signed URLs. */
export const publicObjectRoutes = ({ objects }: ObjectRouteDeps) => [
  defineRoute({
    method: READ, url: '/object/public/*',
    handler: async (req, reply) => {
      const { bucket, name } = objectAt(req);
      const o = objects(req.storage.project);
      return sendObject(req, reply, o, await o.find(SERVICE, bucket, name, { publicOnly: true }));
    },
  }),
  defineRoute({
    method: READ, url: '/object/sign/*', schema: { querystring: Token },
    handler: async (req, reply) => {
      const { bucket, name } = objectAt(req);
      verifySigned(req.storage.project, req.query.token, bucket, name, 'download');
      const o = objects(req.storage.project);
      return sendObject(req, reply, o, await o.find(SERVICE, bucket, name));
    },
  }),
  defineRoute({
    method: 'GET', url: '/object/info/public/*',
    handler: async (req) => {
      const { bucket, name } = objectAt(req);
      return infoJson(await objects(req.storage.project).find(SERVICE, bucket, name, { publicOnly: true }));
    },
  }),
];

/** A signed upload URL: its token, not a caller, decides (the body is the object, read as a stream). */
export const signedUploadRoutes = ({ objects }: ObjectRouteDeps) => [
  defineRoute({
    method: 'PUT', url: '/object/upload/sign/*', schema: { querystring: Token },
    handler: async (req) => {
      const { bucket, name } = objectAt(req);
      const claims = verifySigned(req.storage.project, req.query.token, bucket, name, 'upload');
      const done = await receive(objects(req.storage.project), req, { ...SERVICE, sub: claims.owner }, claims.upsert === true);
      return { Key: done.Key, Id: done.Id };
    },
  }),
];

/** Uploads as the caller: the raw or multipart body streams to the backend. */
export const uploadRoutes = ({ objects }: ObjectRouteDeps) => [
  defineRoute({
    method: ['POST', 'PUT'], url: '/object/*',
    handler: (req) => receive(objects(req.storage.project), req, req.storage.caller, req.method === 'PUT' || truthy(req.headers['x-upsert'])),
  }),
];

/** Everything else runs as the caller (RLS decides); bodies are small JSON. */
export const callerObjectRoutes = ({ objects, signedUploadExpires }: ObjectRouteDeps) => [
  defineRoute({
    method: 'GET', url: '/object/info/authenticated/*',
    handler: async (req) => infoJson(await objects(req.storage.project).find(req.storage.caller, ...at(req))),
  }),
  defineRoute({
    method: 'GET', url: '/object/info/*',
    handler: async (req) => infoJson(await objects(req.storage.project).find(req.storage.caller, ...at(req))),
  }),
  defineRoute({
    method: READ, url: '/object/authenticated/*',
    handler: async (req, reply) => {
      const o = objects(req.storage.project);
      return sendObject(req, reply, o, await o.find(req.storage.caller, ...at(req)));
    },
  }),
  defineRoute({
    method: READ, url: '/object/*',
    handler: async (req, reply) => {
      const o = objects(req.storage.project);
      return sendObject(req, reply, o, await o.find(req.storage.caller, ...at(req)));
    },
  }),
  defineRoute({
    method: 'POST', url: '/object/list/*', schema: { body: JsonObject },
    // the page comes as JSON text (listing.ts), sent as it is
    handler: async (req, reply) =>
      reply.type('application/json; charset=utf-8').send(await objects(req.storage.project).list(req.storage.caller, wildcardSegments(req).join('/'), req.body)),
  }),
  defineRoute({
    method: 'POST', url: '/object/list-v2/*', schema: { body: JsonObject },
    handler: (req) => objects(req.storage.project).listV2(req.storage.caller, wildcardSegments(req).join('/'), req.body),
  }),
  defineRoute({
    method: 'POST', url: '/object/move', schema: { body: JsonObject },
    handler: async (req) => {
      const done = await objects(req.storage.project).move(req.storage.caller, req.body, false);
      return { message: 'Successfully moved', Id: done.id, Key: done.key };
    },
  }),
  defineRoute({
    method: 'POST', url: '/object/copy', schema: { body: JsonObject },
    handler: async (req) => {
      const done = await objects(req.storage.project).move(req.storage.caller, req.body, true);
      return { Id: done.id, Key: done.key };
    },
  }),
  defineRoute({
    method: 'POST', url: '/object/sign/*', schema: { body: JsonObject },
    handler: (req) => {
      const parts = wildcardSegments(req);
      const seconds = expiresIn(req.body.expiresIn);
      const o = objects(req.storage.project);
      return parts.length === 1 ? signMany(o, req, parts[0], req.body.paths, seconds) : signOne(o, req, bucketAndName(parts), req.body.transform, seconds);
    },
  }),
  defineRoute({
    method: 'POST', url: '/object/upload/sign/*',
    handler: async (req) => {
      const { bucket, name } = objectAt(req);
      const upsert = truthy(req.headers['x-upsert']);
      await objects(req.storage.project).prepareUpload(req.storage.caller, bucket, name, upsert);
      const token = signObject(req.storage.project, bucket, name, 'upload', signedUploadExpires, { owner: req.storage.caller.sub, upsert });
      return { url: signedPath('object/upload', bucket, name, token), token };
    },
  }),
  defineRoute({
    method: 'DELETE', url: '/object/*', schema: { body: JsonObject },
    handler: async (req) => {
      const parts = wildcardSegments(req);
      const o = objects(req.storage.project);
      // /object/{bucket} removes a batch; /object/{bucket}/{name} one object
      if (parts.length === 1) return (await o.remove(req.storage.caller, parts[0], req.body.prefixes)).map(fileObjectJson);
      const { bucket, name } = bucketAndName(parts);
      await o.removeOne(req.storage.caller, bucket, name);
      return { message: 'Successfully deleted' };
    },
  }),
];

/** [bucket, name] after the route's static prefix */
function at(req: FastifyRequest): [string, string] {
  const { bucket, name } = objectAt(req);
  return [bucket, name];
}

/** Signed download URLs for many objects of a bucket: those the caller cannot read get an error entry. */
async function signMany(o: ObjectDomain, req: FastifyRequest, bucket: string, paths: unknown, seconds: number) {
  if (!Array.isArray(paths) || paths.length === 0 || paths.length > 1000 || !paths.every((p) => typeof p === 'string')) {
    throw storageErrors.invalidRequest('paths must be a list of 1 to 1000 object names');
  }
  const readable = await o.canRead(req.storage.caller, bucket, paths);
  return paths.map((path: string) => readable.has(path)
    ? { path, signedURL: signedPath('object', bucket, path, signObject(req.storage.project, bucket, path, 'download', seconds)), error: null }
    : { path, signedURL: null, error: 'Either the object does not exist or you do not have access to it' });
}

/** One signed URL, a render URL when a transform is given; signing needs SELECT on the object. */
async function signOne(o: ObjectDomain, req: FastifyRequest, { bucket, name }: { bucket: string; name: string }, transform: unknown, seconds: number) {
  await o.find(req.storage.caller, bucket, name);
  if (transform && typeof transform === 'object') {
    const t = transformKey(parseTransform(transform as Record<string, unknown>), true);
    return { signedURL: signedPath('render/image', bucket, name, signObject(req.storage.project, bucket, name, 'download', seconds, undefined, t)) };
  }
  return { signedURL: signedPath('object', bucket, name, signObject(req.storage.project, bucket, name, 'download', seconds)) };
}
