// Executes a batch of runs from the `cron-runs` queue: a function in the project's database (named JSON
// arguments, as service_role, under the job's timeout) or an edge function through the functions service.
import type pg from 'pg';
import { ident, literal, oneTrip, type ProjectPools } from '@basalt/db';
import type { Logger } from '@basalt/http';
import { signJwt } from '@basalt/jwt';
import type { Job } from '@basalt/queue';
import type { ProjectActivity, ProjectRegistry } from '@basalt/tenancy';
import { finishRuns, startRuns, type ClaimedRun, type RunOutcome } from '../db/claims.js';
import type { Target } from '../db/jobs.js';
import type { RunMessage } from './tick.js';

export interface ExecuteDeps {
  control: pg.Pool;
  registry: ProjectRegistry;
  pools: ProjectPools;
  functionsUrl: string;
  log: Logger;
  /** runs of one batch executed at once */
  parallel: number;
  /** a cron run is activity: it keeps its project awake, and wakes a sleeping one first */
  activity?: ProjectActivity;
}

class RunTimeout extends Error {}

const asText = (v: unknown) => (v === null || v === undefined ? 'null' : literal(typeof v === 'object' ? JSON.stringify(v) : String(v)));

/**
 * One round trip (oneTrip): the simple query protocol carries the whole transaction. Names are quoted
 * identifiers, argument values quoted literals (typed by the function's signature), validated as identifiers on
 * the way in.
 */
async function callDbFunction(d: ExecuteDeps, run: ClaimedRun, target: Extract<Target, { type: 'db_function' }>): Promise<void> {
  const project = await d.registry.get(run.ref);
  if (!project) throw new Error('project not found');
  const [schema, fn] = target.name.includes('.') ? target.name.split('.') : ['public', target.name];
  const args = Object.entries(target.args ?? {}).map(([k, v]) => `${ident(k)} => ${asText(v)}`).join(', ');
  // the one request context every service uses, so policies and functions see the same settings as under REST
  const caller = { role: 'service_role', claims: { role: 'service_role', ref: project.ref }, timeoutMs: run.timeout_ms, method: 'POST', path: `cron:${run.job_id}` };
  await oneTrip(d.pools.get(project), caller, `select ${ident(schema)}.${ident(fn)}(${args})`, [],
    (e) => ((e as { code?: string }).code === '57014' ? new RunTimeout(`timed out after ${run.timeout_ms} ms`) : e));
}

async function callEdgeFunction(d: ExecuteDeps, run: ClaimedRun, target: Extract<Target, { type: 'edge_function' }>): Promise<void> {
  const project = await d.registry.get(run.ref);
  if (!project) throw new Error('project not found');
  // Never the service key: an anon-role token for this run, signed by the project. The functions service hands
  // the function the service_role key only when the function opted in (allow_service_role).
  const now = Math.floor(Date.now() / 1000);
  const token = signJwt({ iss: 'basalt', ref: project.ref, role: 'anon', cron_run: run.run_id, iat: now, exp: now + Math.ceil(run.timeout_ms / 1000) + 60 }, project.jwtKey);
  let r: Response;
  try {
    r = await fetch(`${d.functionsUrl}/functions/v1/${encodeURIComponent(target.slug)}`, {
      method: 'POST',
      headers: {
        'x-basalt-ref': project.ref,
        authorization: `Bearer ${token}`,
        apikey: project.anonKey,
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

async function execute(d: ExecuteDeps, run: ClaimedRun): Promise<RunOutcome> {
  const startedAt = new Date();
  const started = performance.now();
  try {
    const project = d.activity ? await d.registry.get(run.ref) : null;
    if (project) {
      d.activity!.touch(project.ref);
      await d.activity!.awake(project);
    }
    if (run.target.type === 'db_function') await callDbFunction(d, run, run.target);
    else await callEdgeFunction(d, run, run.target);
    return { runId: run.run_id, status: 'succeeded', error: null, startedAt, durationMs: performance.now() - started };
  } catch (e) {
    const timedOut = e instanceof RunTimeout;
    d.log.info({ runId: run.run_id, jobId: run.job_id, ref: run.ref, err: (e as Error).message }, timedOut ? 'cron run timed out' : 'cron run failed');
    return { runId: run.run_id, status: timedOut ? 'timed_out' : 'failed', error: (e as Error).message.slice(0, 2000), startedAt, durationMs: performance.now() - started };
  }
}

export function runProcessor(d: ExecuteDeps) {
  return async (job: Job<RunMessage>): Promise<void> => {
    // Already started elsewhere are left out: delivery is at-least-once, the effect is not.
    const runs = await startRuns(d.control, job.data.runIds);
    const outcomes: RunOutcome[] = [];
    let next = 0;
    const lane = async () => {
      while (next < runs.length) outcomes.push(await execute(d, runs[next++]));
    };
    await Promise.all(Array.from({ length: Math.min(d.parallel, runs.length) }, lane));
    await finishRuns(d.control, outcomes);
  };
}
