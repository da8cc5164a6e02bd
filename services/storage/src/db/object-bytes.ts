// The project's objects' total size, kept by tenant migration 0018 as a few rows of changes (storage.size_deltas).
import type pg from 'pg';

/**
 * The bytes of every object of the project but the one at bucket/name (the object an upload there replaces), in
 * this transaction's snapshot: the sum of the deltas, less that object's size.
 */
export async function bytesBesides(c: pg.PoolClient, bucket: string, name: string): Promise<number> {
  const { rows: [u] } = await c.query<{ used: number }>({
    name: 'storage_bytes_besides',
    text: `select (select coalesce(sum(delta), 0) from storage.size_deltas)
                  - coalesce((select storage.object_bytes(metadata) from storage.objects where bucket_id = $1 and name = $2), 0) as used`,
    values: [bucket, name],
  });
  return u!.used;
}
