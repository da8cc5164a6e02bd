// /storage/v1/object/*: every route storage-js calls (api-compat §3.1). Paths are parsed here rather than by
// Express patterns, because object names contain slashes and every segment is decoded and checked once.
import type { Request, Response } from 'express';
import express, { Router } from 'express';
import { asyncRoute } from '@basalt/http';
import type { ProjectRegistry } from '@basalt/tenancy';
import { storageErrors } from '../errors.js';
import { callerOf, projectOf } from '../domain/caller.js';
import { SERVICE } from '../db/tx.js';
import { fileObjectJson, infoJson, SMALL_UPLOAD_BYTES, type ObjectDomain, type ObjectRow } from '../domain/objects.js';
import { parseTransform, transformFromKey, transformKey, variantOf, type renderer, type Transform } from '../domain/render.js';
import { expiresIn, signObject, verifySigned } from '../domain/signing.js';
import { attachment, notModified, parseRange } from './http-cache.js';
import { declaredLength, readUploadBody } from './upload-body.js';
import type { Project } from '@basalt/tenancy';

export interface ObjectRouteDeps {
  registry: ProjectRegistry;
  objects: (project: Project) => ObjectDomain;
  signedUploadExpires: number;
  render: ReturnType<typeof renderer>;
}

/** `/a/b%20c` → ['a', 'b c']; a segment that does not decode is an invalid key. */
function segments(path: string): string[] {
  return path.split('/').slice(1).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw storageErrors.invalidKey(s);
    }
  });
}

const ACTIVE_CONTENT = /^\s*(text\/html|application\/xhtml\+xml)\b/i;
const SCRIPTABLE = /(svg|xml)/i;

const bucketAndName = (parts: string[]) => ({ bucket: parts[0] ?? '', name: parts.slice(1).join('/') });
/** Relative to /storage/v1, unencoded: storage-js prefixes its URL and encodes it (api-compat §3.1). */
const signedPath = (route: 'object' | 'object/upload' | 'render/image', bucket: string, name: string, token: string) =>
  `/${route}/sign/${bucket}/${name}?token=${token}`;
const truthy = (v: unknown) => v === 'true' || v === true;

/** ?download=name saves under that name; a bare ?download under the object's own file name. */
function setDownloadName(req: Request, res: Response, objectName: string): void {
  if (req.query.download !== undefined) res.setHeader('content-disposition', attachment(String(req.query.download) || objectName.split('/').pop()!));
}

async function sendObject(req: Request, res: Response, o: ObjectDomain, row: ObjectRow): Promise<void> {
  const meta = row.metadata!;
  const lastModified = new Date(row.updated_at);
  // Uploaded HTML is never rendered on the API's origin (stored XSS); it downloads as text, as Supabase does.
  res.setHeader('content-type', ACTIVE_CONTENT.test(meta.mimetype) ? 'text/plain; charset=utf-8' : meta.mimetype);
  res.setHeader('x-content-type-options', 'nosniff');
  // SVG and XML can carry script when opened directly: sandboxed, they still work as <img> sources
  if (SCRIPTABLE.test(meta.mimetype)) res.setHeader('content-security-policy', "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:");
  res.setHeader('etag', meta.eTag);
  res.setHeader('last-modified', lastModified.toUTCString());
  res.setHeader('cache-control', meta.cacheControl);
  res.setHeader('accept-ranges', 'bytes');
  setDownloadName(req, res, row.name);
  if (notModified(req, meta.eTag, lastModified)) return void res.status(304).end();
  const range = parseRange(req.headers.range, meta.size);
  if (range === null) {
    res.setHeader('content-range', `bytes */${meta.size}`);
    throw storageErrors.invalidRange();
  }
  if (range) {
    res.status(206).setHeader('content-range', `bytes ${range.start}-${range.end}/${meta.size}`);
    res.setHeader('content-length', String(range.end - range.start + 1));
  } else {
    res.setHeader('content-length', String(meta.size));
  }
  if (req.method === 'HEAD') return void res.end();
  await o.send(row, range, res);
}

/** An upload: a small raw body is written and checked at commit; anything else is checked before it is read. */
async function receive(o: ObjectDomain, req: Request, actor: Parameters<ObjectDomain['upload']>[0], bucket: string, name: string, upsert: boolean) {
  const length = declaredLength(req);
  const small = length !== undefined && length <= SMALL_UPLOAD_BYTES;
  const checked = small ? undefined : await o.prepareUpload(actor, bucket, name, upsert, length);
  const upload = await readUploadBody(req);
  return o.upload(actor, bucket, name, upload.stream, upload.head, { upsert, checked });
}

export function objectRoutes(deps: ObjectRouteDeps): Router {
  const r = Router();
  const json = express.json({ limit: '1mb' });

  r.all(/^\/object(?:\/.*)?$/, asyncRoute(async (req, res) => {
    const project = await projectOf(req.headers, deps.registry);
    const o = deps.objects(project);
    const parts = segments(req.path.slice('/object'.length));
    const [head, ...rest] = parts;
    const m = req.method;
    const caller = () => callerOf(project, req.headers);
    const body = async () => {
      await new Promise<void>((resolve, reject) => json(req, res, (e?: unknown) => (e ? reject(e) : resolve())));
      return (req.body ?? {}) as Record<string, unknown>;
    };

    // reads without a token: public buckets and signed URLs
    if (head === 'public' && (m === 'GET' || m === 'HEAD')) {
      const { bucket, name } = bucketAndName(rest);
      return sendObject(req, res, o, await o.find(SERVICE, bucket, name, { publicOnly: true }));
    }
    if (head === 'sign' && (m === 'GET' || m === 'HEAD')) {
      const { bucket, name } = bucketAndName(rest);
      verifySigned(project, req.query.token, bucket, name, 'download');
      return sendObject(req, res, o, await o.find(SERVICE, bucket, name));
    }
    if (head === 'upload' && rest[0] === 'sign' && m === 'PUT') {
      const { bucket, name } = bucketAndName(rest.slice(1));
      const claims = verifySigned(project, req.query.token, bucket, name, 'upload');
      const actor = { ...SERVICE, sub: claims.owner };
      const upsert = claims.upsert === true;
      const done = await receive(o, req, actor, bucket, name, upsert);
      return void res.json({ Key: done.Key, Id: done.Id });
    }
    if (head === 'info' && (rest[0] === 'public') && m === 'GET') {
      const { bucket, name } = bucketAndName(rest.slice(1));
      return void res.json(infoJson(await o.find(SERVICE, bucket, name, { publicOnly: true })));
    }

    const who = caller();
    if (head === 'info' && m === 'GET') {
      const { bucket, name } = bucketAndName(rest[0] === 'authenticated' ? rest.slice(1) : rest);
      return void res.json(infoJson(await o.find(who, bucket, name)));
    }
    if (head === 'authenticated' && (m === 'GET' || m === 'HEAD')) {
      const { bucket, name } = bucketAndName(rest);
      return sendObject(req, res, o, await o.find(who, bucket, name));
    }
    if (head === 'list' && m === 'POST') return void res.json(await o.list(who, rest.join('/'), await body()));
    if (head === 'list-v2' && m === 'POST') return void res.json(await o.listV2(who, rest.join('/'), await body()));
    if ((head === 'move' || head === 'copy') && m === 'POST' && rest.length === 0) {
      const b = await body();
      const done = await o.move(who, b, head === 'copy', who.sub);
      return void res.json(head === 'move' ? { message: 'Successfully moved', Id: done.id, Key: done.key } : { Id: done.id, Key: done.key });
    }
    if (head === 'sign' && m === 'POST') {
      const b = await body();
      const seconds = expiresIn(b.expiresIn);
      if (rest.length === 1) {
        const bucket = rest[0];
        if (!Array.isArray(b.paths) || b.paths.length === 0 || b.paths.length > 1000 || !b.paths.every((p) => typeof p === 'string')) {
          throw storageErrors.invalidRequest('paths must be a list of 1 to 1000 object names');
        }
        const paths = b.paths as string[];
        const readable = await o.canRead(who, bucket, paths);
        return void res.json(paths.map((path) => readable.has(path)
          ? { path, signedURL: signedPath('object', bucket, path, signObject(project, bucket, path, 'download', seconds)), error: null }
          : { path, signedURL: null, error: 'Either the object does not exist or you do not have access to it' }));
      }
      const { bucket, name } = bucketAndName(rest);
      await o.find(who, bucket, name);
      if (b.transform && typeof b.transform === 'object') {
        const t = transformKey(parseTransform(b.transform as Record<string, unknown>));
        return void res.json({ signedURL: signedPath('render/image', bucket, name, signObject(project, bucket, name, 'download', seconds, undefined, t)) });
      }
      return void res.json({ signedURL: signedPath('object', bucket, name, signObject(project, bucket, name, 'download', seconds)) });
    }
    if (head === 'upload' && rest[0] === 'sign' && m === 'POST') {
      const { bucket, name } = bucketAndName(rest.slice(1));
      const upsert = truthy(req.headers['x-upsert']);
      await o.prepareUpload(who, bucket, name, upsert);
      const token = signObject(project, bucket, name, 'upload', deps.signedUploadExpires, { owner: who.sub, upsert });
      return void res.json({ url: signedPath('object/upload', bucket, name, token), token });
    }
    if (rest.length === 0 && m === 'DELETE') {
      return void res.json((await o.remove(who, head ?? '', (await body()).prefixes)).map(fileObjectJson));
    }

    // /object/{bucket}/{name}
    const { bucket, name } = bucketAndName(parts);
    if (m === 'GET' || m === 'HEAD') return sendObject(req, res, o, await o.find(who, bucket, name));
    if (m === 'POST' || m === 'PUT') {
      const upsert = m === 'PUT' || truthy(req.headers['x-upsert']);
      return void res.json(await receive(o, req, who, bucket, name, upsert));
    }
    if (m === 'DELETE') {
      await o.removeOne(who, bucket, name);
      return void res.json({ message: 'Successfully deleted' });
    }
    throw storageErrors.invalidRequest(`${m} is not supported here`);
  }));
  // /render/image/{authenticated|public|sign}/{bucket}/{name}?width&height&resize&format&quality
  r.get(/^\/render\/image\/(?:authenticated|public|sign)\/.+$/, asyncRoute(async (req, res) => {
    const project = await projectOf(req.headers, deps.registry);
    const o = deps.objects(project);
    const [mode, ...rest] = segments(req.path.slice('/render/image'.length));
    const { bucket, name } = bucketAndName(rest);
    let row: ObjectRow;
    let transform: Transform;
    if (mode === 'sign') {
      const claims = verifySigned(project, req.query.token, bucket, name, 'download', true);
      transform = transformFromKey(claims.transformations!);
      row = await o.find(SERVICE, bucket, name);
    } else {
      transform = parseTransform(req.query as Record<string, unknown>);
      row = await o.find(mode === 'public' ? SERVICE : callerOf(project, req.headers), bucket, name, { publicOnly: mode === 'public' });
    }
    const meta = row.metadata!;
    const src = { ref: project.ref, version: row.version!, mimetype: meta.mimetype, size: meta.size, read: () => o.read(row) };
    const variant = variantOf(src, transform, req.headers.accept);
    res.setHeader('content-type', variant.contentType);
    res.setHeader('etag', variant.etag);
    res.setHeader('last-modified', new Date(row.updated_at).toUTCString());
    res.setHeader('cache-control', meta.cacheControl);
    res.setHeader('x-transformations', transformKey(transform));
    res.setHeader('vary', 'accept');
    setDownloadName(req, res, name);
    if (notModified(req, variant.etag, new Date(row.updated_at))) return void res.status(304).end();
    const body = await deps.render(src, transform, variant);
    res.setHeader('content-length', String(body.length));
    res.end(body);
  }));
  return r;
}
