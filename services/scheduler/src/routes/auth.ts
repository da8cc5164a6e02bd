// Cron admin is for the project's owner: its service_role key, or a platform token with access to the project.
import type pg from 'pg';
import { requireProjectOwner as ownerOnly, type ProjectRegistry } from '@basalt/tenancy';
import { cronErrors } from '../errors.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      ref: string;
    }
  }
}

export const requireProjectOwner = (control: pg.Pool, registry: ProjectRegistry) => ownerOnly(control, registry, cronErrors);
