// All control-plane SQL of the documents service: rules, credentials and the TTL project list.
import type pg from 'pg';

export interface CredentialRow { username: string; ref: string; role: string; claims: Record<string, unknown> | null; salt: Buffer; iterations: number; stored_key: Buffer; server_key: Buffer; created_at: Date }

export const controlDb = (db: pg.Pool) => ({
  async getRules(ref: string, collection: string): Promise<unknown | null> {
    const { rows } = await db.query('select rules from platform.documents_rules where ref = $1 and collection = $2', [ref, collection]);
    return rows[0]?.rules ?? null;
  },
  async listRules(ref: string): Promise<{ collection: string; rules: unknown; updated_at: Date }[]> {
    return (await db.query('select collection, rules, updated_at from platform.documents_rules where ref = $1 order by collection', [ref])).rows;
  },
  async putRules(ref: string, collection: string, rules: unknown): Promise<void> {
    await db.query(
      `insert into platform.documents_rules (ref, collection, rules) values ($1, $2, $3)
       on conflict (ref, collection) do update set rules = excluded.rules, updated_at = now()`,
      [ref, collection, JSON.stringify(rules)],
    );
  },
  async deleteRules(ref: string, collection: string): Promise<boolean> {
    return ((await db.query('delete from platform.documents_rules where ref = $1 and collection = $2', [ref, collection])).rowCount ?? 0) > 0;
  },
  async addCredential(c: Omit<CredentialRow, 'created_at'>): Promise<void> {
    await db.query(
      'insert into platform.documents_credentials (username, ref, role, claims, salt, iterations, stored_key, server_key) values ($1, $2, $3, $4, $5, $6, $7, $8)',
      [c.username, c.ref, c.role, c.claims === null ? null : JSON.stringify(c.claims), c.salt, c.iterations, c.stored_key, c.server_key],
    );
  },
  async credential(username: string): Promise<CredentialRow | null> {
    return (await db.query('select * from platform.documents_credentials where username = $1', [username])).rows[0] ?? null;
  },
  async listCredentials(ref: string): Promise<{ username: string; role: string; claims: unknown; created_at: Date }[]> {
    return (await db.query('select username, role, claims, created_at from platform.documents_credentials where ref = $1 order by created_at', [ref])).rows;
  },
  async deleteCredential(ref: string, username: string): Promise<boolean> {
    return ((await db.query('delete from platform.documents_credentials where ref = $1 and username = $2', [ref, username])).rowCount ?? 0) > 0;
  },
  async markTtl(ref: string): Promise<void> {
    await db.query('insert into platform.documents_ttl (ref) values ($1) on conflict do nothing', [ref]);
  },
  async ttlProjects(): Promise<string[]> {
    return (await db.query('select ref from platform.documents_ttl')).rows.map((r) => r.ref);
  },
});

export type ControlDb = ReturnType<typeof controlDb>;
