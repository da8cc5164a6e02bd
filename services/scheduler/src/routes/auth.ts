// Cron admin is for the project's owner: its service_role key, or a platform token with access to the project.
import type { FastifyRequest } from 'fastify';
import type pg from 'pg';
import { authorizeProjectOwner, type ProjectRegistry } from '@basalt/tenancy';
import { cronErrors } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** the project the owner check admitted */
    ref: string;
  }
}

export const requireProjectOwner = (control: pg.Pool, registry: ProjectRegistry) => async (req: FastifyRequest) => {
  req.ref = (await authorizeProjectOwner(control, registry, cronErrors, req.headers)).ref;
};
