// All SQL that reads and sets a project database's plan limits on its cluster, as the cluster's admin: the login
// role's connection limit and statement_timeout, the database's size and its default_transaction_read_only, and
// the statements that run past the plan's timeout all the same.
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

/** A project login whose statements the plan bounds (statement_timeout_ms). */
export interface StatementCap {
  dbName: string;
  dbRole: string;
  capMs: number;
}

export interface Overrun {
  dbName: string;
  pid: number;
  applicationName: string;
  /** ms the statement had run past its cap */
  pastMs: number;
  action: 'cancelled' | 'terminated';
}

/**
 * Stops the statements of these logins that run past their cap, whatever statement_timeout the session set for
 * itself (`set statement_timeout = 0` before them): cancelled once past the cap by more than `graceMs` (the
 * session's own timeout fires first when nothing raised it), the session terminated once past it by `terminateMs`
 * (a function may catch query_canceled and go on). A session of the platform's SQL API
 * (`sqlApi.name`, its application_name) is allowed that API's own timeout where it is the longer.
 */
export async function stopOverruns(
  c: Pick<pg.ClientBase, 'query'>, caps: StatementCap[], o: { graceMs: number; terminateMs: number; sqlApi: { name: string; timeoutMs: number } },
): Promise<Overrun[]> {
  if (caps.length === 0) return [];
  const { rows } = await c.query<{ pid: number; datname: string; application_name: string; past: number; terminate: boolean; signalled: boolean }>(
    `with running as (
       select a.pid, a.datname, a.application_name,
              extract(epoch from clock_timestamp() - a.query_start) * 1000
                - case when a.application_name = $4 then greatest(t.cap, $5) else t.cap end as past
         from pg_stat_activity a
         join unnest($1::text[], $2::text[], $3::float8[]) as t(db, role, cap) on a.datname = t.db and a.usename = t.role
        where a.backend_type = 'client backend' and a.state = 'active' and a.pid <> pg_backend_pid())
     select pid, datname, application_name, past::float8, past > $7 as terminate,
            case when past > $7 then pg_terminate_backend(pid) else pg_cancel_backend(pid) end as signalled
       from running where past > $6`,
    [caps.map((x) => x.dbName), caps.map((x) => x.dbRole), caps.map((x) => x.capMs), o.sqlApi.name, o.sqlApi.timeoutMs, o.graceMs, o.terminateMs],
  );
  return rows.filter((r) => r.signalled).map((r) => ({
    dbName: r.datname, pid: r.pid, applicationName: r.application_name, pastMs: Math.round(r.past), action: r.terminate ? 'terminated' : 'cancelled',
  }));
}
