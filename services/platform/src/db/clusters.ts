// Clusters that hold project databases; placement picks one per new project.
import type pg from 'pg';

export const clustersDb = (db: pg.Pool) => ({
  async upsert(id: string, adminUrlEnc: string): Promise<void> {
    await db.query(
      `insert into platform.clusters (id, admin_url_enc) values ($1, $2)
       on conflict (id) do update set admin_url_enc = excluded.admin_url_enc`,
      [id, adminUrlEnc],
    );
  },
  async get(id: string): Promise<{ id: string; admin_url_enc: string } | null> {
    const { rows } = await db.query('select id, admin_url_enc from platform.clusters where id = $1', [id]);
    return rows[0] ?? null;
  },
  /** The cluster with the fewest projects takes the next one. */
  async pickForNewProject(): Promise<{ id: string; admin_url_enc: string }> {
    const { rows } = await db.query(
      `select c.id, c.admin_url_enc from platform.clusters c
         left join platform.projects p on p.cluster_id = c.id
        group by c.id order by count(p.ref), c.id limit 1`,
    );
    if (!rows[0]) throw new Error('no database cluster is registered');
    return rows[0];
  },
});

export type ClustersDb = ReturnType<typeof clustersDb>;
