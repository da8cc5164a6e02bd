// Accept: application/geo+json, as PostgREST builds it: a FeatureCollection of ST_AsGeoJSON(row) (PostGIS). Without
// PostGIS the function is missing and the answer is PostgREST's 42883 (404). The test cluster has no PostGIS, so the
// positive case stands a small SQL function in for ST_AsGeoJSON(record): what is tested is the REST side.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject, type TestProject } from '@basalt/testkit';
import { client, raw } from './helpers.js';

let p: TestProject;
let noGis: TestProject;

const TABLE = `
  create table places (id int primary key, name text, geom jsonb);
  create policy r on places for select using (true);
  insert into places values (1, 'a', '{"type": "Point", "coordinates": [1, 2]}'), (2, 'b', '{"type": "Point", "coordinates": [3, 4]}');
`;

before(async () => {
  [p, noGis] = await Promise.all([createProject('rest-geo'), createProject('rest-nogis')]);
  await Promise.all([noGis.sql(TABLE), p.sql(`${TABLE}
    -- stands in for PostGIS' ST_AsGeoJSON(record): a Feature with the geometry column and the rest as properties
    create function public.st_asgeojson(r anyelement) returns text language sql stable as $$
      select json_build_object('type', 'Feature', 'geometry', to_jsonb(r)->'geom', 'properties', to_jsonb(r) - 'geom')::text $$;
  `)]);
});

test('application/geo+json is a FeatureCollection of the selected rows', async () => {
  const r = await raw(p, '/places?select=id,name,geom&order=id', { headers: { accept: 'application/geo+json' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get('content-type'), 'application/geo+json; charset=utf-8');
  assert.deepEqual(r.body, {
    type: 'FeatureCollection',
    features: [
      { type: 'Feature', geometry: { type: 'Point', coordinates: [1, 2] }, properties: { id: 1, name: 'a' } },
      { type: 'Feature', geometry: { type: 'Point', coordinates: [3, 4] }, properties: { id: 2, name: 'b' } },
    ],
  });
  const js = await client(p).from('places').select('id, geom').eq('id', 2).geojson();
  assert.deepEqual(js.data, { type: 'FeatureCollection', features: [{ type: 'Feature', geometry: { type: 'Point', coordinates: [3, 4] }, properties: { id: 2 } }] });
  const none = await raw(p, '/places?id=eq.9', { headers: { accept: 'application/geo+json' } });
  assert.deepEqual(none.body, { type: 'FeatureCollection', features: [] });
});

test('without PostGIS: 404 42883, as PostgREST answers it', async () => {
  const r = await raw(noGis, '/places', { headers: { accept: 'application/geo+json' } });
  assert.equal(r.status, 404);
  assert.equal(r.body.code, '42883');
  assert.equal(r.body.message, 'function st_asgeojson(record) does not exist');
});
