// platform.storage_s3_keys: every project's S3 protocol access keys, the secret sealed.
import type pg from 'pg';

export interface S3KeyRow {
  access_key_id: string;
  ref: string;
  secret_sealed: string;
  description: string;
  created_at: Date;
}

export const s3KeysDb = (control: pg.Pool) => ({
  async insert(row: Omit<S3KeyRow, 'created_at'>): Promise<S3KeyRow> {
    const { rows } = await control.query<S3KeyRow>(
      `insert into platform.storage_s3_keys (access_key_id, ref, secret_sealed, description) values ($1, $2, $3, $4) returning *`,
      [row.access_key_id, row.ref, row.secret_sealed, row.description]);
    return rows[0];
  },
  async list(ref: string): Promise<S3KeyRow[]> {
    return (await control.query<S3KeyRow>('select * from platform.storage_s3_keys where ref = $1 order by created_at, access_key_id', [ref])).rows;
  },
  async count(ref: string): Promise<number> {
    return Number((await control.query<{ n: string }>('select count(*) as n from platform.storage_s3_keys where ref = $1', [ref])).rows[0].n);
  },
  /** the key of one project: an access key id of another project is not found here */
  async find(ref: string, accessKeyId: string): Promise<S3KeyRow | null> {
    return (await control.query<S3KeyRow>('select * from platform.storage_s3_keys where ref = $1 and access_key_id = $2', [ref, accessKeyId])).rows[0] ?? null;
  },
  async remove(ref: string, accessKeyId: string): Promise<boolean> {
    return ((await control.query('delete from platform.storage_s3_keys where ref = $1 and access_key_id = $2', [ref, accessKeyId])).rowCount ?? 0) > 0;
  },
});

export type S3KeysDb = ReturnType<typeof s3KeysDb>;
