// All SQL of custom-domain claims in the control database: pending claims with a challenge, at most one active
// claim per domain (a partial unique index), expired pending claims pruned on the way.
import type pg from 'pg';
import { withTransaction } from '@basalt/db';

export interface CustomDomainRecord {
  domain: string;
  ref: string;
  status: 'pending' | 'active';
  token: string | null;
  expires_at: Date | null;
  verified_at: Date | null;
  verified_via: 'txt' | 'http' | 'grandfathered' | null;
  created_at: Date;
}

export type ClaimResult = { claim: CustomDomainRecord; created: boolean } | { activeElsewhere: true };

const LIVE = `(status = 'active' or expires_at > now())`;

export function customDomainsDb(db: pg.Pool) {
  const find = async (ref: string, domain: string): Promise<CustomDomainRecord | null> => {
    const { rows } = await db.query<CustomDomainRecord>(
      `select * from platform.custom_domains where ref = $1 and domain = $2 and ${LIVE}`,
      [ref, domain],
    );
    return rows[0] ?? null;
  };
  return {
    find,
    /** Expired pending claims are treated as absent everywhere; this removes them for good. */
    async pruneExpired(): Promise<void> {
      await db.query(`delete from platform.custom_domains where status = 'pending' and expires_at <= now()`);
    },
    /** A new pending claim, or this project's existing one; refused while another project has the domain active. */
    async claim(ref: string, domain: string, token: string, ttlMs: number): Promise<ClaimResult> {
      const { rows } = await db.query<CustomDomainRecord>(
        `insert into platform.custom_domains (domain, ref, status, token, expires_at)
         select $1, $2, 'pending', $3, now() + make_interval(secs => $4::double precision / 1000)
          where not exists (select 1 from platform.custom_domains where domain = $1 and ref <> $2 and status = 'active')
         on conflict (domain, ref) do nothing
         returning *`,
        [domain, ref, token, ttlMs],
      );
      if (rows[0]) return { claim: rows[0], created: true };
      const own = await find(ref, domain);
      return own ? { claim: own, created: false } : { activeElsewhere: true };
    },
    async activeOwner(domain: string): Promise<string | null> {
      const { rows } = await db.query<{ ref: string }>(`select ref from platform.custom_domains where domain = $1 and status = 'active'`, [domain]);
      return rows[0]?.ref ?? null;
    },
    async list(ref: string): Promise<CustomDomainRecord[]> {
      const { rows } = await db.query<CustomDomainRecord>(
        `select * from platform.custom_domains where ref = $1 and ${LIVE} order by domain`,
        [ref],
      );
      return rows;
    },
    /**
     * The claim turns active and every other project's pending claim on the domain goes, in one transaction.
     * Null when the claim is gone or expired; a concurrent winner surfaces as the unique index's 23505.
     */
    async activate(ref: string, domain: string, via: 'txt' | 'http'): Promise<CustomDomainRecord | null> {
      return withTransaction(db, async (tx) => {
        const { rows } = await tx.query<CustomDomainRecord>(
          `update platform.custom_domains
              set status = 'active', verified_at = now(), verified_via = $3, token = null, expires_at = null
            where ref = $1 and domain = $2 and status = 'pending' and expires_at > now()
            returning *`,
          [ref, domain, via],
        );
        if (!rows[0]) return null;
        await tx.query(`delete from platform.custom_domains where domain = $1 and ref <> $2 and status = 'pending'`, [domain, ref]);
        return rows[0];
      });
    },
    async remove(ref: string, domain: string): Promise<CustomDomainRecord | null> {
      const { rows } = await db.query<CustomDomainRecord>(
        'delete from platform.custom_domains where ref = $1 and domain = $2 returning *',
        [ref, domain],
      );
      return rows[0] ?? null;
    },
  };
}

export type CustomDomainsDb = ReturnType<typeof customDomainsDb>;
