// Buckets: rows of storage.buckets, written as the caller (so normally only service_role may change them).
import type pg from 'pg';
import { storageErrors } from '../errors.js';
import { bucketId, parseMimeList, parseSizeLimit } from '../keys.js';
import { asService, type Actor, type Tx } from '../db/tx.js';
import { ownerColumns } from './caller.js';

export interface BucketRow {
  id: string;
  name: string;
  owner: string | null;
  owner_id: string | null;
  public: boolean;
  type: string;
  file_size_limit: number | null;
  allowed_mime_types: string[] | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, name, owner, owner_id, public, type, file_size_limit::float8 as file_size_limit, allowed_mime_types, created_at, updated_at';
const SORTABLE = new Set(['id', 'name', 'created_at', 'updated_at']);

export async function findBucket(c: pg.PoolClient, id: string): Promise<BucketRow | null> {
  const { rows } = await c.query<BucketRow>(`select ${COLUMNS} from storage.buckets where id = $1`, [id]);
  return rows[0] ?? null;
}

type Body = Record<string, unknown>;

export function bucketDomain(tx: Tx, maxFileSize: number) {
  return {
    async list(actor: Actor, q: Record<string, unknown>): Promise<BucketRow[]> {
      const limit = Math.min(Math.max(Number(q.limit ?? 1000) || 1000, 1), 1000);
      const offset = Math.max(Number(q.offset ?? 0) || 0, 0);
      const column = typeof q.sortColumn === 'string' && SORTABLE.has(q.sortColumn) ? q.sortColumn : 'name';
      const order = q.sortOrder === 'desc' ? 'desc' : 'asc';
      const search = typeof q.search === 'string' && q.search !== '' ? q.search : null;
      return tx(actor, async (c) => (await c.query<BucketRow>(
        `select ${COLUMNS} from storage.buckets where ($1::text is null or name ilike '%' || $1 || '%')
         order by ${column} ${order} limit $2 offset $3`, [search, limit, offset])).rows);
    },

    async get(actor: Actor, id: string): Promise<BucketRow> {
      const b = await tx(actor, (c) => findBucket(c, bucketId(id)));
      if (!b) throw storageErrors.noSuchBucket();
      return b;
    },

    async create(actor: Actor & { sub?: string }, body: Body): Promise<{ name: string }> {
      const id = bucketId(body.id ?? body.name);
      if (body.name !== undefined && body.name !== id) bucketId(body.name);
      const type = body.type ?? 'STANDARD';
      if (type !== 'STANDARD' && type !== 'ANALYTICS') throw storageErrors.invalidRequest('type must be STANDARD or ANALYTICS');
      const limit = parseSizeLimit(body.file_size_limit ?? body.fileSizeLimit, maxFileSize);
      const mimes = parseMimeList(body.allowed_mime_types ?? body.allowedMimeTypes);
      try {
        await tx(actor, (c) => c.query(
          `insert into storage.buckets (id, name, owner, owner_id, public, file_size_limit, allowed_mime_types, type)
           values ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [id, (body.name as string | undefined) ?? id, ...ownerColumns(actor.sub), body.public === true, limit, mimes, type]));
      } catch (e) {
        if ((e as { code?: string }).code === 'KeyAlreadyExists') throw storageErrors.bucketExists();
        throw e;
      }
      return { name: id };
    },

    async update(actor: Actor, id: string, body: Body): Promise<void> {
      bucketId(id);
      const sets: string[] = [];
      const values: unknown[] = [id];
      const set = (column: string, value: unknown) => {
        values.push(value);
        sets.push(`${column} = $${values.length}`);
      };
      if (body.public !== undefined) set('public', body.public === true);
      if ('file_size_limit' in body) set('file_size_limit', parseSizeLimit(body.file_size_limit, maxFileSize));
      if ('allowed_mime_types' in body) set('allowed_mime_types', parseMimeList(body.allowed_mime_types));
      const n = await tx(actor, async (c) =>
        (await c.query(sets.length ? `update storage.buckets set ${sets.join(', ')} where id = $1` : 'select 1 from storage.buckets where id = $1', values)).rowCount);
      if (!n) throw storageErrors.noSuchBucket();
    },

    /** Deletes the bucket's objects the caller may delete; returns their backend versions for removal. */
    async empty(actor: Actor, id: string): Promise<string[]> {
      bucketId(id);
      return tx(actor, async (c) => {
        if (!(await c.query('select 1 from storage.buckets where id = $1', [id])).rowCount) throw storageErrors.noSuchBucket();
        const { rows } = await c.query<{ version: string | null }>('delete from storage.objects where bucket_id = $1 returning version', [id]);
        return rows.flatMap((r) => (r.version ? [r.version] : []));
      });
    },

    async remove(actor: Actor, id: string): Promise<void> {
      bucketId(id);
      await tx(actor, async (c) => {
        const used = await asService(c, actor, async () => (await c.query('select 1 from storage.objects where bucket_id = $1 limit 1', [id])).rowCount);
        if (used) throw storageErrors.bucketNotEmpty();
        const { rowCount } = await c.query('delete from storage.buckets where id = $1', [id]).catch((e) => {
          throw e.code === '23503' ? storageErrors.bucketNotEmpty() : e;
        });
        if (!rowCount) throw storageErrors.noSuchBucket();
      });
    },
  };
}

/**
 * A bucket as Storage's bucketSchema serialises it: GET /bucket/{id} selects id, name, owner, public, limits and
 * dates (no type, no owner_id); the list adds type unless the client is a supabase-py/storage3 too old for it. A
 * missing owner is "" (the schema's owner is a non-nullable string).
 */
export function bucketJson(b: BucketRow, opts: { type: boolean }) {
  return {
    id: b.id, name: b.name, owner: b.owner ?? '', public: b.public, ...(opts.type ? { type: b.type } : {}),
    file_size_limit: b.file_size_limit, allowed_mime_types: b.allowed_mime_types, created_at: b.created_at, updated_at: b.updated_at,
  };
}

/** Whether `header` names `client` at a version below `version` (x-client-info `supabase-py/2.17.0`, user-agent `storage3/0.12.0`). */
export function clientBefore(client: string, header: string | undefined, version: string): boolean {
  const m = new RegExp(`(?:^|[\\s;,])${client}/(\\d+)\\.(\\d+)\\.(\\d+)`).exec(header ?? '');
  if (!m) return false;
  const want = version.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (Number(m[i + 1]) !== want[i]) return Number(m[i + 1]) < want[i];
  return false;
}
