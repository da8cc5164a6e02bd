// /platform/v1/projects/:ref/sleep: a project's sleep state for anyone with access to it; putting it to sleep now
// is for operators (an unscoped token), as the sleeper does for idle projects.
import { z } from 'zod';
import { defineRoute } from '@basalt/http';
import type { SleepDomain } from '../domain/sleep.js';
import { requireUnscoped } from './auth.js';

const Ref = z.object({ ref: z.string() });

export const sleepRoutes = (sleep: SleepDomain) => [
  defineRoute({ method: 'GET', url: '/projects/:ref/sleep', schema: { params: Ref }, handler: (req) => sleep.status(req.params.ref) }),
  defineRoute({
    method: 'POST', url: '/projects/:ref/sleep', schema: { params: Ref }, preHandler: requireUnscoped('(sleep)'),
    handler: (req) => sleep.sleep(req.params.ref),
  }),
];
