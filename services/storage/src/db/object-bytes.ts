// The project's objects' total size, kept by tenant migration 0018 as rows of changes (storage.size_deltas).
import type pg from 'pg';

/** Rows of storage.size_deltas past which a read folds them into one. */
const DELTAS_KEPT = 256;

/**
 * The bytes of every object of the project but the one at bucket/name (the object an upload there replaces), in
 * this transaction's snapshot: the sum of the deltas, less that object's size. Past DELTAS_KEPT deltas, those this
 * transaction sees are folded into one row (a fold running at the same time folds none of the same rows).
 */
export async function bytesBesides(c: pg.PoolClient, bucket: string, name: string): Promise<number> {
  const { rows: [u] } = await c.query<{ used: number; deltas: number }>({
    name: 'storage_bytes_besides',
    text: `select (select coalesce(sum(delta), 0) from storage.size_deltas)
                  - coalesce((select storage.object_bytes(metadata) from storage.objects where bucket_id = $1 and name = $2), 0) as used,
                  (select count(*)::int from storage.size_deltas) as deltas`,
    values: [bucket, name],
  });
  if (u!.deltas > DELTAS_KEPT) {
    await c.query({
      name: 'storage_bytes_fold',
      text: `with gone as (delete from storage.size_deltas returning delta)
             insert into storage.size_deltas (delta) select sum(delta) from gone having count(*) > 0`,
    });
  }
  return u!.used;
}
