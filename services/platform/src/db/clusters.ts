// Clusters that hold project databases; placement picks one per new project.
import type pg from 'pg';

export interface ClusterRecord {
  id: string;
  admin_url_enc: string;
  replica_url_enc: string | null;
  accepts_new_projects: boolean;
  created_at: Date;
}

export const clustersDb = (db: pg.Pool) => ({
  async upsert(id: string, adminUrlEnc: string): Promise<void> {
    await db.query(
      `insert into platform.clusters (id, admin_url_enc) values ($1, $2)
       on conflict (id) do update set admin_url_enc = excluded.admin_url_enc`,
      [id, adminUrlEnc],
    );
  },
  async get(id: string): Promise<ClusterRecord | null> {
    const { rows } = await db.query<ClusterRecord>('select * from platform.clusters where id = $1', [id]);
    return rows[0] ?? null;
  },
  /** Registers a cluster, or changes its connection, replica and placement; returns whether it is new. */
  async register(c: { id: string; adminUrlEnc: string; replicaUrlEnc: string | null; acceptsNewProjects: boolean }): Promise<boolean> {
    const { rows } = await db.query<{ created: boolean }>(
      `insert into platform.clusters (id, admin_url_enc, replica_url_enc, accepts_new_projects) values ($1, $2, $3, $4)
       on conflict (id) do update set admin_url_enc = excluded.admin_url_enc, replica_url_enc = excluded.replica_url_enc,
         accepts_new_projects = excluded.accepts_new_projects
       returning (xmax = 0) as created`,
      [c.id, c.adminUrlEnc, c.replicaUrlEnc, c.acceptsNewProjects],
    );
    return rows[0].created;
  },
  async list(): Promise<(ClusterRecord & { projects: number })[]> {
    const { rows } = await db.query<ClusterRecord & { projects: string }>(
      `select c.*, count(p.ref) as projects from platform.clusters c left join platform.projects p on p.cluster_id = c.id
        group by c.id order by c.created_at, c.id`,
    );
    return rows.map((r) => ({ ...r, projects: Number(r.projects) }));
  },
  async projectsOn(id: string): Promise<string[]> {
    const { rows } = await db.query<{ ref: string }>('select ref from platform.projects where cluster_id = $1 or moving_to = $1', [id]);
    return rows.map((r) => r.ref);
  },
  async remove(id: string): Promise<void> {
    await db.query('delete from platform.clusters where id = $1', [id]);
  },
  /** The cluster with the fewest projects takes the next one. */
  async pickForNewProject(): Promise<{ id: string; admin_url_enc: string }> {
    const { rows } = await db.query(
      `select c.id, c.admin_url_enc from platform.clusters c
         left join platform.projects p on p.cluster_id = c.id
        where c.accepts_new_projects
        group by c.id order by count(p.ref), c.id limit 1`,
    );
    if (!rows[0]) throw new Error('no database cluster is registered');
    return rows[0];
  },
});

export type ClustersDb = ReturnType<typeof clustersDb>;
