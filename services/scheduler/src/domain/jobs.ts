// Cron job rules: validated input, the first slot from now on create/resume (no catch-up), run history.
import { z } from 'zod';
import type { JobRecord, JobsDb, Target } from '../db/jobs.js';
import { cronErrors } from '../errors.js';
import { nextSlot, validateSchedule } from './crontab.js';

const identifier = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const TargetSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('edge_function'), slug: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'a function slug'), body: z.unknown().optional() }).strict(),
  z.object({
    type: z.literal('db_function'),
    name: z.string().regex(/^([A-Za-z_][A-Za-z0-9_]{0,62}\.)?[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'a function name, optionally schema-qualified'),
    args: z.record(z.string().regex(identifier, 'argument names are identifiers'), z.unknown()).optional(),
  }).strict(),
]);

export const CreateJob = z.object({
  name: z.string().trim().min(1).max(128),
  schedule: z.string().min(1).max(256),
  target: TargetSchema,
  timeout_ms: z.number().int().min(100).max(900_000).optional(),
}).strict();

export const UpdateJob = CreateJob.partial().strict();

const view = (j: JobRecord) => ({
  id: j.id, name: j.name, schedule: j.schedule, target: j.target, timeout_ms: j.timeout_ms, paused: j.paused,
  next_run_at: j.paused ? null : j.next_run_at.toISOString(), created_at: j.created_at.toISOString(), updated_at: j.updated_at.toISOString(),
});

/** `maxJobs`: jobs one project may have (CRON_MAX_JOBS_PER_PROJECT) */
export function jobsDomain(jobs: JobsDb, maxJobs: number) {
  const mustGet = async (ref: string, id: string) => {
    const j = /^[0-9a-f-]{36}$/i.test(id) ? await jobs.get(ref, id) : null;
    if (!j) throw cronErrors.jobNotFound(id);
    return j;
  };
  return {
    async create(ref: string, input: z.infer<typeof CreateJob>) {
      validateSchedule(input.schedule);
      const j = await jobs.insert({
        ref, name: input.name, schedule: input.schedule.trim(), target: input.target as Target,
        timeoutMs: input.timeout_ms ?? 30_000, nextRunAt: nextSlot(input.schedule, new Date()),
      }, maxJobs);
      if (j === 'exists') throw cronErrors.nameTaken(input.name);
      if (j === 'full') throw cronErrors.tooManyJobs(maxJobs);
      return view(j);
    },
    list: async (ref: string) => (await jobs.list(ref)).map(view),
    get: async (ref: string, id: string) => view(await mustGet(ref, id)),
    async update(ref: string, id: string, input: z.infer<typeof UpdateJob>) {
      const current = await mustGet(ref, id);
      if (input.schedule) validateSchedule(input.schedule);
      const j = await jobs.update(ref, id, {
        name: input.name, schedule: input.schedule?.trim(), target: input.target as Target | undefined, timeoutMs: input.timeout_ms,
        nextRunAt: input.schedule ? nextSlot(input.schedule, new Date()) : undefined,
      });
      return view(j ?? current);
    },
    async remove(ref: string, id: string) {
      await mustGet(ref, id);
      await jobs.remove(ref, id);
    },
    async pause(ref: string, id: string) {
      await mustGet(ref, id);
      return view((await jobs.update(ref, id, { paused: true }))!);
    },
    /** Resuming schedules the first slot after now: slots missed while paused are not run. */
    async resume(ref: string, id: string) {
      const j = await mustGet(ref, id);
      return view((await jobs.update(ref, id, { paused: false, nextRunAt: nextSlot(j.schedule, new Date()) }))!);
    },
    async runs(ref: string, id: string, limit: number) {
      await mustGet(ref, id);
      return (await jobs.runs(id, Math.min(Math.max(limit, 1), 1000))).map((r) => ({
        id: r.id, scheduled_at: r.scheduled_at.toISOString(), status: r.status, started_at: r.started_at?.toISOString() ?? null,
        finished_at: r.finished_at?.toISOString() ?? null, duration_ms: r.duration_ms, error: r.error,
      }));
    },
  };
}

export type JobsDomain = ReturnType<typeof jobsDomain>;
