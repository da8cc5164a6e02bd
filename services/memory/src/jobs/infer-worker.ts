// The `memory-infer` queue: a job names a project and an event; the event row holds the input and the
// outcome, so a job retried after a crash (or delivered twice) finds it done and applies nothing again.
import type { Job } from '@basalt/queue';
import type { ProjectPools } from '@basalt/db';
import type { Logger } from '@basalt/http';
import type { ProjectRegistry } from '@basalt/tenancy';
import type { InferDomain } from '../domain/infer.js';
import { memorySettings } from '../domain/settings.js';

export const INFER_QUEUE = 'memory-infer';
export const INFER_ATTEMPTS = 3;

export interface InferJob {
  ref: string;
  eventId: string;
}

export const inferProcessor = (o: { registry: ProjectRegistry; pools: ProjectPools; infer: InferDomain; log: Logger }) => async (job: Job<InferJob>) => {
  const { ref, eventId } = job.data;
  const project = await o.registry.get(ref);
  if (!project) return; // deleted since: nothing to do
  const ctx = {
    caller: { project, kind: 'service_role' as const, userId: null, claims: { role: 'service_role', ref } },
    settings: memorySettings(project),
    pool: o.pools.get(project),
  };
  const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  try {
    await o.infer.process(ctx, eventId, last);
  } catch (err) {
    o.log.warn({ ref, eventId, err: (err as Error).message, last }, 'memory inference failed');
    throw err;
  }
};
