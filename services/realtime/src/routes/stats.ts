// The project's realtime figures for its owner (platform token or service_role key), across replicas.
import type pg from 'pg';
import { z } from 'zod';
import { defineRoute } from '@basalt/http';
import { authorizeProjectOwner, type ProjectRegistry } from '@basalt/tenancy';
import { BasaltError } from '@basalt/errors';
import { rtErrors } from '../errors.js';
import type { Replicas } from '../domain/replicas.js';

const owner = {
  unauthorized: () => new BasaltError(401, 'unauthorized', 'Invalid authentication credentials'),
  forbidden: rtErrors.forbidden,
  projectNotFound: rtErrors.tenantNotFound,
};

export function statsRoutes(control: pg.Pool, registry: ProjectRegistry, replicas: Replicas) {
  return [
    defineRoute({
      method: 'GET', url: '/stats', schema: { params: z.object({ ref: z.string() }) },
      handler: async (req) => {
        const { ref } = await authorizeProjectOwner(control, registry, owner, req.headers, req.params.ref);
        return { connections: await replicas.connectionCount(ref) };
      },
    }),
  ];
}
