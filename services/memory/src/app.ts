// createApp(deps): the memory service's HTTP side (mem0's paths and /mem/v1), with no listen; the inference
// worker is started by main.ts and shares the domains built here.
import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { FastifyRequest } from 'fastify';
import type { BasaltError } from '@basalt/errors';
import { plannerStatistics, type ProjectPools } from '@basalt/db';
import type { Meter } from '@basalt/metering';
import { createService, registerRoutes, type Logger } from '@basalt/http';
import { pingControlPlane, readOnlyOverQuota, type ProjectRegistry } from '@basalt/tenancy';
import { modelClient } from './clients/models.js';
import type { Config } from './config.js';
import { aiKeysDb } from './db/ai-keys.js';
import { accessControl } from './domain/access.js';
import type { Ctx } from './domain/context.js';
import { addDomain, type InferQueue } from './domain/add.js';
import { embedder as makeEmbedder } from './domain/embedder.js';
import { inferDomain } from './domain/infer.js';
import { memoriesDomain } from './domain/memories.js';
import { resetDomain } from './domain/reset.js';
import { searchDomain } from './domain/search.js';
import { reranker } from './domain/rerank.js';
import { vectorLeg } from './domain/vector-leg.js';
import { memErrors } from './errors.js';
import { bindContext } from './routes/context.js';
import { mem0Routes, memV1Routes } from './routes/mem0.js';

export interface Deps {
  config: Config;
  control: pg.Pool;
  redis: Redis;
  registry: ProjectRegistry;
  pools: ProjectPools;
  queue: InferQueue;
  log: Logger;
  /** usage per project per hour: adds and searches through the API (the inference worker's own searches are not) */
  meter?: Meter;
}

/**
 * mem0 (Django REST framework) answers {detail}; the platform paths answer {code, message}. A write the platform's
 * read-only mode refused (the project over a quota) names the quota and what to do.
 */
function renderError(e: BasaltError, req: FastifyRequest): unknown {
  if (req.url.startsWith('/platform/')) return { code: e.code, message: e.message };
  const overQuota = readOnlyOverQuota(e, req.memory?.caller.project);
  if (overQuota) return { detail: overQuota.message, code: overQuota.quota };
  return { detail: e.message, code: e.code, ...(e.details !== undefined ? { details: e.details } : {}) };
}

export function createApp(deps: Deps) {
  const { config: c } = deps;
  const service = createService({
    name: 'memory', log: deps.log, errorShape: renderError, validationError: memErrors.validation, bodyLimit: c.MEMORY_MAX_BODY_BYTES,
    ready: () => pingControlPlane(deps.control, deps.redis),
  });
  const models = modelClient({ baseUrl: c.AI_GATEWAY_URL, timeoutMs: c.MEMORY_MODEL_TIMEOUT_MS });
  const embedder = makeEmbedder(models);
  const memories = memoriesDomain(c, embedder);
  const vectors = vectorLeg(c);
  deps.registry.onInvalidate((ref) => vectors.drop(ref));
  const search = searchDomain(embedder, vectors, reranker(models));
  const infer = inferDomain(c, models, embedder, search);
  const adds = addDomain(c, memories, deps.queue);
  // adds grow the project's tables, whose statistics are kept in step with them (@basalt/db's statistics.ts)
  const statistics = plannerStatistics('memory', deps.log);
  const metered = <A extends unknown[], R>(metric: 'memory_adds' | 'memory_searches', fn: (ctx: Ctx, ...a: A) => Promise<R>) =>
    async (ctx: Ctx, ...a: A): Promise<R> => {
      const out = await fn(ctx, ...a);
      deps.meter?.count(ctx.caller.project.ref, 'memory', metric);
      if (metric === 'memory_adds') statistics.nudge(ctx.pool, ctx.caller.project.ref);
      return out;
    };
  const domains = {
    memories, reset: resetDomain(),
    search: { search: metered('memory_searches', search.search) },
    adds: { ...adds, add: metered('memory_adds', adds.add) },
  };
  const access = accessControl(deps.registry, aiKeysDb(deps.control));

  service.app.register(async (api) => {
    api.addHook('onRequest', bindContext(access, deps.pools));
    const routes = [...mem0Routes(domains), ...memV1Routes(domains)];
    // mem0 paths end in a slash; accept them without it too
    const both = routes.flatMap((r) => (r.url.endsWith('/') ? [r, { ...r, url: r.url.slice(0, -1) }] : [r]));
    registerRoutes(api, both);
  });
  return { ...service, infer, access };
}
