// SQL of platform.api_keys: a project's publishable and secret API keys (hash for lookup, sealed for reveal).
import type pg from 'pg';

export interface ApiKeyRecord {
  id: string;
  ref: string;
  type: 'publishable' | 'secret';
  name: string;
  description: string | null;
  key_hash: string;
  key_enc: string;
  prefix: string;
  created_at: Date;
  updated_at: Date;
}

export function apiKeysDb(db: pg.Pool) {
  return {
    async list(ref: string): Promise<ApiKeyRecord[]> {
      return (await db.query<ApiKeyRecord>('select * from platform.api_keys where ref = $1 order by created_at, id', [ref])).rows;
    },
    async get(ref: string, id: string): Promise<ApiKeyRecord | null> {
      return (await db.query<ApiKeyRecord>('select * from platform.api_keys where ref = $1 and id = $2', [ref, id])).rows[0] ?? null;
    },
    /** null when the project already has a key of that name */
    async insert(k: Pick<ApiKeyRecord, 'ref' | 'type' | 'name' | 'description' | 'key_hash' | 'key_enc' | 'prefix'>): Promise<ApiKeyRecord | null> {
      const { rows } = await db.query<ApiKeyRecord>(
        `insert into platform.api_keys (ref, type, name, description, key_hash, key_enc, prefix) values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (ref, name) do nothing returning *`,
        [k.ref, k.type, k.name, k.description, k.key_hash, k.key_enc, k.prefix],
      );
      return rows[0] ?? null;
    },
    async remove(ref: string, id: string): Promise<ApiKeyRecord | null> {
      return (await db.query<ApiKeyRecord>('delete from platform.api_keys where ref = $1 and id = $2 returning *', [ref, id])).rows[0] ?? null;
    },
  };
}

export type ApiKeysDb = ReturnType<typeof apiKeysDb>;
