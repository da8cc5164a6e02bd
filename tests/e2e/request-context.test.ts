// One request context: the same RLS-visible settings (auth.uid(), auth.jwt()->>'email', request.jwt.claim.*,
// request.method) whichever service runs the statement. One table records what each service's statement saw:
// REST inserting as a user, storage inserting an object as that user (a trigger writes the row), and a cron job
// running a database function as the service role.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject, eventually, supabaseClient, testEnv, type TestProject } from '@basalt/testkit';

const env = testEnv();
const uid = '5c3f2d1e-0000-4000-8000-00000000abcd';
let p: TestProject;

before(async () => {
  p = await createProject('request-context');
  await p.sql(`
    create table seen (
      via text not null,
      uid uuid default auth.uid(),
      email text default auth.jwt()->>'email',
      claim_role text default current_setting('request.jwt.claim.role', true),
      claim_email text default current_setting('request.jwt.claim.email', true),
      method text default current_setting('request.method', true),
      db_role text default current_user
    );
    create policy own_rows on seen for insert to authenticated
      with check (uid = auth.uid() and email = auth.jwt()->>'email' and current_setting('request.jwt.claim.role') = 'authenticated');
    create policy read_own on seen for select to authenticated using (uid = auth.uid());
    grant insert, select on seen to authenticated;
    create function storage_seen() returns trigger language plpgsql as $$ begin insert into public.seen (via) values ('storage'); return new; end $$;
    create trigger seen_on_upload after insert on storage.objects for each row execute function storage_seen();
    create policy up on storage.objects for insert to authenticated with check (bucket_id = 'ctx' and owner_id = auth.uid()::text);
    create policy down on storage.objects for select to authenticated using (bucket_id = 'ctx');
    insert into storage.buckets (id, name) values ('ctx', 'ctx');
    create function cron_seen() returns void language sql as $$ insert into public.seen (via) values ('cron') $$;
  `);
});

const row = async (via: string) => (await p.sql<Record<string, string | null>>(`select uid, email, claim_role, claim_email, method, db_role from seen where via = '${via}'`))[0];

test('REST and storage statements see the caller: uid, email, per-claim settings, role', async () => {
  const token = p.token({ sub: uid, email: 'ctx@example.test', role: 'authenticated' });
  const sb = supabaseClient(p, { accessToken: token });
  const rest = await sb.from('seen').insert({ via: 'rest' });
  assert.equal(rest.error, null, rest.error?.message);
  const up = await sb.storage.from('ctx').upload(`${uid}/a.txt`, new Blob(['x'], { type: 'text/plain' }));
  assert.equal(up.error, null, up.error?.message);
  const expected = { uid, email: 'ctx@example.test', claim_role: 'authenticated', claim_email: 'ctx@example.test', db_role: 'authenticated' };
  for (const via of ['rest', 'storage']) {
    const seen = await row(via);
    assert.deepEqual({ ...seen, method: undefined }, { ...expected, method: undefined }, via);
    assert.ok(seen.method, `${via} sets request.method`);
  }
});

test('a cron database function runs as the service role with its claims', async () => {
  const r = await fetch(`${p.url}/cron/admin/v1/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${env.platformToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'ctx', schedule: '* * * * * *', target: { type: 'db_function', name: 'cron_seen' } }),
  });
  const job = (await r.json()) as { id: string };
  assert.equal(r.status, 201, JSON.stringify(job));
  const seen = await eventually(() => row('cron'), 8_000, 200);
  assert.equal(seen.claim_role, 'service_role');
  assert.equal(seen.db_role, 'service_role');
  assert.equal(seen.uid, null);
  await fetch(`${p.url}/cron/admin/v1/jobs/${job.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${env.platformToken}` } });
});
