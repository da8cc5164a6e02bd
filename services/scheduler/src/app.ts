// createApp(deps): the scheduler's HTTP side (cron admin API, health); the loop and workers start in main.ts.
import express from 'express';
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { createServiceApp, errorShapes, type Logger } from '@basalt/http';
import { pingControlPlane, type ProjectRegistry } from '@basalt/tenancy';
import { jobsDb } from './db/jobs.js';
import { jobsDomain } from './domain/jobs.js';
import { requireProjectOwner } from './routes/auth.js';
import { jobRoutes } from './routes/jobs.js';

export interface Deps {
  control: pg.Pool;
  redis: Redis;
  registry: ProjectRegistry;
  log: Logger;
}

export function createApp(deps: Deps) {
  const service = createServiceApp({
    name: 'scheduler',
    log: deps.log,
    errorShape: errorShapes.basalt,
    ready: () => pingControlPlane(deps.control, deps.redis),
  });
  const api = express.Router();
  api.use(express.json({ limit: '256kb' }));
  api.use(requireProjectOwner(deps.control, deps.registry));
  api.use(jobRoutes(jobsDomain(jobsDb(deps.control))));
  service.app.use('/cron/admin/v1', api);
  return { ...service, app: service.finish() };
}
