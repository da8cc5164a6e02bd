// What a test run owns, and its end: its control database (named `basalt_test_<8 hex>`), the project databases and
// roles listed there, and its Redis keys under `<control database>:`. A run holds an advisory lock named after its
// control database for as long as it lives (on a connection of its own, which the server closes if the run is
// killed outright); a run's leftovers whose lock nobody holds are a dead run's, and the next run drops them.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { dropRedisKeys } from '@basalt/fleet';

export const RUN_DATABASE = /^basalt_test_[0-9a-f]{8}$/;
/** a new run's control database name, of the shape the sweep recognises */
export const newRunDatabase = () => `basalt_test_${randomBytes(4).toString('hex')}`;

async function dropDatabases(adminUrl: string, controlDb: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const leftovers = await admin
      .query(`select 1 from pg_database where datname = $1`, [controlDb])
      .then(async (r) => {
        if (!r.rowCount) return [] as { db_name: string; db_role: string }[];
        const c = new pg.Client({ connectionString: Object.assign(new URL(adminUrl), { pathname: `/${controlDb}` }).toString() });
        await c.connect();
        try {
          return (await c.query('select db_name, db_role from platform.projects').catch(() => ({ rows: [] }))).rows;
        } finally {
          await c.end();
        }
      });
    for (const p of leftovers) {
      await admin.query(`drop database if exists "${p.db_name}" with (force)`).catch(() => undefined);
      await admin.query(`drop role if exists "${p.db_role}"`).catch(() => undefined);
    }
    await admin.query(`drop database if exists "${controlDb}_tenant_template" with (force)`).catch(() => undefined);
    await admin.query(`drop database if exists "${controlDb}" with (force)`).catch(() => undefined);
  } finally {
    await admin.end();
  }
}

/**
 * What the run created: its databases and roles, and its Redis keys (queues, rate-limit windows, presence; most
 * without an expiry), each dropped whatever became of the other.
 */
export async function dropEverything(adminUrl: string, controlDb: string, redisUrl: string): Promise<void> {
  const done = await Promise.allSettled([dropDatabases(adminUrl, controlDb), dropRedisKeys(redisUrl, `${controlDb}:`)]);
  for (const r of done) if (r.status === 'rejected') throw r.reason;
}

/** Takes the run's lock (before its control database exists); held until `release` or the process ends. */
export async function holdRunLease(adminUrl: string, controlDb: string): Promise<{ client: pg.Client; release: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  client.on('error', () => undefined); // the server going away ends the lease; nothing to do about it here
  await client.query('select pg_advisory_lock(hashtext($1))', [controlDb]);
  return { client, release: () => client.end().catch(() => undefined) };
}

/**
 * Drops every other run's leftovers whose lock is free: a run killed outright (SIGKILL, a crashed machine) could not
 * drop its own. Uses the lease's connection to test the locks. Returns the control databases it dropped.
 */
export async function sweepDeadRuns(adminUrl: string, redisUrl: string, lease: pg.Client, own: string): Promise<string[]> {
  const { rows } = await lease.query<{ datname: string }>('select datname from pg_database order by 1');
  const dead: string[] = [];
  for (const { datname } of rows) {
    if (datname === own || !RUN_DATABASE.test(datname)) continue;
    const { rows: [got] } = await lease.query<{ ok: boolean }>('select pg_try_advisory_lock(hashtext($1)) as ok', [datname]);
    if (!got!.ok) continue; // a live run's
    try {
      await dropEverything(adminUrl, datname, redisUrl);
      dead.push(datname);
    } finally {
      await lease.query('select pg_advisory_unlock(hashtext($1))', [datname]);
    }
  }
  return dead;
}
