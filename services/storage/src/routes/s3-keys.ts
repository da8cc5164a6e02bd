// The S3 access key API, delegated by the gateway under /platform/v1/projects/:ref/storage:
//   POST /s3-keys {description?} → 201 {id, access_key_id, secret_access_key, description, created_at} (secret shown once)
//   GET  /s3-keys → [{id, access_key_id, description, created_at}]
//   DELETE /s3-keys/:id → 204
import { z } from 'zod';
import { defineRoute } from '@basalt/http';
import type { S3KeysDomain } from '../domain/s3-keys.js';

const Body = z.record(z.string(), z.unknown()).nullish().transform((b) => b ?? {});
const KeyId = z.object({ ref: z.string(), id: z.string() });

export const s3KeyRoutes = (keys: S3KeysDomain) => [
  defineRoute({
    method: 'POST', url: '/s3-keys', schema: { body: Body },
    handler: async (req, reply) => reply.code(201).send(await keys.issue(req.ref, req.body)),
  }),
  defineRoute({ method: 'GET', url: '/s3-keys', handler: (req) => keys.list(req.ref) }),
  defineRoute({
    method: 'DELETE', url: '/s3-keys/:id', schema: { params: KeyId },
    handler: async (req, reply) => {
      await keys.revoke(req.ref, req.params.id);
      return reply.code(204).send();
    },
  }),
];
