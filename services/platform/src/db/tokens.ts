// All SQL of platform tokens.
import type pg from 'pg';

export interface TokenRecord {
  id: string;
  name: string;
  prefix: string;
  project_refs: string[] | null;
  created_at: Date;
  last_used_at: Date | null;
  expires_at: Date | null;
}

const COLUMNS = 'id, name, prefix, project_refs, created_at, last_used_at, expires_at';

export const tokensDb = (db: pg.Pool) => ({
  async insert(t: { name: string; hash: string; prefix: string; projectRefs: string[] | null; expiresAt: Date | null }): Promise<TokenRecord> {
    const { rows } = await db.query<TokenRecord>(
      `insert into platform.tokens (name, token_hash, prefix, project_refs, expires_at) values ($1, $2, $3, $4, $5)
       on conflict (token_hash) do update set name = platform.tokens.name returning ${COLUMNS}`,
      [t.name, t.hash, t.prefix, t.projectRefs, t.expiresAt],
    );
    return rows[0];
  },
  async list(): Promise<TokenRecord[]> {
    const { rows } = await db.query<TokenRecord>(`select ${COLUMNS} from platform.tokens order by created_at`);
    return rows;
  },
  async remove(id: string): Promise<boolean> {
    const { rowCount } = await db.query('delete from platform.tokens where id = $1', [id]);
    return rowCount === 1;
  },
});

export type TokensDb = ReturnType<typeof tokensDb>;
