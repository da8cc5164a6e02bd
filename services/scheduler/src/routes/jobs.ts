// /cron/admin/v1/jobs
//   GET    /jobs                 list
//   POST   /jobs                 create {name, schedule, target, timeout_ms?} → 201
//   GET    /jobs/:id             one
//   PATCH  /jobs/:id             change name, schedule, target, timeout_ms
//   DELETE /jobs/:id
//   POST   /jobs/:id/pause | /resume
//   GET    /jobs/:id/runs?limit= run history, newest first
import { Router } from 'express';
import { CreateJob, parse, UpdateJob, type JobsDomain } from '../domain/jobs.js';

export function jobRoutes(jobs: JobsDomain): Router {
  const r = Router();
  r.get('/jobs', async (req, res) => void res.json(await jobs.list(req.ref)));
  r.post('/jobs', async (req, res) => void res.status(201).json(await jobs.create(req.ref, parse(CreateJob, req.body))));
  r.get('/jobs/:id', async (req, res) => void res.json(await jobs.get(req.ref, req.params.id)));
  r.patch('/jobs/:id', async (req, res) => void res.json(await jobs.update(req.ref, req.params.id, parse(UpdateJob, req.body))));
  r.delete('/jobs/:id', async (req, res) => {
    await jobs.remove(req.ref, req.params.id);
    res.status(204).end();
  });
  r.post('/jobs/:id/pause', async (req, res) => void res.json(await jobs.pause(req.ref, req.params.id)));
  r.post('/jobs/:id/resume', async (req, res) => void res.json(await jobs.resume(req.ref, req.params.id)));
  r.get('/jobs/:id/runs', async (req, res) => void res.json(await jobs.runs(req.ref, req.params.id, Number(req.query.limit ?? 100) || 100)));
  return r;
}
