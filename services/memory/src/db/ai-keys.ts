// Reads platform.ai_keys (owned by the AI gateway) to admit AI keys here too: found by the SHA-256 of the key.
import type pg from 'pg';

export interface AiKeyRow {
  id: string;
  ref: string;
  revoked_at: Date | null;
}

export const aiKeysDb = (control: pg.Pool) => ({
  async byHash(hash: string): Promise<AiKeyRow | null> {
    const { rows } = await control.query<AiKeyRow>('select id, ref, revoked_at from platform.ai_keys where key_hash = $1', [hash]);
    return rows[0] ?? null;
  },
});

export type AiKeysDb = ReturnType<typeof aiKeysDb>;
