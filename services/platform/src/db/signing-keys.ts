// SQL of platform.signing_keys: a project's asymmetric JWT signing keys and their status.
import type pg from 'pg';
import { withTransaction } from '@basalt/db';

export type SigningKeyStatus = 'in_use' | 'standby' | 'previously_used' | 'revoked';

export interface SigningKeyRecord {
  id: string;
  ref: string;
  algorithm: 'ES256' | 'RS256' | 'EdDSA';
  status: SigningKeyStatus;
  public_jwk: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, ref, algorithm, status, public_jwk, created_at, updated_at';

export function signingKeysDb(db: pg.Pool) {
  return {
    async list(ref: string): Promise<SigningKeyRecord[]> {
      return (await db.query<SigningKeyRecord>(`select ${COLUMNS} from platform.signing_keys where ref = $1 order by created_at, id`, [ref])).rows;
    },

    async get(ref: string, id: string): Promise<SigningKeyRecord | null> {
      return (await db.query<SigningKeyRecord>(`select ${COLUMNS} from platform.signing_keys where ref = $1 and id = $2`, [ref, id])).rows[0] ?? null;
    },

    /** Inserts the key; one going into use moves the key in use to previously_used in the same transaction. */
    async insert(k: { id: string; ref: string; algorithm: string; status: 'in_use' | 'standby'; publicJwk: object; privateJwkEnc: string }): Promise<SigningKeyRecord> {
      return withTransaction(db, async (c) => {
        if (k.status === 'in_use') await retireInUse(c, k.ref);
        const { rows } = await c.query<SigningKeyRecord>(
          `insert into platform.signing_keys (id, ref, algorithm, status, public_jwk, private_jwk_enc) values ($1, $2, $3, $4, $5, $6) returning ${COLUMNS}`,
          [k.id, k.ref, k.algorithm, k.status, k.publicJwk, k.privateJwkEnc],
        );
        return rows[0];
      });
    },

    async setStatus(ref: string, id: string, status: SigningKeyStatus): Promise<SigningKeyRecord | null> {
      return withTransaction(db, async (c) => {
        if (status === 'in_use') await retireInUse(c, ref, id);
        const { rows } = await c.query<SigningKeyRecord>(
          `update platform.signing_keys set status = $3, updated_at = now() where ref = $1 and id = $2 returning ${COLUMNS}`,
          [ref, id, status],
        );
        return rows[0] ?? null;
      });
    },

    async remove(ref: string, id: string): Promise<boolean> {
      return ((await db.query('delete from platform.signing_keys where ref = $1 and id = $2', [ref, id])).rowCount ?? 0) > 0;
    },
  };
}

async function retireInUse(c: pg.PoolClient, ref: string, except?: string): Promise<void> {
  await c.query(
    `update platform.signing_keys set status = 'previously_used', updated_at = now() where ref = $1 and status = 'in_use' and id <> coalesce($2::uuid, '00000000-0000-0000-0000-000000000000')`,
    [ref, except ?? null],
  );
}

export type SigningKeysDb = ReturnType<typeof signingKeysDb>;
