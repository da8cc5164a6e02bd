// Vector buckets through supabase-js's own `supabase.storage.vectors`: buckets, indexes and vectors with metadata,
// top-k queries whose distances match a brute-force computation (cosine and Euclidean, as pgvector answers them),
// metadata filters, paging and segments, S3 Vectors' errors, the service role alone, and one project's vectors
// invisible to another.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createProject, supabaseClient, type TestProject } from '@basalt/testkit';

let a: TestProject;
let b: TestProject;

before(async () => {
  [a, b] = await Promise.all([createProject('vectors-a'), createProject('vectors-b')]);
});

const vectors = (p: TestProject, key = p.serviceKey) => supabaseClient(p, { key }).storage.vectors;
const name = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** a seeded generator, so the data (and so each assertion) is the same on every run */
function rng(seed: number) {
  return () => ((seed = (Math.imul(seed ^ (seed >>> 15), 2246822507) + 0x6d2b79f5) >>> 0) / 2 ** 32);
}
function randomVector(next: () => number, dim: number): number[] {
  // float32 values, so what comes back is exactly what went in
  return Array.from({ length: dim }, () => Math.fround(next() * 2 - 1));
}
const cosine = (x: number[], y: number[]) => {
  let xy = 0, xx = 0, yy = 0;
  for (let i = 0; i < x.length; i++) {
    xy += x[i] * y[i];
    xx += x[i] * x[i];
    yy += y[i] * y[i];
  }
  return 1 - xy / Math.sqrt(xx * yy);
};
const l2 = (x: number[], y: number[]) => Math.sqrt(x.reduce((s, v, i) => s + (v - y[i]) ** 2, 0));

function expectError(error: unknown, status: number, code: string, message?: RegExp) {
  const e = error as { status?: number; statusCode?: string; code?: string; message?: string; name?: string } | null;
  assert.ok(e, `expected a ${status} ${code}`);
  assert.equal(e.name, 'StorageVectorsApiError');
  assert.equal(e.status, status, e.message);
  assert.equal(e.statusCode, String(status));
  assert.equal(e.code, code, e.message);
  if (message) assert.match(e.message ?? '', message);
}

test('buckets: create, get, list with a prefix and pages, delete; a duplicate is a 409 and an unknown one a 404', async () => {
  const v = vectors(a);
  const names = [name('pages'), name('pages'), name('pages')].sort();
  for (const n of names) assert.equal((await v.createBucket(n)).error, null);
  expectError((await v.createBucket(names[0])).error, 409, 'ConflictException', /already exists/);

  const got = await v.getBucket(names[1]);
  assert.equal(got.error, null);
  assert.equal(got.data!.vectorBucket.vectorBucketName, names[1]);
  assert.ok(Math.abs(got.data!.vectorBucket.creationTime! - Date.now() / 1000) < 600);

  const seen: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await v.listBuckets({ prefix: 'pages-', maxResults: 2, nextToken });
    assert.equal(page.error, null);
    assert.ok(page.data!.vectorBuckets.length <= 2);
    seen.push(...page.data!.vectorBuckets.map((x) => x.vectorBucketName));
    nextToken = page.data!.nextToken;
  } while (nextToken);
  assert.deepEqual(seen.filter((n) => names.includes(n)), names);
  assert.ok(seen.every((n) => n.startsWith('pages-')));

  for (const n of names) assert.equal((await v.deleteBucket(n)).error, null);
  expectError((await v.getBucket(names[0])).error, 404, 'NotFoundException', /not found/);
  expectError((await v.deleteBucket(names[0])).error, 404, 'NotFoundException');
  expectError((await v.createBucket('Bad_Name')).error, 400, 'InvalidParameter');
});

test('indexes: create, get, list, delete; a bucket with an index cannot be deleted; bad definitions are 400', async () => {
  const v = vectors(a);
  const bucket = name('idx');
  await v.createBucket(bucket);
  const scope = v.from(bucket);
  assert.equal((await scope.createIndex({ indexName: 'docs', dataType: 'float32', dimension: 3, distanceMetric: 'cosine', metadataConfiguration: { nonFilterableMetadataKeys: ['body'] } })).error, null);
  assert.equal((await scope.createIndex({ indexName: 'places.v2', dataType: 'float32', dimension: 2, distanceMetric: 'euclidean' })).error, null);
  expectError((await scope.createIndex({ indexName: 'docs', dataType: 'float32', dimension: 3, distanceMetric: 'cosine' })).error, 409, 'ConflictException');

  const got = await scope.getIndex('docs');
  assert.equal(got.error, null);
  const { creationTime, ...index } = got.data!.index;
  assert.equal(typeof creationTime, 'number');
  assert.deepEqual(index, { indexName: 'docs', vectorBucketName: bucket, dataType: 'float32', dimension: 3, distanceMetric: 'cosine', metadataConfiguration: { nonFilterableMetadataKeys: ['body'] } });
  const list = await scope.listIndexes({ prefix: 'pl' });
  assert.deepEqual(list.data!.indexes.map((i) => i.indexName), ['places.v2']);

  expectError((await v.deleteBucket(bucket)).error, 400, 'VectorBucketNotEmpty', /not empty/);
  expectError((await v.from(name('nobucket')).createIndex({ indexName: 'x1x', dataType: 'float32', dimension: 3, distanceMetric: 'cosine' })).error, 404, 'NotFoundException');
  for (const bad of [
    { indexName: 'ok-name', dataType: 'float32', dimension: 0, distanceMetric: 'cosine' },
    { indexName: 'ok-name', dataType: 'float32', dimension: 5000, distanceMetric: 'cosine' },
    { indexName: 'ok-name', dataType: 'float64', dimension: 3, distanceMetric: 'cosine' },
    { indexName: 'ok-name', dataType: 'float32', dimension: 3, distanceMetric: 'manhattan' },
    { indexName: 'UPPER', dataType: 'float32', dimension: 3, distanceMetric: 'cosine' },
  ]) {
    const { error } = await scope.createIndex(bad as never);
    assert.equal(error?.status, 400, JSON.stringify(bad));
  }
  assert.equal((await scope.deleteIndex('docs')).error, null);
  assert.equal((await scope.deleteIndex('places.v2')).error, null);
  expectError((await scope.getIndex('docs')).error, 404, 'NotFoundException');
  assert.equal((await v.deleteBucket(bucket)).error, null);
});

test('vectors: put with metadata, get with data, upsert, list in pages and segments, delete', async () => {
  const v = vectors(a);
  const bucket = name('data');
  await v.createBucket(bucket);
  await v.from(bucket).createIndex({ indexName: 'emb', dataType: 'float32', dimension: 4, distanceMetric: 'cosine' });
  const index = v.from(bucket).index('emb');
  const next = rng(7);
  const items = Array.from({ length: 25 }, (_, i) => ({ key: `k${String(i).padStart(2, '0')}`, data: { float32: randomVector(next, 4) }, metadata: { i, even: i % 2 === 0, tags: [`t${i % 3}`] } }));
  assert.equal((await index.putVectors({ vectors: items })).error, null);

  const got = await index.getVectors({ keys: ['k03', 'k07', 'missing'], returnData: true, returnMetadata: true });
  assert.equal(got.error, null);
  const byKey = new Map(got.data!.vectors.map((x) => [x.key, x]));
  assert.deepEqual([...byKey.keys()].sort(), ['k03', 'k07']);
  assert.deepEqual(byKey.get('k03')!.data!.float32, items[3].data.float32);
  assert.deepEqual(byKey.get('k07')!.metadata, items[7].metadata);
  const bare = await index.getVectors({ keys: ['k03'] });
  assert.deepEqual(bare.data!.vectors, [{ key: 'k03' }]);

  // a put of an existing key replaces its data and metadata
  assert.equal((await index.putVectors({ vectors: [{ key: 'k03', data: { float32: [1, 0, 0, 0] }, metadata: { replaced: true } }] })).error, null);
  const replaced = await index.getVectors({ keys: ['k03'], returnData: true, returnMetadata: true });
  assert.deepEqual(replaced.data!.vectors[0], { key: 'k03', data: { float32: [1, 0, 0, 0] }, metadata: { replaced: true } });

  const listed: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await index.listVectors({ maxResults: 10, nextToken });
    assert.equal(page.error, null);
    listed.push(...page.data!.vectors.map((x) => x.key));
    nextToken = page.data!.nextToken;
  } while (nextToken);
  assert.deepEqual(listed, items.map((x) => x.key));

  const segments = await Promise.all([0, 1, 2].map((segmentIndex) => index.listVectors({ segmentCount: 3, segmentIndex, maxResults: 1000 })));
  const fromSegments = segments.flatMap((s) => s.data!.vectors.map((x) => x.key));
  assert.deepEqual([...fromSegments].sort(), items.map((x) => x.key), 'the segments partition the index');

  assert.equal((await index.deleteVectors({ keys: ['k00', 'k01', 'nope'] })).error, null);
  const after = await index.listVectors({ maxResults: 1000 });
  assert.equal(after.data!.vectors.length, 23);
});

test('query: the top k with the distances pgvector would give, cosine and Euclidean, ties to a brute-force ranking', async () => {
  const v = vectors(a);
  const bucket = name('query');
  await v.createBucket(bucket);
  const next = rng(42);
  const items = Array.from({ length: 150 }, (_, i) => ({ key: `v${i}`, data: { float32: randomVector(next, 16) }, metadata: { i } }));
  for (const metric of ['cosine', 'euclidean'] as const) {
    await v.from(bucket).createIndex({ indexName: metric, dataType: 'float32', dimension: 16, distanceMetric: metric });
    const index = v.from(bucket).index(metric);
    assert.equal((await index.putVectors({ vectors: items })).error, null);
    const query = randomVector(next, 16);
    const r = await index.queryVectors({ queryVector: { float32: query }, topK: 5, returnDistance: true, returnMetadata: true });
    assert.equal(r.error, null);
    assert.equal(r.data!.distanceMetric, metric);
    const distance = metric === 'cosine' ? cosine : l2;
    const expected = items.map((x) => ({ key: x.key, d: distance(query, x.data.float32) })).sort((x, y) => x.d - y.d).slice(0, 5);
    assert.deepEqual(r.data!.vectors.map((x) => x.key), expected.map((x) => x.key));
    r.data!.vectors.forEach((x, i) => {
      assert.ok(Math.abs(x.distance! - expected[i].d) < 1e-5, `${metric} distance ${x.distance} vs ${expected[i].d}`);
      assert.deepEqual(x.metadata, { i: Number(x.key.slice(1)) });
    });
    const plain = await index.queryVectors({ queryVector: { float32: query }, topK: 2 });
    assert.deepEqual(plain.data!.vectors, expected.slice(0, 2).map((x) => ({ key: x.key })));
  }
});

test('query in a larger index: the nearest neighbours of a perturbed vector are found', async () => {
  const v = vectors(a);
  const bucket = name('large');
  await v.createBucket(bucket);
  await v.from(bucket).createIndex({ indexName: 'big', dataType: 'float32', dimension: 64, distanceMetric: 'cosine' });
  const index = v.from(bucket).index('big');
  const next = rng(99);
  const items = Array.from({ length: 2000 }, (_, i) => ({ key: `b${i}`, data: { float32: randomVector(next, 64) } }));
  for (let i = 0; i < items.length; i += 500) assert.equal((await index.putVectors({ vectors: items.slice(i, i + 500) })).error, null);
  let hits = 0;
  let found = 0;
  for (let q = 0; q < 10; q++) {
    const source = items[q * 137];
    const query = source.data.float32.map((x) => x + (next() - 0.5) * 0.1);
    const r = await index.queryVectors({ queryVector: { float32: query }, topK: 10, returnDistance: true });
    assert.equal(r.error, null);
    const keys = r.data!.vectors.map((x) => x.key);
    if (keys[0] === source.key) found++;
    const truth = new Set(items.map((x) => ({ key: x.key, d: cosine(query, x.data.float32) })).sort((x, y) => x.d - y.d).slice(0, 10).map((x) => x.key));
    hits += keys.filter((k) => truth.has(k)).length;
  }
  assert.equal(found, 10, 'the perturbed vector itself is always first');
  assert.ok(hits / 100 >= 0.5, `recall@10 ${hits / 100}`);
});

test('filters: $eq (and array membership), $ne, $in, $nin, ranges, $exists, $and, $or; a non-filterable key is refused', async () => {
  const v = vectors(a);
  const bucket = name('filter');
  await v.createBucket(bucket);
  await v.from(bucket).createIndex({ indexName: 'flt', dataType: 'float32', dimension: 2, distanceMetric: 'cosine', metadataConfiguration: { nonFilterableMetadataKeys: ['secret'] } });
  const index = v.from(bucket).index('flt');
  const rows = [
    { key: 'a', data: { float32: [1, 0] }, metadata: { genre: 'drama', year: 1999, tags: ['x', 'y'], secret: 's' } },
    { key: 'b', data: { float32: [0.9, 0.1] }, metadata: { genre: 'comedy', year: 2005, tags: ['y'] } },
    { key: 'c', data: { float32: [0.8, 0.2] }, metadata: { genre: 'drama', year: 2015 } },
    { key: 'd', data: { float32: [0.7, 0.3] }, metadata: { genre: '2015', year: '2015' } },
  ];
  await index.putVectors({ vectors: rows });
  const keys = async (filter: Record<string, unknown>) => {
    const r = await index.queryVectors({ queryVector: { float32: [1, 0] }, topK: 10, filter });
    assert.equal(r.error, null, JSON.stringify(filter));
    return r.data!.vectors.map((x) => x.key).sort();
  };
  assert.deepEqual(await keys({ genre: 'drama' }), ['a', 'c']);
  assert.deepEqual(await keys({ genre: { $eq: 'drama' }, year: { $gte: 2000 } }), ['c']);
  assert.deepEqual(await keys({ tags: 'y' }), ['a', 'b']);
  assert.deepEqual(await keys({ year: 2015 }), ['c'], 'a number is not the string "2015"');
  assert.deepEqual(await keys({ genre: { $ne: 'drama' } }), ['b', 'd']);
  assert.deepEqual(await keys({ genre: { $in: ['comedy', '2015'] } }), ['b', 'd']);
  assert.deepEqual(await keys({ genre: { $nin: ['comedy'] } }), ['a', 'c', 'd']);
  assert.deepEqual(await keys({ year: { $gt: 1999, $lt: 2015 } }), ['b']);
  assert.deepEqual(await keys({ tags: { $exists: false } }), ['c', 'd']);
  assert.deepEqual(await keys({ $or: [{ genre: 'comedy' }, { $and: [{ genre: 'drama' }, { year: { $lte: 1999 } }] }] }), ['a', 'b']);
  for (const bad of [{ secret: 's' }, { year: { $gt: 'x' } }, { genre: { $regex: 'd' } }, { $and: [] }, { $not: { genre: 'drama' } }]) {
    const r = await index.queryVectors({ queryVector: { float32: [1, 0] }, topK: 3, filter: bad });
    expectError(r.error, 400, 'InvalidParameter');
  }
});

test('bad vectors are refused whole: a wrong dimension, duplicate keys, metadata that is not flat; nothing is written', async () => {
  const v = vectors(a);
  const bucket = name('bad');
  await v.createBucket(bucket);
  await v.from(bucket).createIndex({ indexName: 'bad3', dataType: 'float32', dimension: 3, distanceMetric: 'cosine' });
  const index = v.from(bucket).index('bad3');
  const ok = { key: 'fine', data: { float32: [1, 2, 3] } };
  for (const bad of [
    { key: 'short', data: { float32: [1, 2] } },
    { key: 'fine', data: { float32: [1, 2, 3] } },
    { key: 'nested', data: { float32: [1, 2, 3] }, metadata: { a: { b: 1 } } },
    { key: '', data: { float32: [1, 2, 3] } },
    { key: 'huge', data: { float32: [1e39, 0, 0] } },
  ]) {
    const { error } = await index.putVectors({ vectors: [ok, bad] });
    expectError(error, 400, 'InvalidParameter');
  }
  const r = await index.queryVectors({ queryVector: { float32: [1, 2] }, topK: 1 });
  expectError(r.error, 400, 'InvalidParameter', /dimensions/);
  assert.equal((await index.listVectors({})).data!.vectors.length, 0, 'nothing half-written');
  expectError((await v.from(bucket).index('nope').putVectors({ vectors: [ok] })).error, 404, 'NotFoundException');
  const tooMany = await fetch(`${a.url}/storage/v1/vector/QueryVectors`, {
    method: 'POST', headers: { apikey: a.serviceKey, authorization: `Bearer ${a.serviceKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ vectorBucketName: bucket, indexName: 'bad3', queryVector: { float32: [1, 2, 3] }, topK: 101 }),
  });
  assert.equal(tooMany.status, 400);
});

test('the service role only: the anon key and a user token are 403; another project sees none of these buckets', async () => {
  const bucket = name('mine');
  await vectors(a).createBucket(bucket);
  expectError((await vectors(a, a.anonKey).listBuckets()).error, 403, 'AccessDenied');
  const user = supabaseClient(a, { accessToken: a.token({ sub: randomUUID() }) }).storage.vectors;
  expectError((await user.getBucket(bucket)).error, 403, 'AccessDenied');

  const other = vectors(b);
  expectError((await other.getBucket(bucket)).error, 404, 'NotFoundException');
  const listed = await other.listBuckets();
  assert.ok(!listed.data!.vectorBuckets.some((x) => x.vectorBucketName === bucket));
  assert.equal((await other.createBucket(bucket)).error, null, 'the same name is free in another project');
  // a's service key against b's URL is refused
  const cross = supabaseClient(b, { key: a.serviceKey }).storage.vectors;
  const refused = (await cross.getBucket(bucket)).error;
  assert.ok(refused && [401, 403].includes(refused.status as number), `status ${refused?.status}`);
});

test('a project holds at most its limit of vector buckets', async () => {
  const p = await createProject('vectors-limit');
  const v = vectors(p);
  for (let i = 0; i < 10; i++) assert.equal((await v.createBucket(`limit-${i}`)).error, null);
  expectError((await v.createBucket('limit-10')).error, 400, 'S3VectorMaxBucketsExceeded');
  assert.equal((await v.listBuckets()).data!.vectorBuckets.length, 10);
});
