// All SQL that reads and sets a project database's plan limits on its cluster, as the cluster's admin: the login
// role's connection limit and statement_timeout, the database's size and its default_transaction_read_only.
import type pg from 'pg';
import { ident, literal } from '@basalt/db';

export interface TenantLimits {
  dbName: string;
  dbRole: string;
  connectionLimit: number;
  /** the login role's statement_timeout setting as stored (`8000ms`), or null when it has none */
  statementTimeout: string | null;
  readOnly: boolean;
  /** bytes, when asked for */
  size: number | null;
}

const setting = (config: string[] | null, name: string): string | null => {
  const entry = (config ?? []).find((c) => c.startsWith(`${name}=`));
  return entry === undefined ? null : entry.slice(name.length + 1);
};

/** The limits in force for these projects; `sized` names the databases whose size is wanted (it costs a directory walk). */
export async function readTenantLimits(c: pg.Client, projects: { dbName: string; dbRole: string }[], sized: string[]): Promise<TenantLimits[]> {
  const { rows } = await c.query<{ datname: string; rolname: string | null; rolconnlimit: number | null; rolconfig: string[] | null; setconfig: string[] | null; size: string | null }>(
    `select d.datname, r.rolname, r.rolconnlimit, r.rolconfig, s.setconfig,
        case when d.datname = any($3) then pg_database_size(d.oid) end as size
       from unnest($1::text[], $2::text[]) as t(db, role)
       join pg_database d on d.datname = t.db
       left join pg_roles r on r.rolname = t.role
       left join pg_db_role_setting s on s.setdatabase = d.oid and s.setrole = 0`,
    [projects.map((p) => p.dbName), projects.map((p) => p.dbRole), sized],
  );
  return rows.map((r) => ({
    dbName: r.datname,
    dbRole: r.rolname ?? '',
    connectionLimit: r.rolconnlimit ?? -1,
    statementTimeout: setting(r.rolconfig, 'statement_timeout'),
    readOnly: setting(r.setconfig, 'default_transaction_read_only') === 'on',
    size: r.size === null ? null : Number(r.size),
  }));
}

export async function setConnectionLimit(c: pg.Client, dbRole: string, limit: number): Promise<void> {
  await c.query(`alter role ${ident(dbRole)} connection limit ${Math.trunc(limit)}`);
}

/** Sessions of the project's login start with this statement_timeout (a request may lower it, never needs to raise it). */
export async function setStatementTimeout(c: pg.Client, dbRole: string, value: string | null): Promise<void> {
  await c.query(value === null ? `alter role ${ident(dbRole)} reset statement_timeout` : `alter role ${ident(dbRole)} set statement_timeout = ${literal(value)}`);
}

/**
 * New sessions on the database start read-only (or no longer do). Services open a caller's transaction in the
 * session's mode (@basalt/db's request context), so a write fails with 25006, which every service already maps.
 */
export async function setReadOnly(c: pg.Client, dbName: string, readOnly: boolean): Promise<void> {
  await c.query(readOnly
    ? `alter database ${ident(dbName)} set default_transaction_read_only = on`
    : `alter database ${ident(dbName)} reset default_transaction_read_only`);
}
