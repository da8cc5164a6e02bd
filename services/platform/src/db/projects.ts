// All SQL of the projects aggregate in the control database.
import type pg from 'pg';

export interface ProjectRecord {
  ref: string;
  name: string;
  status: string;
  cluster_id: string;
  db_name: string;
  db_role: string;
  db_password_enc: string;
  jwt_secret_enc: string;
  anon_key_enc: string;
  service_key_enc: string;
  settings: Record<string, unknown>;
  plan: string;
  created_at: Date;
  updated_at: Date;
  /** set while the project sleeps (domain/sleep.ts) */
  sleeping_at?: Date | null;
  /** the cluster a move is copying the project to (domain/placement.ts) */
  moving_to?: string | null;
}

export interface NewProject {
  ref: string;
  name: string;
  clusterId: string;
  dbName: string;
  dbRole: string;
  dbPasswordEnc: string;
  jwtSecretEnc: string;
  anonKeyEnc: string;
  serviceKeyEnc: string;
  plan: string;
}

export const projectsDb = (db: pg.Pool) => ({
  async insert(p: NewProject): Promise<ProjectRecord> {
    const { rows } = await db.query<ProjectRecord>(
      `insert into platform.projects (ref, name, cluster_id, db_name, db_role, db_password_enc, jwt_secret_enc, anon_key_enc, service_key_enc, plan)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning *`,
      [p.ref, p.name, p.clusterId, p.dbName, p.dbRole, p.dbPasswordEnc, p.jwtSecretEnc, p.anonKeyEnc, p.serviceKeyEnc, p.plan],
    );
    return rows[0];
  },
  async setStatus(ref: string, status: 'active' | 'deleting'): Promise<void> {
    await db.query('update platform.projects set status = $2, updated_at = now() where ref = $1', [ref, status]);
  },
  async find(ref: string): Promise<ProjectRecord | null> {
    const { rows } = await db.query<ProjectRecord>('select * from platform.projects where ref = $1', [ref]);
    return rows[0] ?? null;
  },
  async list(refs: string[] | null): Promise<ProjectRecord[]> {
    const { rows } = await db.query<ProjectRecord>(
      `select * from platform.projects where status = 'active' and ($1::text[] is null or ref = any($1)) order by created_at`,
      [refs],
    );
    return rows;
  },
  async update(ref: string, patch: { name?: string; settings?: Record<string, unknown> }): Promise<ProjectRecord | null> {
    const { rows } = await db.query<ProjectRecord>(
      `update platform.projects set name = coalesce($2, name), settings = settings || coalesce($3, '{}'::jsonb), updated_at = now()
        where ref = $1 and status = 'active' returning *`,
      [ref, patch.name ?? null, patch.settings ? JSON.stringify(patch.settings) : null],
    );
    return rows[0] ?? null;
  },
  async rotateKeys(ref: string, keys: { jwtSecretEnc: string; anonKeyEnc: string; serviceKeyEnc: string }): Promise<ProjectRecord | null> {
    const { rows } = await db.query<ProjectRecord>(
      `update platform.projects set jwt_secret_enc = $2, anon_key_enc = $3, service_key_enc = $4, updated_at = now()
        where ref = $1 and status = 'active' returning *`,
      [ref, keys.jwtSecretEnc, keys.anonKeyEnc, keys.serviceKeyEnc],
    );
    return rows[0] ?? null;
  },
  async remove(ref: string): Promise<void> {
    await db.query('delete from platform.projects where ref = $1', [ref]);
  },
});

export type ProjectsDb = ReturnType<typeof projectsDb>;
