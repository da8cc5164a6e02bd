// Listing a bucket as the caller (RLS decides what is seen): list (one folder level, Supabase's storage.search)
// and listV2 (keyset pages over names in byte order, optionally grouped by folder).
import type pg from 'pg';
import { storageErrors } from '../errors.js';
import { bucketId } from '../keys.js';
import { asService, type Actor, type Read, type Tx } from '../db/tx.js';
import type { ObjectRow } from './objects.js';
import { findBucket } from './buckets.js';

const likePrefix = (s: string) => s.replace(/[\\%_]/g, (m) => `\\${m}`);
/** a timestamptz as JSON.stringify writes a Date (UTC, milliseconds truncated), whatever the session's time zone */
const isoTime = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** The bucket must exist; it is looked up as the service, since a caller may list a bucket it cannot read. */
async function requireBucket(c: pg.PoolClient, actor: Actor, id: string): Promise<void> {
  if (!(await asService(c, actor, () => findBucket(c, id)))) throw storageErrors.noSuchBucket();
}

export function listingDomain(tx: Tx, read: Read) {
  return {
    /**
     * One folder level as the JSON text of its page, rendered by Postgres: a page of rows parsed into objects (Dates
     * among them) only to be written back as JSON cost the service more CPU than everything else of a list request.
     */
    async list(actor: Actor, bucket: string, body: Record<string, unknown>): Promise<string> {
      bucketId(bucket);
      if (typeof body.prefix !== 'string') throw storageErrors.invalidRequest('prefix is required');
      const folder = body.prefix.replace(/\/+$/, '');
      const level = folder === '' ? 1 : folder.split('/').length + 1;
      const limit = Math.min(Math.max(Number(body.limit ?? 100) || 100, 1), 1000);
      const offset = Math.max(Number(body.offset ?? 0) || 0, 0);
      const sortBy = (body.sortBy ?? {}) as { column?: string; order?: string };
      const column = ['name', 'updated_at', 'created_at', 'last_accessed_at'].includes(sortBy.column ?? '') ? sortBy.column! : 'name';
      const order = String(sortBy.order ?? 'asc').toLowerCase() === 'desc' ? 'desc' : 'asc';
      // search matches the start of an entry's name, case-insensitively, as Supabase's storage.search does
      const search = typeof body.search === 'string' && body.search !== '' ? likePrefix(body.search) : null;
      const orderBy = `${column === 'name' ? 'name collate "C"' : column} ${order}, name collate "C" asc`;
      const [{ page }] = await read<{ page: string }>(actor,
          `with objs as (
             select o.path_tokens[$3] as part, array_length(o.path_tokens, 1) = $3 as is_file, o.*
             from storage.objects o
             where o.bucket_id = $1 and o.name collate "C" like $2 and array_length(o.path_tokens, 1) >= $3
           ), entries as (
             select distinct on (part) part as name, null::uuid as id, null::timestamptz as updated_at, null::timestamptz as created_at,
                    null::timestamptz as last_accessed_at, null::jsonb as metadata
             from objs where not is_file
             union all
             select part, id, updated_at, created_at, last_accessed_at, metadata from objs where is_file
           ), page as (
             select * from entries where ($4::text is null or name ilike $4 || '%')
             order by ${orderBy}
             limit $5 offset $6
           )
           select coalesce(json_agg(json_build_object('name', name, 'id', id, 'updated_at', ${isoTime('updated_at')},
                    'created_at', ${isoTime('created_at')}, 'last_accessed_at', ${isoTime('last_accessed_at')}, 'metadata', metadata)
                  order by ${orderBy}), '[]')::text as page
           from page`,
          [bucket, folder === '' ? '%' : `${likePrefix(folder)}/%`, level, search, limit, offset]);
      // a page with entries proves the bucket exists; only an empty one needs the look-up (as the service)
      if (page === '[]') await tx(actor, (c) => requireBucket(c, actor, bucket));
      return page!;
    },

    /**
     * listV2: keyset pages over names in byte order. `prefix` is a plain name prefix; with_delimiter groups
     * everything below the next "/" into one folder entry. The cursor is the last key of the previous page.
     */
    async listV2(actor: Actor, bucket: string, body: Record<string, unknown>) {
      bucketId(bucket);
      const prefix = typeof body.prefix === 'string' ? body.prefix : '';
      const limit = Math.min(Math.max(Number(body.limit ?? 1000) || 1000, 1), 1000);
      const delimiter = body.with_delimiter === true;
      const sortBy = (body.sortBy ?? {}) as { order?: string };
      const desc = String(sortBy.order ?? 'asc').toLowerCase() === 'desc';
      let after: string | null = null;
      if (typeof body.cursor === 'string' && body.cursor !== '') {
        try {
          after = Buffer.from(body.cursor, 'base64url').toString('utf8');
        } catch {
          throw storageErrors.invalidRequest('invalid cursor');
        }
      }
      return tx(actor, async (c) => {
        await requireBucket(c, actor, bucket);
        const { rows } = await c.query<{ key: string; is_folder: boolean } & Partial<ObjectRow>>(
          `with matched as (
             select o.*, case when $4 and position('/' in substr(o.name, length($2) + 1)) > 0
                      then left(o.name, length($2) + position('/' in substr(o.name, length($2) + 1))) else o.name end as key
             from storage.objects o
             where o.bucket_id = $1 and o.name collate "C" like $3
           ), entries as (
             select key, bool_or(key <> name) as is_folder, (array_agg(id))[1] as id, max(updated_at) as updated_at,
                    max(created_at) as created_at, max(last_accessed_at) as last_accessed_at, (array_agg(metadata))[1] as metadata,
                    (array_agg(version))[1] as version
             from matched group by key
           )
           select * from entries
           where $5::text is null or (case when $6 then key collate "C" < $5 else key collate "C" > $5 end)
           order by key collate "C" ${desc ? 'desc' : 'asc'} limit $7`,
          [bucket, prefix, `${likePrefix(prefix)}%`, delimiter, after, desc, limit + 1]);
        const page = rows.slice(0, limit);
        const hasNext = rows.length > limit;
        return {
          hasNext,
          ...(hasNext ? { nextCursor: Buffer.from(page[page.length - 1].key).toString('base64url') } : {}),
          folders: page.filter((r) => r.is_folder).map((r) => ({ name: r.key.slice(prefix.length).replace(/\/$/, ''), key: r.key })),
          objects: page.filter((r) => !r.is_folder).map((r) => ({
            name: r.key, key: r.key, id: r.id, version: r.version, updated_at: r.updated_at, created_at: r.created_at,
            last_accessed_at: r.last_accessed_at, metadata: r.metadata,
          })),
        };
      });
    },
  };
}
