// All SQL that writes usage: a batch lands in platform.usage_hourly (a migration of the platform service) in one
// transaction, recorded by id in platform.usage_flushes first, so a batch retried after a lost acknowledgement
// adds nothing twice. Counters add up; peaks keep the hour's highest value.
import type pg from 'pg';
import type { Batch, BatchWriter, UsageRow } from './meter.js';

const UPSERT = (merge: string) => `insert into platform.usage_hourly as u (ref, hour, service, metric, value)
  select r.ref, to_timestamp(r.hour * 3600), r.service, r.metric, r.value
    from unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[]) with ordinality as r(ref, hour, service, metric, value, n)
   order by r.n
  on conflict (ref, hour, service, metric) do update set value = ${merge}`;
const ADD = UPSERT('u.value + excluded.value');
const KEEP_MAX = UPSERT('greatest(u.value, excluded.value)');

const columns = (rows: UsageRow[]) => [rows.map((r) => r.ref), rows.map((r) => r.hour), rows.map((r) => r.service), rows.map((r) => r.metric), rows.map((r) => r.value)];

export function usageStore(db: pg.Pool): BatchWriter {
  return async (batch: Batch) => {
    const client = await db.connect();
    let broken: Error | undefined;
    try {
      await client.query('begin');
      const fresh = await client.query('insert into platform.usage_flushes (id) values ($1) on conflict do nothing', [batch.id]);
      if (fresh.rowCount === 1) {
        const sums = batch.rows.filter((r) => r.kind === 'sum');
        const peaks = batch.rows.filter((r) => r.kind === 'max');
        if (sums.length) await client.query(ADD, columns(sums));
        if (peaks.length) await client.query(KEEP_MAX, columns(peaks));
      }
      await client.query('commit');
    } catch (err) {
      broken = err as Error;
      await client.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      client.release(broken);
    }
  };
}

/** Batch ids are only needed while a retry may still come: a day is plenty. */
export async function pruneFlushRecords(db: pg.Pool): Promise<number> {
  const { rowCount } = await db.query(`delete from platform.usage_flushes where at < now() - interval '1 day'`);
  return rowCount ?? 0;
}
