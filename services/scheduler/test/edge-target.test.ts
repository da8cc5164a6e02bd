// A cron job whose target is an edge function: the function runs every second with the job's body, as the
// project's service role because it opted into it (allow_service_role), and a failing function is a failed run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject, eventually, platform } from '@basalt/testkit';

test('an edge-function cron target is invoked with its body; non-2xx answers are failed runs', async () => {
  const p = await createProject('cron-edge');
  await p.sql('create table pings (note text, at timestamptz default now())');
  // The function writes back through the project's REST API with the key it was invoked with.
  await platform(`/projects/${p.ref}/functions`, {
    method: 'POST',
    json: {
      slug: 'pinger',
      allow_service_role: true,
      source: `Deno.serve(async (req) => {
        const { note } = await req.json();
        const key = req.headers.get('apikey') ?? '';
        const r = await fetch(Deno.env.get('SUPABASE_URL') + '/rest/v1/pings', { method: 'POST', headers: { apikey: key, authorization: 'Bearer ' + key, 'content-type': 'application/json' }, body: JSON.stringify({ note }) });
        return new Response(r.ok ? null : r.status + ' ' + (await r.text()), { status: r.ok ? 204 : 502 });
      })`,
    },
  });
  await platform(`/projects/${p.ref}/functions`, { method: 'POST', json: { slug: 'failing', source: `Deno.serve(() => new Response('nope', { status: 500 }))` } });
  const cron = (json: unknown) =>
    fetch(`${p.url}/cron/admin/v1/jobs`, { method: 'POST', headers: { apikey: p.serviceKey, 'content-type': 'application/json' }, body: JSON.stringify(json) }).then((r) => r.json() as Promise<{ id: string }>);
  const ok = await cron({ name: 'ping', schedule: '* * * * * *', target: { type: 'edge_function', slug: 'pinger', body: { note: 'from cron' } } });
  const bad = await cron({ name: 'fail', schedule: '* * * * * *', target: { type: 'edge_function', slug: 'failing' } });
  const runs = (id: string) => fetch(`${p.url}/cron/admin/v1/jobs/${id}/runs`, { headers: { apikey: p.serviceKey } }).then((r) => r.json() as Promise<{ status: string; error: string | null }[]>);
  await eventually(async () => (await runs(ok.id)).filter((r) => r.status === 'succeeded').length >= 2, 10_000, 200).catch(async () =>
    assert.fail(`runs: ${JSON.stringify((await runs(ok.id)).slice(0, 3))}`));
  const failed = await eventually(async () => (await runs(bad.id)).find((r) => r.status === 'failed'), 10_000, 200);
  assert.match(failed!.error!, /answered 500/);
  const rows = await p.sql<{ note: string }>('select note from pings');
  assert.ok(rows.length >= 2 && rows.every((r) => r.note === 'from cron'));
});
