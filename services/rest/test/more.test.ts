// The less common parts of PostgREST: CSV and form bodies, PUT, Location, strict preferences, max-affected,
// representations with embeds, to-many spread, embedded logic trees, computed fields, extra schemas, timeouts.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject, eventually, platform, type TestProject } from '@basalt/testkit';
import { client, raw } from './helpers.js';

let p: TestProject;

before(async () => {
  p = await createProject('rest-more');
  await p.sql(`
    create table teams (id int primary key, name text not null);
    create table players (id int primary key, name text, team_id int references teams, score int default 0);
    create policy a on teams using (true) with check (true);
    create policy a on players using (true) with check (true);
    insert into teams values (1, 'Red'), (2, 'Blue');
    insert into players values (1, 'ann', 1, 10), (2, 'bo', 1, 20), (3, 'cy', 2, 30);
    create function initials(teams) returns text language sql stable as $$ select left($1.name, 1) $$;
    create function sleepy() returns int language sql as $$ select 1 from pg_sleep(5) $$;
    create function team_players(t int) returns setof players language sql stable as $$ select * from players where team_id = t $$;
    create function whoami() returns text language sql stable as $$ select coalesce(auth.uid()::text, 'nobody') || ':' || current_user $$;
    create function now_text() returns text language sql stable as $$ select to_char(now(), 'OF') $$;
    create function claim_email() returns text language sql stable as $$ select current_setting('request.jwt.claim.email', true) $$;
    create function bump() returns int language sql volatile as $$ update players set score = score + 1 where id = 1 returning score $$;
    create table storage.rest_test_notes (id int primary key, body text);
    grant select on storage.rest_test_notes to anon;
    insert into storage.rest_test_notes values (1, 'not in public');
  `);
});

const svc = () => client(p, p.serviceKey);

test('CSV and form bodies, PUT upsert, Location with return=headers-only', async () => {
  const csv = await raw(p, '/players', { method: 'POST', bearer: p.serviceKey, body: 'id,name,team_id\n10,"d, e",2\n11,,1', headers: { 'content-type': 'text/csv', prefer: 'return=representation' } });
  assert.equal(csv.status, 201);
  assert.deepEqual(csv.body.map((r: any) => [r.id, r.name]), [[10, 'd, e'], [11, null]]);
  const form = await raw(p, '/teams', { method: 'POST', bearer: p.serviceKey, body: 'id=3&name=Green', headers: { 'content-type': 'application/x-www-form-urlencoded', prefer: 'return=headers-only' } });
  assert.equal(form.status, 201);
  assert.equal(form.headers.get('location'), '/teams?id=eq.3');
  const put = await raw(p, '/teams?id=eq.3', { method: 'PUT', bearer: p.serviceKey, json: { id: 3, name: 'Lime' }, headers: { prefer: 'return=representation' } });
  assert.deepEqual(put.body, [{ id: 3, name: 'Lime' }]);
  const mismatch = await raw(p, '/teams?id=eq.3', { method: 'PUT', bearer: p.serviceKey, json: { id: 4, name: 'x' } });
  assert.equal(mismatch.status, 400);
  assert.equal(mismatch.body.code, 'PGRST115');
  const badCol = await raw(p, '/teams?columns=id,nope', { method: 'POST', bearer: p.serviceKey, json: [{ id: 9 }] });
  assert.equal(badCol.body.code, 'PGRST204');
});

test('preferences: strict handling, max-affected, Preference-Applied, count on writes', async () => {
  const strict = await raw(p, '/players', { method: 'DELETE', bearer: p.serviceKey, headers: { prefer: 'handling=strict, bogus=1' } });
  assert.equal(strict.status, 400);
  assert.equal(strict.body.code, 'PGRST122');
  const tooMany = await raw(p, '/players?team_id=eq.1', { method: 'PATCH', bearer: p.serviceKey, json: { score: 0 }, headers: { prefer: 'handling=strict, max-affected=1' } });
  assert.equal(tooMany.status, 400);
  assert.equal(tooMany.body.code, 'PGRST124');
  const unchanged = await svc().from('players').select('score').eq('id', 1).single();
  assert.equal(unchanged.data?.score, 10);
  const ok = await raw(p, '/players?id=eq.1', { method: 'PATCH', bearer: p.serviceKey, json: { score: 11 }, headers: { prefer: 'handling=strict, max-affected=1, return=representation, count=exact' } });
  assert.equal(ok.status, 200);
  assert.match(ok.headers.get('preference-applied') ?? '', /return=representation/);
  assert.equal(ok.headers.get('content-range'), '0-0/1');
  const tz = await raw(p, '/rpc/now_text', { headers: { prefer: 'timezone=America/Los_Angeles' } });
  assert.match(tz.body, /-0[78]$/);
  const badTz = await raw(p, '/rpc/now_text', { headers: { prefer: 'timezone=Nowhere/Else' } });
  assert.equal(badTz.status, 400);
  const maxAffected = await (svc().from('players').update({ score: 12 }).eq('id', 1) as any).maxAffected(1).select('score'); // typed for PostgREST 13 clients only
  assert.deepEqual(maxAffected.data, [{ score: 12 }]);
});

test('representations embed, spread to-many, embedded or, computed fields', async () => {
  const ins = await svc().from('players').insert({ id: 20, name: 'zed', team_id: 2 }).select('name, team:teams(name)').single();
  assert.deepEqual(ins.data, { name: 'zed', team: { name: 'Blue' } });
  const spread = await svc().from('teams').select('id, ...players(names:name)').eq('id', 2).order('id', { referencedTable: 'players' });
  assert.deepEqual(spread.data, [{ id: 2, names: ['cy', 'd, e', 'zed'] }]);
  const embOr = await svc().from('teams').select('id, players(name)').eq('id', 1).or('score.gt.15,name.eq.ann', { referencedTable: 'players' }).order('id', { referencedTable: 'players' });
  assert.deepEqual(embOr.data, [{ id: 1, players: [{ name: 'ann' }, { name: 'bo' }] }]);
  const computed = await svc().from('teams').select('name, initials').eq('initials', 'R');
  assert.deepEqual(computed.data, [{ name: 'Red', initials: 'R' }]);
});

test('rpc HEAD and count on set-returning functions; GET arguments with filters', async () => {
  const counted = await client(p).rpc('team_players', { t: 1 }, { count: 'exact' }).select('name').order('id');
  assert.equal(counted.count, 3);
  assert.deepEqual((counted.data as { name: string | null }[]).map((r) => r.name), ['ann', 'bo', null]); // the third came from the CSV test
  const head = await client(p).rpc('team_players', { t: 2 }, { head: true, count: 'exact' });
  assert.equal(head.status, 200);
  assert.equal(head.data, null);
  const get = await raw(p, '/rpc/team_players?t=1&score=gte.20&select=name');
  assert.deepEqual(get.body, [{ name: 'bo' }]);
});

test('Accept-Profile/Content-Profile reach only exposed schemas', async () => {
  // A schema that every project has but does not expose by default (owned by basalt_admin, so the test can create in it).
  const before = await client(p, p.anonKey, undefined, 'storage').from('rest_test_notes').select('body');
  assert.equal(before.error?.code, 'PGRST106');
  await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { settings: { rest: { schemas: ['public', 'storage'] } } } });
  const got = await eventually(async () => {
    const r = await client(p, p.anonKey, undefined, 'storage').from('rest_test_notes').select('body');
    if (!r.data) throw new Error(JSON.stringify(r.error));
    return r;
  });
  assert.deepEqual(got.data, [{ body: 'not in public' }]);
  assert.equal((await client(p, p.anonKey, undefined, 'pg_catalog').from('pg_authid').select()).error?.code, 'PGRST106');
});

test('the anon statement timeout cancels a slow query with a clear error', async () => {
  const slow = await client(p).rpc('sleepy');
  assert.equal(slow.error?.code, '57014');
  assert.ok(slow.status >= 500 && slow.status !== 503, String(slow.status));
});

test("settings are per request: a user's role and claims never carry over to the next request on a connection", async () => {
  const uid = '00000000-0000-4000-8000-000000000001';
  const user = client(p, p.anonKey, p.token({ sub: uid }));
  const anon = client(p);
  for (let i = 0; i < 15; i++) {
    const [u, a] = await Promise.all([user.rpc('whoami'), anon.rpc('whoami')]);
    assert.equal(u.data, `${uid}:authenticated`);
    assert.equal(a.data, 'nobody:anon');
  }
  const email = await client(p, p.anonKey, p.token({ sub: uid, email: 'u@example.com', 'https://x.io/claims': { a: 1 } })).rpc('claim_email');
  assert.equal(email.data, 'u@example.com');
  assert.equal((await client(p).rpc('claim_email')).data ?? '', '');
});

test('GET runs read-only: a volatile function that writes is refused with 405 over GET and runs over POST', async () => {
  const get = await raw(p, '/rpc/bump');
  assert.equal(get.status, 405);
  assert.equal(get.body.code, '25006');
  const post = await client(p, p.serviceKey).rpc('bump');
  assert.equal(post.error, null);
  assert.equal(typeof post.data, 'number');
});
