// Executes a batch of runs from the `cron-runs` queue: functions in the project's database (named JSON arguments,
// as service_role, under the job's timeout; several runs of a project to a round trip) or an edge function through
// the functions service.
import type pg from 'pg';
import type { ProjectPools } from '@basalt/db';
import type { Logger } from '@basalt/http';
import { signJwt } from '@basalt/jwt';
import type { Job } from '@basalt/queue';
import type { ProjectActivity, ProjectRegistry } from '@basalt/tenancy';
import { finishRuns, startRuns, type ClaimedRun, type RunOutcome } from '../db/claims.js';
import type { Target } from '../db/jobs.js';
import { runDbFunctions, type DbFunctionRun } from './db-function-trips.js';
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

/** the most runs of one project sent in one round trip: more saves little and holds up more runs behind a slow one */
const MAX_TRIP = 8;

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

const logFailure = (d: ExecuteDeps, run: ClaimedRun, o: RunOutcome) =>
  d.log.info({ runId: run.run_id, jobId: run.job_id, ref: run.ref, err: o.error }, o.status === 'timed_out' ? 'cron run timed out' : 'cron run failed');

/** A cron run is activity: it keeps its project awake, and wakes a sleeping one first. */
async function wake(d: ExecuteDeps, ref: string) {
  const project = await d.registry.get(ref);
  if (project && d.activity) {
    d.activity.touch(project.ref);
    await d.activity.awake(project);
  }
  return project;
}

async function executeEdge(d: ExecuteDeps, run: ClaimedRun & { target: Extract<Target, { type: 'edge_function' }> }): Promise<RunOutcome> {
  const startedAt = new Date();
  const started = performance.now();
  try {
    await wake(d, run.ref);
    await callEdgeFunction(d, run, run.target);
    return { runId: run.run_id, status: 'succeeded', error: null, startedAt, durationMs: performance.now() - started };
  } catch (e) {
    const timedOut = e instanceof RunTimeout;
    const o: RunOutcome = { runId: run.run_id, status: timedOut ? 'timed_out' : 'failed', error: (e as Error).message.slice(0, 2000), startedAt, durationMs: performance.now() - started };
    logFailure(d, run, o);
    return o;
  }
}

/** one trip of one project's db_function runs */
async function executeTrip(d: ExecuteDeps, ref: string, runs: DbFunctionRun[]): Promise<RunOutcome[]> {
  const startedAt = new Date();
  let outcomes: RunOutcome[];
  try {
    const project = await wake(d, ref);
    if (!project) throw new Error('project not found');
    outcomes = await runDbFunctions(d.pools.get(project), project.ref, runs, project.quotas.statement_timeout_ms);
  } catch (e) {
    const error = (e as Error).message.slice(0, 2000);
    outcomes = runs.map((run) => ({ runId: run.run_id, status: 'failed', error, startedAt, durationMs: Date.now() - startedAt.getTime() }));
  }
  outcomes.forEach((o, i) => o.status !== 'succeeded' && logFailure(d, runs[i], o));
  return outcomes;
}

/** The batch as units of work: a trip per few db_function runs of one project, a unit per edge function run. */
function units(d: ExecuteDeps, runs: ClaimedRun[]): (() => Promise<RunOutcome[]>)[] {
  const out: (() => Promise<RunOutcome[]>)[] = [];
  const byRef = new Map<string, DbFunctionRun[]>();
  for (const run of runs) {
    if (run.target.type === 'db_function') {
      const group = byRef.get(run.ref) ?? [];
      group.push(run as DbFunctionRun);
      byRef.set(run.ref, group);
    } else {
      const edge = run as ClaimedRun & { target: Extract<Target, { type: 'edge_function' }> };
      out.push(async () => [await executeEdge(d, edge)]);
    }
  }
  for (const [ref, group] of byRef) {
    // spread over the lanes first: a project's runs use as many of its connections as the batch may
    const size = Math.min(MAX_TRIP, Math.ceil(group.length / d.parallel));
    for (let i = 0; i < group.length; i += size) {
      const trip = group.slice(i, i + size);
      out.push(() => executeTrip(d, ref, trip));
    }
  }
  return out;
}

export function runProcessor(d: ExecuteDeps) {
  return async (job: Job<RunMessage>): Promise<void> => {
    // Already started elsewhere are left out: delivery is at-least-once, the effect is not.
    const runs = await startRuns(d.control, job.data.runIds);
    const work = units(d, runs);
    const outcomes: RunOutcome[] = [];
    let next = 0;
    const lane = async () => {
      while (next < work.length) outcomes.push(...(await work[next++]()));
    };
    await Promise.all(Array.from({ length: Math.min(d.parallel, work.length) }, lane));
    await finishRuns(d.control, outcomes);
  };
}
