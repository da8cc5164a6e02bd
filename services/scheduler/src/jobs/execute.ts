// Executes one run from the `cron-runs` queue: a function in the project's database (named JSON arguments,
// as service_role, under the job's timeout) or an edge function through the functions service.
import type pg from 'pg';
import type { Job } from '@basalt/queue';
import { ident, setRequestRole, withTransaction, type ProjectPools } from '@basalt/db';
import type { Logger } from '@basalt/http';
import type { ProjectRegistry } from '@basalt/tenancy';
import { finishRun, startRun, type ClaimedRun } from '../db/claims.js';
import type { Target } from '../db/jobs.js';
import type { RunMessage } from './tick.js';

export interface ExecuteDeps {
  control: pg.Pool;
  registry: ProjectRegistry;
  pools: ProjectPools;
  functionsUrl: string;
  log: Logger;
}

class RunTimeout extends Error {}

async function callDbFunction(d: ExecuteDeps, run: ClaimedRun, target: Extract<Target, { type: 'db_function' }>): Promise<void> {
  const project = await d.registry.get(run.ref);
  if (!project) throw new Error('project not found');
  const [schema, fn] = target.name.includes('.') ? target.name.split('.') : ['public', target.name];
  const entries = Object.entries(target.args ?? {});
  const args = entries.map(([k], i) => `${ident(k)} => $${i + 1}`).join(', ');
  const values = entries.map(([, v]) => (v === null ? null : typeof v === 'object' ? JSON.stringify(v) : String(v)));
  await withTransaction(d.pools.get(project), async (client) => {
    await setRequestRole(client, 'service_role', { role: 'service_role', ref: project.ref });
    await client.query("select set_config('statement_timeout', $1, true)", [String(run.timeout_ms)]);
    try {
      await client.query(`select ${ident(schema)}.${ident(fn)}(${args})`, values);
    } catch (e) {
      if ((e as { code?: string }).code === '57014') throw new RunTimeout(`timed out after ${run.timeout_ms} ms`);
      throw e;
    }
  });
}

async function callEdgeFunction(d: ExecuteDeps, run: ClaimedRun, target: Extract<Target, { type: 'edge_function' }>): Promise<void> {
  const project = await d.registry.get(run.ref);
  if (!project) throw new Error('project not found');
  let r: Response;
  try {
    r = await fetch(`${d.functionsUrl}/functions/v1/${encodeURIComponent(target.slug)}`, {
      method: 'POST',
      headers: {
        'x-basalt-ref': project.ref,
        authorization: `Bearer ${project.serviceKey}`,
        apikey: project.serviceKey,
        'content-type': 'application/json',
        'x-basalt-cron-run': run.run_id,
      },
      body: JSON.stringify(target.body ?? {}),
      signal: AbortSignal.timeout(run.timeout_ms),
    });
  } catch (e) {
    if ((e as Error).name === 'TimeoutError') throw new RunTimeout(`timed out after ${run.timeout_ms} ms`);
    throw new Error(`functions service unreachable: ${(e as Error).message}`);
  }
  const text = await r.text();
  if (!r.ok) throw new Error(`function answered ${r.status}: ${text.slice(0, 500)}`);
}

export function runProcessor(d: ExecuteDeps) {
  return async (job: Job<RunMessage>): Promise<void> => {
    const run = await startRun(d.control, job.data.runId);
    if (!run) return; // already run (or running) elsewhere: delivery is at-least-once, the effect is not
    try {
      if (run.target.type === 'db_function') await callDbFunction(d, run, run.target);
      else await callEdgeFunction(d, run, run.target);
      await finishRun(d.control, run.run_id, 'succeeded', null);
    } catch (e) {
      const timedOut = e instanceof RunTimeout;
      await finishRun(d.control, run.run_id, timedOut ? 'timed_out' : 'failed', (e as Error).message.slice(0, 2000));
      d.log.info({ runId: run.run_id, jobId: run.job_id, ref: run.ref, err: (e as Error).message }, timedOut ? 'cron run timed out' : 'cron run failed');
    }
  };
}
