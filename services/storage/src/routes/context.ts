// Per-request composition under /storage/v1: the project the gateway named (every route), and the caller its
// token proves (routes that run as the caller). Both are read from headers, in onRequest hooks, so a request
// for an unknown project or without a valid token is refused before a byte of its body is read.
import type { FastifyRequest } from 'fastify';
import type { Project, ProjectRegistry } from '@basalt/tenancy';
import type { Actor } from '../db/tx.js';
import { callerOf, projectOf } from '../domain/caller.js';

export type Caller = Actor & { sub?: string };

export interface StorageContext {
  project: Project;
  /** set by requireCaller; routes without it (public reads, signed URLs) never read it */
  caller: Caller;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** storage's per-request context (resolveProject, requireCaller) */
    storage: StorageContext;
  }
}

export const resolveProject = (registry: ProjectRegistry) => async (req: FastifyRequest) => {
  req.storage = { project: await projectOf(req.headers, registry), caller: undefined as unknown as Caller };
};

export const requireCaller = async (req: FastifyRequest) => {
  req.storage.caller = { ...callerOf(req.storage.project, req.headers), method: req.method, path: req.url.split('?')[0] };
};
