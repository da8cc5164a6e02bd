// SQL of moving a project between clusters: the claim (one move at a time), the switch, the release on failure.
import type pg from 'pg';
import { ident } from '@basalt/db';

export const placementDb = (db: pg.Pool) => ({
  /** Marks the project as moving to `target`; false when it is not active or already moving. */
  async claimMove(ref: string, target: string): Promise<boolean> {
    const { rowCount } = await db.query(
      `update platform.projects set moving_to = $2 where ref = $1 and status = 'active' and moving_to is null`,
      [ref, target],
    );
    return (rowCount ?? 0) > 0;
  },
  /** The registry entry now names the new cluster: every service connects there from its next request. */
  async switchCluster(ref: string, target: string): Promise<void> {
    await db.query('update platform.projects set cluster_id = $2, moving_to = null, updated_at = now() where ref = $1', [ref, target]);
  },
  async releaseMove(ref: string): Promise<void> {
    await db.query('update platform.projects set moving_to = null where ref = $1', [ref]);
  },
});

/** The cluster's identity (same on its replicas): two registrations of one server must not move onto themselves. */
export async function systemIdentifier(admin: pg.ClientBase): Promise<string> {
  return (await admin.query<{ id: string }>('select system_identifier::text as id from pg_control_system()')).rows[0].id;
}

export async function isInRecovery(admin: pg.ClientBase): Promise<boolean> {
  return (await admin.query<{ r: boolean }>('select pg_is_in_recovery() as r')).rows[0].r;
}

/**
 * Starts (or ends) a database's read-only window: new sessions default to read-only transactions and the current
 * ones are ended, so each service's next connection is read-only. Returns the sessions ended.
 */
export async function setDatabaseReadOnly(admin: pg.ClientBase, dbName: string, readOnly: boolean): Promise<number> {
  await admin.query(readOnly
    ? `alter database ${ident(dbName)} set default_transaction_read_only = on`
    : `alter database ${ident(dbName)} reset default_transaction_read_only`);
  if (!readOnly) return 0;
  const { rows } = await admin.query<{ n: string }>(
    `select count(pg_terminate_backend(pid)) as n from pg_stat_activity
      where datname = $1 and backend_type = 'client backend' and pid <> pg_backend_pid()`,
    [dbName],
  );
  return Number(rows[0].n);
}
