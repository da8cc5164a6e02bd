// A control database is bound to the master key that sealed its secrets (cluster admin URLs, project JWT
// secrets and database passwords). Starting with another key cannot open any of them: that is detected up
// front and explained, instead of surfacing as "Unsupported state or unable to authenticate data" mid-boot.
import type pg from 'pg';
import type { SecretBox } from '@basalt/crypto';

export type MasterKeyCheck =
  | { state: 'fresh' }
  | { state: 'ok' }
  | { state: 'mismatch'; projects: number };

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.Client, 'query'>;

/** Opens one sealed value the control database holds; `fresh` when it holds none yet. */
export async function checkMasterKey(db: Queryable, box: SecretBox): Promise<MasterKeyCheck> {
  const { rows: [tables] } = await db.query<{ clusters: string | null; projects: string | null }>(
    `select to_regclass('platform.clusters')::text as clusters, to_regclass('platform.projects')::text as projects`,
  );
  if (!tables.clusters) return { state: 'fresh' };
  const { rows } = await db.query<{ sealed: string }>(
    `(select admin_url_enc as sealed from platform.clusters order by id = 'default' desc limit 1)
     union all (select jwt_secret_enc from platform.projects limit 1)`,
  );
  if (rows.length === 0) return { state: 'fresh' };
  try {
    for (const r of rows) box.decrypt(r.sealed);
    return { state: 'ok' };
  } catch {
    const projects = tables.projects ? Number((await db.query<{ n: string }>('select count(*) as n from platform.projects')).rows[0].n) : 0;
    return { state: 'mismatch', projects };
  }
}

/** What happened and the ways out, for a person reading a terminal or a pod's log. */
export function masterKeyMismatchMessage(database: string, projects: number): string {
  return [
    `the control database "${database}" was set up with a different master key than the one this process was given`,
    `(BASALT_MASTER_KEY, or .basalt/secrets.json for npm start). Its ${projects} project(s) and their secrets can only be opened with that key.`,
    'Ways out:',
    '  1. restore the original key: put it back in .basalt/secrets.json ("master_key") or set BASALT_MASTER_KEY;',
    `  2. use another control database: set DATABASE_URL to a database other than "${database}";`,
    `  3. start over, dropping "${database}" and every project database it lists: npm start -- --reset-control-db ${database}`,
    'Nothing has been changed.',
  ].join('\n');
}

export class MasterKeyMismatch extends Error {
  constructor(readonly database: string, readonly projects: number) {
    super(masterKeyMismatchMessage(database, projects));
    this.name = 'MasterKeyMismatch';
  }
}

/** Every project database and login role a control database lists (none when it has no platform schema yet). */
export async function projectDatabases(db: Queryable): Promise<{ db_name: string; db_role: string }[]> {
  const { rows: [t] } = await db.query<{ t: string | null }>(`select to_regclass('platform.projects')::text as t`);
  return t.t ? (await db.query<{ db_name: string; db_role: string }>('select db_name, db_role from platform.projects')).rows : [];
}
