// SQL of platform.ai_keys: keys are found by the SHA-256 of the secret; the secret itself is never stored.
import type pg from 'pg';

export interface KeyLimits {
  requests_per_minute?: number;
  tokens_per_day?: number;
  cost_per_month_usd?: number;
  allowed_models?: string[];
}

export interface KeyRow {
  id: string;
  ref: string;
  name: string;
  prefix: string;
  limits: KeyLimits;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const COLUMNS = 'id, ref, name, prefix, limits, created_at, last_used_at, revoked_at';

export const keysDb = (db: pg.Pool) => ({
  async insert(ref: string, name: string, hash: string, prefix: string, limits: KeyLimits): Promise<KeyRow> {
    const { rows } = await db.query<KeyRow>(
      `insert into platform.ai_keys (ref, name, key_hash, prefix, limits) values ($1, $2, $3, $4, $5) returning ${COLUMNS}`,
      [ref, name, hash, prefix, JSON.stringify(limits)],
    );
    return rows[0];
  },

  async list(ref: string): Promise<KeyRow[]> {
    return (await db.query<KeyRow>(`select ${COLUMNS} from platform.ai_keys where ref = $1 order by created_at, id`, [ref])).rows;
  },

  async byHash(hash: string): Promise<KeyRow | null> {
    return (await db.query<KeyRow>(`select ${COLUMNS} from platform.ai_keys where key_hash = $1`, [hash])).rows[0] ?? null;
  },

  /** revoked keys stay (usage rows point at them); a second revoke keeps the first time */
  async revoke(ref: string, id: string): Promise<KeyRow | null> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
    const { rows } = await db.query<KeyRow>(
      `update platform.ai_keys set revoked_at = coalesce(revoked_at, now()) where ref = $1 and id = $2 returning ${COLUMNS}`,
      [ref, id],
    );
    return rows[0] ?? null;
  },

  async touch(ids: string[]): Promise<void> {
    if (ids.length) await db.query('update platform.ai_keys set last_used_at = now() where id = any($1::uuid[])', [ids]);
  },
});

export type KeysDb = ReturnType<typeof keysDb>;
