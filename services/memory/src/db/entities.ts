// Extracted entities (people, places, things) per user scope and their links to memories. A hot entity stops
// gaining links at the cap: its boost in search is attenuated by spread and would be negligible anyway.
import type pg from 'pg';

export async function linkEntities(tx: pg.PoolClient, userId: string | null, links: { memoryId: string; name: string; type: string }[], cap: number): Promise<void> {
  if (links.length === 0) return;
  await tx.query(
    `with input as (
       select distinct on (lower(t.name), t.memory_id) t.memory_id, left(t.name, 200) as name, left(t.type, 64) as type
       from unnest($2::uuid[], $3::text[], $4::text[]) as t(memory_id, name, type) where length(trim(t.name)) > 0
     ), e as (
       insert into memory.entities as e (user_id, name, type)
       select distinct on (lower(name)) $1, name, type from input
       on conflict (coalesce(user_id, ''), lower(name)) do update set updated_at = now()
       returning e.id, lower(e.name) as key, e.memory_count
     ), l as (
       insert into memory.entity_links (entity_id, memory_id)
       select e.id, input.memory_id from input join e on e.key = lower(input.name) where e.memory_count < $5
       on conflict do nothing returning entity_id
     )
     update memory.entities x set memory_count = x.memory_count + n.c
     from (select entity_id, count(*)::int as c from l group by entity_id) n where x.id = n.entity_id`,
    [userId, links.map((l) => l.memoryId), links.map((l) => l.name), links.map((l) => l.type), cap],
  );
}

/** keeps memory_count true after memories went away (links cascade with them) */
export async function recountEntities(tx: pg.PoolClient): Promise<void> {
  await tx.query(
    `update memory.entities e set memory_count = n.c from (
       select e2.id, count(l.memory_id)::int as c from memory.entities e2 left join memory.entity_links l on l.entity_id = e2.id group by e2.id
     ) n where e.id = n.id and e.memory_count <> n.c`,
  );
  await tx.query('delete from memory.entities where memory_count = 0');
}

export interface EntityRow {
  id: string;
  user_id: string | null;
  name: string;
  type: string;
  memory_count: number;
  memory_ids: string[];
}

export async function entitiesOf(tx: pg.PoolClient, memoryIds: string[]): Promise<{ memory_id: string; name: string; type: string }[]> {
  if (memoryIds.length === 0) return [];
  const { rows } = await tx.query(
    'select l.memory_id, e.name, e.type from memory.entity_links l join memory.entities e on e.id = l.entity_id where l.memory_id = any($1::uuid[]) order by e.name',
    [memoryIds],
  );
  return rows;
}
