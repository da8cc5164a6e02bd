// Hostile input from a project's owner: what once let one project grow the scheduler's tables without bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject } from '@basalt/testkit';

const MAX_JOBS = 100; // CRON_MAX_JOBS_PER_PROJECT's default

test('jobs per project are bounded, racing creates included: past the limit a create is 422 job_limit_reached', async () => {
  const p = await createProject('cron-hostile-jobs');
  const create = (name: string) =>
    fetch(`${p.url}/cron/admin/v1/jobs`, {
      method: 'POST',
      headers: { apikey: p.serviceKey, authorization: `Bearer ${p.serviceKey}`, 'content-type': 'application/json' },
      // once a year: none of them runs while the test does
      body: JSON.stringify({ name, schedule: '0 0 1 1 *', target: { type: 'db_function', name: 'nothing' } }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as { code?: string } }));
  const answers: { status: number; body: { code?: string } }[] = [];
  const names = Array.from({ length: MAX_JOBS + 20 }, (_, i) => `job-${i}`);
  for (let i = 0; i < names.length; i += 30) answers.push(...(await Promise.all(names.slice(i, i + 30).map(create))));
  const created = answers.filter((a) => a.status === 201).length;
  assert.equal(created, MAX_JOBS, JSON.stringify(answers.filter((a) => a.status !== 201).slice(0, 3)));
  assert.ok(answers.filter((a) => a.status !== 201).every((a) => a.status === 422 && a.body.code === 'job_limit_reached'));
  const list = await fetch(`${p.url}/cron/admin/v1/jobs`, { headers: { apikey: p.serviceKey, authorization: `Bearer ${p.serviceKey}` } });
  assert.equal(((await list.json()) as unknown[]).length, MAX_JOBS);
  // a job deleted makes room again
  const [first] = (await (await fetch(`${p.url}/cron/admin/v1/jobs`, { headers: { apikey: p.serviceKey, authorization: `Bearer ${p.serviceKey}` } })).json()) as { id: string }[];
  const removed = await fetch(`${p.url}/cron/admin/v1/jobs/${first.id}`, { method: 'DELETE', headers: { apikey: p.serviceKey, authorization: `Bearer ${p.serviceKey}` } });
  assert.equal(removed.status, 204);
  assert.equal((await create('one-more')).status, 201);
});
