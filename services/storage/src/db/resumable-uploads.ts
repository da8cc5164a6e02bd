// storage.resumable_uploads: TUS uploads in progress. Only the service touches it (as service_role); a chunk is
// placed with the upload's row locked, so two PATCHes never write the same place of one object.
import type pg from 'pg';

export interface ResumableRow {
  id: string;
  bucket_id: string;
  name: string;
  owner_id: string | null;
  upsert: boolean;
  content_type: string;
  cache_control: string;
  user_metadata: Record<string, unknown> | null;
  upload_length: number;
  upload_offset: number;
  version: string;
  s3_upload_id: string | null;
  parts: { part: number; etag: string }[];
}

export type NewResumable = Omit<ResumableRow, 'upload_offset' | 'parts'>;

const COLUMNS = `id, bucket_id, name, owner_id, upsert, content_type, cache_control, user_metadata, upload_length::float8 as upload_length,
  upload_offset::float8 as upload_offset, version, s3_upload_id, parts`;

export const resumableUploads = {
  async insert(c: pg.PoolClient, u: NewResumable): Promise<ResumableRow> {
    return (await c.query<ResumableRow>(
      `insert into storage.resumable_uploads (id, bucket_id, name, owner_id, upsert, content_type, cache_control, user_metadata, upload_length, version, s3_upload_id)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning ${COLUMNS}`,
      [u.id, u.bucket_id, u.name, u.owner_id, u.upsert, u.content_type, u.cache_control, u.user_metadata, u.upload_length, u.version, u.s3_upload_id])).rows[0];
  },

  async find(c: pg.PoolClient, id: string): Promise<ResumableRow | null> {
    return (await c.query<ResumableRow>(`select ${COLUMNS} from storage.resumable_uploads where id = $1`, [id])).rows[0] ?? null;
  },

  /**
   * Locks the upload's row until the transaction ends, or says at once that another transaction holds it (skip
   * locked, so nothing waits and the transaction stays usable): 'locked', or null when there is no such upload.
   */
  async claim(c: pg.PoolClient, id: string): Promise<Pick<ResumableRow, 'upload_offset' | 'parts'> | 'locked' | null> {
    const { rows } = await c.query<Pick<ResumableRow, 'upload_offset' | 'parts'>>(
      'select upload_offset::float8 as upload_offset, parts from storage.resumable_uploads where id = $1 for update skip locked', [id]);
    if (rows[0]) return rows[0];
    return (await c.query('select 1 from storage.resumable_uploads where id = $1', [id])).rowCount ? 'locked' : null;
  },

  async advance(c: pg.PoolClient, id: string, offset: number, parts: ResumableRow['parts']): Promise<void> {
    await c.query('update storage.resumable_uploads set upload_offset = $2, parts = $3, updated_at = now() where id = $1', [id, offset, JSON.stringify(parts)]);
  },

  async remove(c: pg.PoolClient, id: string): Promise<void> {
    await c.query('delete from storage.resumable_uploads where id = $1', [id]);
  },
};
