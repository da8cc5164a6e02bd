// Auth users, storage buckets and objects, and the static-site assets: the auth and storage services' own APIs,
// called through the gateway with the project's service_role key (auth, storage) or the platform token (assets).
import { z } from 'zod';
import { defineTool } from '../tool.js';
import type { ToolContext } from '../context.js';

const Ref = z.string().describe('the project ref');
const Bucket = z.string().min(1).max(100).describe('bucket id');

const asService = async (ctx: ToolContext, ref: string) => {
  const key = await ctx.serviceKey(ref);
  return { apikey: key, authorization: `Bearer ${key}` };
};
const objectPath = (p: string) => p.split('/').map(encodeURIComponent).join('/');

/** Uploads of at most 25 files and 16 MB of content each: one request (all-or-nothing) for a small site, and a
 * progress step per batch for a big one. */
function uploadBatches<F extends { path: string; content: string }>(files: F[]): F[][] {
  const batches: F[][] = [];
  let size = 0;
  for (const f of files) {
    const last = batches[batches.length - 1];
    if (!last || last.length >= 25 || size + f.content.length > 16 * 1024 * 1024) {
      batches.push([f]);
      size = f.content.length;
    } else {
      last.push(f);
      size += f.content.length;
    }
  }
  return batches;
}

export const authStorageTools = [
  defineTool({
    name: 'auth_list_users',
    description: "The project's auth users (GoTrue admin API): {users: [{id, email, phone, created_at, last_sign_in_at, app_metadata, user_metadata}], total}.",
    write: false,
    input: { ref: Ref, page: z.number().int().min(1).default(1), per_page: z.number().int().min(1).max(1000).default(50) },
    run: async ({ ref, page, per_page }, ctx) => {
      const r = await ctx.peer.project(ref, '/auth/v1/admin/users', { headers: await asService(ctx, ref), query: { page, per_page } });
      return { users: r.users, total: r.total ?? r.users?.length };
    },
  }),
  defineTool({
    name: 'auth_create_user',
    description: 'Creates an auth user with email and password (confirmed unless email_confirm is false). Returns the user.',
    write: true,
    input: {
      ref: Ref, email: z.string().email(), password: z.string().min(6).max(72),
      email_confirm: z.boolean().default(true), user_metadata: z.record(z.unknown()).optional(), app_metadata: z.record(z.unknown()).optional(),
    },
    run: async ({ ref, ...user }, ctx) => ctx.peer.project(ref, '/auth/v1/admin/users', { method: 'POST', headers: await asService(ctx, ref), json: user }),
  }),
  defineTool({
    name: 'auth_delete_user',
    description: 'Deletes an auth user by id. Returns {id, deleted: true}.',
    write: true,
    input: { ref: Ref, id: z.string().uuid() },
    run: async ({ ref, id }, ctx) => {
      await ctx.peer.project(ref, `/auth/v1/admin/users/${id}`, { method: 'DELETE', headers: await asService(ctx, ref), json: {} });
      return { id, deleted: true };
    },
  }),
  defineTool({
    name: 'storage_list_buckets',
    description: 'Storage buckets: [{id, name, public, file_size_limit, allowed_mime_types, created_at}].',
    write: false,
    input: { ref: Ref },
    run: async ({ ref }, ctx) => ctx.peer.project(ref, '/storage/v1/bucket', { headers: await asService(ctx, ref) }),
  }),
  defineTool({
    name: 'storage_create_bucket',
    description: 'Creates a bucket. Public buckets serve objects without a token; private ones go through storage.objects RLS. Returns {name}.',
    write: true,
    input: {
      ref: Ref, id: Bucket, public: z.boolean().default(false),
      file_size_limit: z.number().int().positive().optional(), allowed_mime_types: z.array(z.string()).optional(),
    },
    run: async ({ ref, id, ...opts }, ctx) =>
      ctx.peer.project(ref, '/storage/v1/bucket', { method: 'POST', headers: await asService(ctx, ref), json: { id, name: id, ...opts } }),
  }),
  defineTool({
    name: 'storage_list_objects',
    description: 'Objects and folders under a prefix of a bucket: [{name, id, metadata, created_at, updated_at}] (folders have id null).',
    write: false,
    input: { ref: Ref, bucket: Bucket, prefix: z.string().default(''), limit: z.number().int().min(1).max(1000).default(100) },
    run: async ({ ref, bucket, prefix, limit }, ctx) =>
      ctx.peer.project(ref, `/storage/v1/object/list/${encodeURIComponent(bucket)}`, { method: 'POST', headers: await asService(ctx, ref), json: { prefix, limit } }),
  }),
  defineTool({
    name: 'storage_upload_object',
    description: 'Uploads (or with upsert replaces) one object, content as UTF-8 text or base64. Returns {Key, Id}.',
    write: true,
    input: {
      ref: Ref, bucket: Bucket, path: z.string().min(1).max(1024), content: z.string(),
      encoding: z.enum(['utf8', 'base64']).default('utf8'), content_type: z.string().default('application/octet-stream'), upsert: z.boolean().default(false),
    },
    run: async ({ ref, bucket, path, content, encoding, content_type, upsert }, ctx) =>
      ctx.peer.project(ref, `/storage/v1/object/${encodeURIComponent(bucket)}/${objectPath(path)}`, {
        method: 'POST', body: Buffer.from(content, encoding),
        headers: { ...(await asService(ctx, ref)), 'content-type': content_type, 'x-upsert': String(upsert) },
      }),
  }),
  defineTool({
    name: 'storage_delete_objects',
    description: 'Deletes objects of a bucket by path. Returns the objects deleted: [{name, bucket_id, …}] (paths that did not exist are left out).',
    write: true,
    input: { ref: Ref, bucket: Bucket, paths: z.array(z.string().min(1)).min(1).max(1000) },
    run: async ({ ref, bucket, paths }, ctx) =>
      ctx.peer.project(ref, `/storage/v1/object/${encodeURIComponent(bucket)}`, { method: 'DELETE', headers: await asService(ctx, ref), json: { prefixes: paths } }),
  }),
  defineTool({
    name: 'assets_upload',
    description: "Publishes files to the project's static site (assets), many at once: files [{path, content, encoding: utf8|base64}]. " +
      'index.html at the root is the site entry. Up to 25 files are published all-or-nothing; more go in batches of 25 ' +
      '(with progress notifications when the call has a progressToken). Returns {files: [{path, url, size, etag, content_type}]} with each public URL.',
    write: true,
    input: {
      ref: Ref,
      files: z.array(z.object({
        path: z.string().min(1).max(1024).describe('e.g. index.html or assets/app.js'),
        content: z.string(),
        encoding: z.enum(['utf8', 'base64']).default('utf8'),
      })).min(1).max(1000),
    },
    run: async ({ ref, files }, ctx, call) => {
      await ctx.project(ref);
      const published: unknown[] = [];
      const batches = uploadBatches(files);
      await call.progress(0, files.length, `publishing ${files.length} file(s)`);
      for (const batch of batches) {
        const r = await ctx.peer.project<{ files: unknown[] }>(ref, '/assets/admin/v1/upload', {
          method: 'POST', headers: { authorization: `Bearer ${ctx.token}` }, json: { files: batch },
        }).catch((e: Error) => {
          // each batch is all-or-nothing; say what earlier batches already published
          throw published.length ? new Error(`${e.message} (${published.length} of ${files.length} file(s) were published before this)`) : e;
        });
        published.push(...r.files);
        await call.progress(published.length, files.length, `published ${batch[batch.length - 1].path}`);
        await call.log('info', `published ${published.length}/${files.length} file(s)`);
      }
      return { files: published };
    },
  }),
  defineTool({
    name: 'assets_list',
    description: "The static site's files: {files: [{path, url, size, etag, content_type, updated_at}]}.",
    write: false,
    input: { ref: Ref },
    run: async ({ ref }, ctx) => (await ctx.project(ref), ctx.peer.project(ref, '/assets/admin/v1/files', { headers: { authorization: `Bearer ${ctx.token}` } })),
  }),
];
