// SQL of platform.ai_providers. The api key is stored sealed (api_key_enc) and never selected for listings.
import type pg from 'pg';

export type ProviderType = 'openai' | 'anthropic' | 'openai_compatible';

export interface ProviderRow {
  id: string;
  name: string;
  type: ProviderType;
  base_url: string | null;
  has_api_key: boolean;
  timeout_ms: number | null;
  created_at: Date;
  updated_at: Date;
}

export interface SealedProvider {
  name: string;
  type: ProviderType;
  base_url: string | null;
  api_key_enc: string | null;
  timeout_ms: number | null;
}

const COLUMNS = 'id, name, type, base_url, api_key_enc is not null as has_api_key, timeout_ms, created_at, updated_at';

export const providersDb = (db: pg.Pool) => ({
  async list(ref: string): Promise<ProviderRow[]> {
    return (await db.query<ProviderRow>(`select ${COLUMNS} from platform.ai_providers where ref = $1 order by name`, [ref])).rows;
  },

  async get(ref: string, name: string): Promise<ProviderRow | null> {
    return (await db.query<ProviderRow>(`select ${COLUMNS} from platform.ai_providers where ref = $1 and name = $2`, [ref, name])).rows[0] ?? null;
  },

  /** with their sealed keys, for the request path only */
  async sealed(ref: string): Promise<SealedProvider[]> {
    const q = 'select name, type, base_url, api_key_enc, timeout_ms from platform.ai_providers where ref = $1';
    return (await db.query<SealedProvider>(q, [ref])).rows;
  },

  /** null when the name is taken */
  async insert(ref: string, p: SealedProvider): Promise<ProviderRow | null> {
    const { rows } = await db.query<ProviderRow>(
      `insert into platform.ai_providers (ref, name, type, base_url, api_key_enc, timeout_ms) values ($1, $2, $3, $4, $5, $6)
       on conflict (ref, name) do nothing returning ${COLUMNS}`,
      [ref, p.name, p.type, p.base_url, p.api_key_enc, p.timeout_ms],
    );
    return rows[0] ?? null;
  },

  /** `undefined` fields are left as they are */
  async update(ref: string, name: string, p: { base_url?: string | null; api_key_enc?: string; timeout_ms?: number | null }): Promise<ProviderRow | null> {
    const { rows } = await db.query<ProviderRow>(
      `update platform.ai_providers set
         base_url = case when $3 then $4 else base_url end,
         api_key_enc = coalesce($5, api_key_enc),
         timeout_ms = case when $6 then $7 else timeout_ms end,
         updated_at = now()
       where ref = $1 and name = $2 returning ${COLUMNS}`,
      [ref, name, p.base_url !== undefined, p.base_url ?? null, p.api_key_enc ?? null, p.timeout_ms !== undefined, p.timeout_ms ?? null],
    );
    return rows[0] ?? null;
  },

  /** the models routed to the provider (as primary or fallback), which keep it from being deleted */
  async usedBy(ref: string, name: string): Promise<string[]> {
    const { rows } = await db.query<{ model: string }>(
      `select model from platform.ai_routes where ref = $1 and (provider = $2 or $2 = any(fallbacks)
         or exists (select 1 from unnest(fallbacks) f where f like $2 || '/%')) order by position`,
      [ref, name],
    );
    return rows.map((r) => r.model);
  },

  async remove(ref: string, name: string): Promise<boolean> {
    return ((await db.query('delete from platform.ai_providers where ref = $1 and name = $2', [ref, name])).rowCount ?? 0) > 0;
  },
});

export type ProvidersDb = ReturnType<typeof providersDb>;
