// All SQL of platform.backups and platform.backup_restores. Claiming a job for a project locks the project's row,
// so a backup of a project and a restore into it can never both be pending or running.
import type pg from 'pg';

export type JobStatus = 'pending' | 'running' | 'done' | 'failed';

export interface BackupRecord {
  id: string;
  ref: string;
  kind: 'nightly' | 'manual';
  status: JobStatus;
  location: string | null;
  db_bytes: string | null;
  object_bytes: string | null;
  object_count: number | null;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface RestoreRecord {
  id: string;
  backup_id: string;
  target_ref: string;
  status: JobStatus;
  error: string | null;
  created_at: Date;
  finished_at: Date | null;
}

/** Why a job could not be claimed: the project is gone, or another job of it is pending or running. */
export type ClaimRefusal = 'no_project' | 'busy';

const ACTIVE = `status in ('pending', 'running')`;

export function backupsDb(db: pg.Pool) {
  /** Runs fn with the project's row locked and no job of it active; the refusal otherwise. */
  async function whileIdle<T>(ref: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T | ClaimRefusal> {
    const c = await db.connect();
    try {
      await c.query('begin');
      const p = await c.query(`select 1 from platform.projects where ref = $1 and status = 'active' for update`, [ref]);
      if (!p.rowCount) return (await c.query('rollback'), 'no_project');
      const busy = await c.query(
        `select 1 from platform.backups where ref = $1 and ${ACTIVE}
         union all select 1 from platform.backup_restores where target_ref = $1 and ${ACTIVE}`, [ref]);
      if (busy.rowCount) return (await c.query('rollback'), 'busy');
      const out = await fn(c);
      await c.query('commit');
      return out;
    } catch (e) {
      await c.query('rollback').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  return {
    async claimBackup(ref: string, kind: BackupRecord['kind']): Promise<BackupRecord | ClaimRefusal> {
      return whileIdle(ref, async (c) =>
        (await c.query<BackupRecord>('insert into platform.backups (ref, kind) values ($1, $2) returning *', [ref, kind])).rows[0]);
    },
    async claimRestore(backupId: string, targetRef: string): Promise<RestoreRecord | ClaimRefusal> {
      return whileIdle(targetRef, async (c) => (await c.query<RestoreRecord>(
        'insert into platform.backup_restores (backup_id, target_ref) values ($1, $2) returning *', [backupId, targetRef])).rows[0]);
    },
    async find(ref: string, id: string): Promise<BackupRecord | null> {
      return (await db.query<BackupRecord>('select * from platform.backups where ref = $1 and id = $2', [ref, id])).rows[0] ?? null;
    },
    async list(ref: string): Promise<BackupRecord[]> {
      return (await db.query<BackupRecord>('select * from platform.backups where ref = $1 order by created_at desc, id', [ref])).rows;
    },
    async findRestore(backupId: string, id: string): Promise<RestoreRecord | null> {
      return (await db.query<RestoreRecord>('select * from platform.backup_restores where backup_id = $1 and id = $2', [backupId, id])).rows[0] ?? null;
    },
    async startBackup(id: string, location: string): Promise<void> {
      await db.query(`update platform.backups set status = 'running', location = $2, started_at = now(), heartbeat_at = now() where id = $1`, [id, location]);
    },
    async finishBackup(id: string, sizes: { dbBytes: number; objectBytes: number; objectCount: number }): Promise<void> {
      await db.query(
        `update platform.backups set status = 'done', db_bytes = $2, object_bytes = $3, object_count = $4, finished_at = now() where id = $1`,
        [id, sizes.dbBytes, sizes.objectBytes, sizes.objectCount]);
    },
    async failBackup(id: string, error: string): Promise<void> {
      await db.query(`update platform.backups set status = 'failed', error = $2, finished_at = now() where id = $1`, [id, error]);
    },
    async startRestore(id: string): Promise<void> {
      await db.query(`update platform.backup_restores set status = 'running', heartbeat_at = now() where id = $1`, [id]);
    },
    async finishRestore(id: string, error: string | null): Promise<void> {
      await db.query(`update platform.backup_restores set status = $2, error = $3, finished_at = now() where id = $1`,
        [id, error === null ? 'done' : 'failed', error]);
    },
    /** Keeps the jobs this replica works on alive, so the scheduler does not take them for abandoned. */
    async heartbeat(backupIds: string[], restoreIds: string[]): Promise<void> {
      if (backupIds.length) await db.query('update platform.backups set heartbeat_at = now() where id = any($1::uuid[])', [backupIds]);
      if (restoreIds.length) await db.query('update platform.backup_restores set heartbeat_at = now() where id = any($1::uuid[])', [restoreIds]);
    },
    /** Jobs whose replica stopped beating (a crash, a kill) are failed, which frees their project for the next job. */
    async failAbandoned(staleMs: number): Promise<{ backups: BackupRecord[]; restores: number }> {
      const b = await db.query<BackupRecord>(
        `update platform.backups set status = 'failed', error = 'interrupted: the replica running it stopped', finished_at = now()
          where ${ACTIVE} and heartbeat_at < now() - make_interval(secs => $1) returning *`, [staleMs / 1000]);
      const r = await db.query(
        `update platform.backup_restores set status = 'failed', error = 'interrupted: the replica running it stopped', finished_at = now()
          where ${ACTIVE} and heartbeat_at < now() - make_interval(secs => $1)`, [staleMs / 1000]);
      return { backups: b.rows, restores: r.rowCount ?? 0 };
    },
    /** Active projects with no nightly backup created since `since` (the start of today's backup hour). */
    async dueForNightly(since: Date): Promise<string[]> {
      const { rows } = await db.query<{ ref: string }>(
        `select p.ref from platform.projects p where p.status = 'active'
            and not exists (select 1 from platform.backups b where b.ref = p.ref and b.kind = 'nightly' and b.created_at >= $1)
          order by p.created_at`, [since]);
      return rows.map((r) => r.ref);
    },
    /** Finished backups, with whether their project still exists: what retention looks at. */
    async finished(): Promise<(BackupRecord & { project_exists: boolean })[]> {
      return (await db.query<BackupRecord & { project_exists: boolean }>(
        `select b.*, exists (select 1 from platform.projects p where p.ref = b.ref) as project_exists
           from platform.backups b where b.status in ('done', 'failed')
            and not exists (select 1 from platform.backup_restores r where r.backup_id = b.id and r.${ACTIVE})`)).rows;
    },
    async remove(id: string): Promise<void> {
      await db.query('delete from platform.backups where id = $1', [id]);
    },
  };
}

export type BackupsDb = ReturnType<typeof backupsDb>;
