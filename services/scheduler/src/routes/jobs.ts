// /cron/admin/v1/jobs: list, create, read, change, delete, pause and resume jobs, and read their run history.
import { z } from 'zod';
import { defineRoute } from '@basalt/http';
import { CreateJob, UpdateJob, type JobsDomain } from '../domain/jobs.js';

const JobId = z.object({ id: z.string() });
const RunsQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).catch(100).default(100) });

export const jobRoutes = (jobs: JobsDomain) => [
  defineRoute({ method: 'GET', url: '/jobs', handler: (req) => jobs.list(req.ref) }),
  defineRoute({
    method: 'POST', url: '/jobs', schema: { body: CreateJob },
    handler: async (req, reply) => reply.code(201).send(await jobs.create(req.ref, req.body)),
  }),
  defineRoute({ method: 'GET', url: '/jobs/:id', schema: { params: JobId }, handler: (req) => jobs.get(req.ref, req.params.id) }),
  defineRoute({
    method: 'PATCH', url: '/jobs/:id', schema: { params: JobId, body: UpdateJob },
    handler: (req) => jobs.update(req.ref, req.params.id, req.body),
  }),
  defineRoute({
    method: 'DELETE', url: '/jobs/:id', schema: { params: JobId },
    handler: async (req, reply) => {
      await jobs.remove(req.ref, req.params.id);
      return reply.code(204).send();
    },
  }),
  defineRoute({ method: 'POST', url: '/jobs/:id/pause', schema: { params: JobId }, handler: (req) => jobs.pause(req.ref, req.params.id) }),
  defineRoute({ method: 'POST', url: '/jobs/:id/resume', schema: { params: JobId }, handler: (req) => jobs.resume(req.ref, req.params.id) }),
  defineRoute({
    method: 'GET', url: '/jobs/:id/runs', schema: { params: JobId, querystring: RunsQuery },
    handler: (req) => jobs.runs(req.ref, req.params.id, req.query.limit),
  }),
];
