// Errors of the cron admin API, rendered as {code, message}.
import { BasaltError } from '@basalt/errors';

export const cronErrors = {
  unauthorized: () => new BasaltError(401, 'unauthorized', "The project's service_role key or a platform token is required"),
  forbidden: () => new BasaltError(403, 'forbidden', "Cron jobs need the project's service_role key or a platform token"),
  projectNotFound: () => new BasaltError(404, 'project_not_found', 'Project not found'),
  jobNotFound: (id: string) => new BasaltError(404, 'job_not_found', `Cron job ${id} not found`),
  tooManyJobs: (max: number) =>
    new BasaltError(422, 'job_limit_reached', `A project may have at most ${max} cron jobs: delete one before creating another`),
  nameTaken: (name: string) => new BasaltError(409, 'job_exists', `A cron job named "${name}" already exists`),
  invalidSchedule: (schedule: string, why: string) =>
    new BasaltError(400, 'invalid_schedule', `Invalid crontab "${schedule}": ${why}. Use 5 fields (min hour day month weekday) or 6 (sec min hour day month weekday), in UTC`),
  validation: (message: string, details?: unknown) => new BasaltError(400, 'validation_failed', message, { details }),
};
