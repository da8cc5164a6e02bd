// SQL of platform.ai_routes: the table is read and replaced as a whole, in order.
import type pg from 'pg';
import { withTransaction } from '@basalt/db';

export interface RouteRow {
  model: string;
  provider: string;
  upstream_model: string | null;
  fallbacks: string[];
}

export const routesDb = (db: pg.Pool) => ({
  async list(ref: string): Promise<RouteRow[]> {
    const q = 'select model, provider, upstream_model, fallbacks from platform.ai_routes where ref = $1 order by position';
    return (await db.query<RouteRow>(q, [ref])).rows;
  },

  async replace(ref: string, routes: RouteRow[]): Promise<void> {
    await withTransaction(db, async (tx) => {
      await tx.query('delete from platform.ai_routes where ref = $1', [ref]);
      if (routes.length === 0) return;
      await tx.query(
        `insert into platform.ai_routes (ref, position, model, provider, upstream_model, fallbacks)
         select $1, r.position, r.model, r.provider, r.upstream_model, array(select jsonb_array_elements_text(r.fallbacks))
           from jsonb_to_recordset($2::jsonb) as r(position int, model text, provider text, upstream_model text, fallbacks jsonb)`,
        [ref, JSON.stringify(routes.map((r, position) => ({ ...r, position })))],
      );
    });
  },
});

export type RoutesDb = ReturnType<typeof routesDb>;
