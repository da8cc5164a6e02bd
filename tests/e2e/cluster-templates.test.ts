// What a project gets on a cluster other than the control database's, from the tenant template there.
//
// Its migrations: a template made by an earlier release lacks the newest, and a project copied from it is brought up
// to date. Its locale: text order is the project's, not the cluster's: on a second cluster whose default locale is ICU en-US (as the
// postgres images' en_US.utf8 orders: a A b B), a project database still orders by code point (A B Z a b), in REST's
// order=, the documents API's sort and its $gt on strings (MongoDB's own order); a project moved onto that cluster
// and one restored there keep the order they had. A tenant template made there in the cluster's locale is made again.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { withClient } from '@basalt/db';
import { postgresBin, startLocalCluster, type LocalCluster } from '@basalt/fleet';
import { createProject, eventually, platform, supabaseClient, testEnv, type TestProject } from '@basalt/testkit';

const skip = postgresBin() ? false : 'no Postgres server binaries (initdb, pg_ctl) under /usr/lib/postgresql';
const clusterId = `test-${randomBytes(4).toString('hex')}`;
let cluster: LocalCluster;
const made: TestProject[] = [];
const SLOW = { timeout: 300_000 };

const WORDS = ['b', 'B', 'é', 'a', 'Z', 'e', 'A'];
const CODE_POINT_ORDER = ['A', 'B', 'Z', 'a', 'b', 'e', 'é'];

async function withWords(p: TestProject): Promise<void> {
  await p.sql(`create table words (w text primary key);
    alter table words enable row level security;
    create policy read on words for select to anon using (true);
    insert into words values ${WORDS.map((w) => `('${w}')`).join(', ')};`);
  await documents(p, 'insertMany', { collection: 'words', documents: WORDS.map((w) => ({ w })) });
}

async function documents(p: TestProject, action: string, body: Record<string, unknown>): Promise<{ documents?: { w: string }[] }> {
  const r = await fetch(`${p.url}/mongo/v1/action/${action}`, {
    method: 'POST', headers: { 'content-type': 'application/json', apikey: p.serviceKey }, body: JSON.stringify(body),
  });
  assert.ok(r.ok, `${action}: ${r.status} ${await r.clone().text()}`);
  return r.json() as Promise<{ documents?: { w: string }[] }>;
}

/** REST's order=w, the documents sort on w, and the documents greater than "Z" */
async function orders(p: TestProject) {
  const rest = await supabaseClient(p).from('words').select('w').order('w');
  assert.equal(rest.error, null);
  const projection = { _id: 0, w: 1 };
  const sorted = await documents(p, 'find', { collection: 'words', filter: {}, sort: { w: 1 }, projection });
  const after = await documents(p, 'find', { collection: 'words', filter: { w: { $gt: 'Z' } }, sort: { w: 1 }, projection });
  return {
    rest: rest.data!.map((r) => r.w),
    documents: sorted.documents!.map((d) => d.w),
    afterZ: after.documents!.map((d) => d.w),
  };
}

const template = `${new URL(testEnv().databaseUrl).pathname.slice(1)}_tenant_template`.slice(0, 63);
const onDatabase = (url: string, db: string) => Object.assign(new URL(url), { pathname: `/${db}` }).toString();

const expected = { rest: CODE_POINT_ORDER, documents: CODE_POINT_ORDER, afterZ: ['a', 'b', 'e', 'é'] };

const localeOf = async (p: TestProject) => (await platform<{ cluster: string }>(`/projects/${p.ref}`)).cluster === clusterId
  ? withClient(cluster.url, async (c) => (await c.query(`select datcollate, datlocprovider from pg_database where datname = $1`, [`proj_${p.ref}`])).rows[0])
  : null;

describe('project databases on another cluster', { skip }, () => {
  before(async () => {
    cluster = await startLocalCluster({ initdb: ['--locale-provider=icu', '--icu-locale=en-US', '--locale=C.UTF-8'] });
    // the cluster's own default: the order the old template, and template0, gave a project there
    const icu = await withClient(cluster.url, async (c) => (await c.query(`select array_agg(w order by w) as o from unnest($1::text[]) w`, [WORDS])).rows[0].o);
    assert.deepEqual(icu, ['a', 'A', 'b', 'B', 'e', 'é', 'Z']);
    // a tenant template left by an install from before project databases had a locale of their own, in the
    // cluster's: registering makes it again
    await withClient(cluster.url, (c) => c.query(`create database "${template}"`));
    await platform('/clusters', { method: 'POST', json: { id: clusterId, admin_url: cluster.url, accepts_new_projects: false } });
  }, SLOW);
  after(async () => {
    for (const p of made) await p.remove().catch(() => undefined);
    await platform(`/clusters/${clusterId}`, { method: 'DELETE' }).catch(() => undefined);
    cluster?.stop();
  }, SLOW);

  it('a project copied from a template an earlier release made there has the newest migrations', SLOW, async () => {
    // the template as it was before the newest migration (0019, cron receipts): its objects and its record gone
    await withClient(onDatabase(cluster.url, template), (c) => c.query(`drop function basalt.cron_receipt(uuid, timestamptz, boolean);
      drop table basalt.cron_receipts; delete from basalt_migrations.applied where owner = 'tenant' and name = '0019_cron_receipts.sql'`));
    const p = await createProject('stale-template', { cluster: clusterId });
    made.push(p);
    const { rows: [{ receipts, applied }] } = await withClient(onDatabase(cluster.url, `proj_${p.ref}`), (c) => c.query(`
      select to_regclass('basalt.cron_receipts') is not null as receipts,
             exists (select 1 from basalt_migrations.applied where owner = 'tenant' and name = '0019_cron_receipts.sql') as applied`));
    assert.deepEqual({ receipts, applied }, { receipts: true, applied: true });
  });

  it('a project created there orders by code point in REST and documents', SLOW, async () => {
    const p = await createProject('collation', { cluster: clusterId });
    made.push(p);
    await withWords(p);
    assert.deepEqual(await orders(p), expected);
    assert.deepEqual(await localeOf(p), { datcollate: 'C.UTF-8', datlocprovider: 'c' });
  });

  it('a project moved there keeps its order', SLOW, async () => {
    const p = await createProject('collation-moved');
    made.push(p);
    await withWords(p);
    assert.deepEqual(await orders(p), expected);
    await platform(`/projects/${p.ref}/move`, { method: 'POST', json: { cluster: clusterId } });
    assert.deepEqual(await orders(p), expected);
    assert.deepEqual(await localeOf(p), { datcollate: 'C.UTF-8', datlocprovider: 'c' });
  });

  it('a project restored there keeps its order', SLOW, async () => {
    const p = await createProject('collation-restored', { cluster: clusterId });
    made.push(p);
    await withWords(p);
    const backup = await platform<{ id: string }>(`/projects/${p.ref}/backups`, { method: 'POST', json: {} });
    const done = (path: string) => eventually(async () => {
      const j = await platform<{ status: string }>(path);
      assert.notEqual(j.status, 'failed', JSON.stringify(j));
      return j.status === 'done';
    }, 120_000, 250);
    await done(`/projects/${p.ref}/backups/${backup.id}`);
    const restore = await platform<{ id: string }>(`/projects/${p.ref}/backups/${backup.id}/restore`, { method: 'POST', json: {} });
    await done(`/projects/${p.ref}/backups/${backup.id}/restores/${restore.id}`);
    assert.deepEqual(await orders(p), expected);
    assert.deepEqual(await localeOf(p), { datcollate: 'C.UTF-8', datlocprovider: 'c' });
  });
});
