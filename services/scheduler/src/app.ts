// createApp(deps): the scheduler's HTTP side (cron admin API, health); the loop and workers start in main.ts.
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { createService, errorShapes, registerRoutes, type Logger } from '@basalt/http';
import { pingControlPlane, type ProjectRegistry } from '@basalt/tenancy';
import { jobsDb } from './db/jobs.js';
import { jobsDomain } from './domain/jobs.js';
import { cronErrors } from './errors.js';
import { requireProjectOwner } from './routes/auth.js';
import { jobRoutes } from './routes/jobs.js';

export interface Deps {
  control: pg.Pool;
  redis: Redis;
  registry: ProjectRegistry;
  log: Logger;
  /** CRON_MAX_JOBS_PER_PROJECT */
  maxJobsPerProject: number;
}

export function createApp(deps: Deps) {
  const service = createService({
    name: 'scheduler',
    log: deps.log,
    errorShape: errorShapes.basalt,
    validationError: cronErrors.validation,
    bodyLimit: 256 * 1024,
    ready: () => pingControlPlane(deps.control, deps.redis),
  });
  service.app.register(async (api) => {
    api.addHook('onRequest', requireProjectOwner(deps.control, deps.registry));
    registerRoutes(api, jobRoutes(jobsDomain(jobsDb(deps.control), deps.maxJobsPerProject)));
  }, { prefix: '/cron/admin/v1' });
  return service;
}
