// createApp(deps): the AI gateway's HTTP side — the model APIs under /v1 and the management API the gateway
// delegates under /platform/v1/projects/:ref/ai. The usage writer and the config-change subscription are
// started by main.ts and handed in.
import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { SecretBox } from '@basalt/crypto';
import { egressPolicy } from '@basalt/egress';
import { createService, registerRoutes, type Logger } from '@basalt/http';
import { RateLimiter } from '@basalt/rate-limit';
import { pingControlPlane, type ProjectRegistry } from '@basalt/tenancy';
import { upstreamClient } from './clients/upstream.js';
import type { Config } from './config.js';
import { keysDb } from './db/keys.js';
import { providersDb } from './db/providers.js';
import { routesDb } from './db/routes.js';
import { settingsDb } from './db/settings.js';
import { usageDb } from './db/usage.js';
import { aiConfig } from './domain/ai-config.js';
import { budgets as budgetRules } from './domain/budgets.js';
import { callers } from './domain/callers.js';
import { tokenCounter } from './domain/count-tokens.js';
import { tokenQuota } from './domain/token-quota.js';
import { manageDomain } from './domain/manage.js';
import { modelCatalog } from './domain/model-catalog.js';
import { priceBook } from './domain/pricing.js';
import { proxy } from './domain/proxy.js';
import { UsageMeter, type UsageSink } from './domain/usage-meter.js';
import { usageReport } from './domain/usage-report.js';
import { aiErrors } from './errors.js';
import { identifyCaller } from './routes/call-context.js';
import { requireProjectOwner } from './routes/manage-auth.js';
import { manageRoutes } from './routes/manage.js';
import { modelRoutes } from './routes/models.js';
import { renderError } from './wire-shape.js';

export interface Deps {
  config: Config;
  control: pg.Pool;
  redis: Redis;
  registry: ProjectRegistry;
  secrets: SecretBox;
  log: Logger;
  usage: UsageSink;
  /** tells other replicas a project's AI config changed */
  publish?: (ref: string) => void;
}

export function createApp(deps: Deps) {
  const { config: c, control, log } = deps;
  const service = createService({
    name: 'ai-gateway',
    log,
    errorShape: renderError,
    validationError: aiErrors.validation,
    bodyLimit: c.AI_MAX_BODY_BYTES,
    ready: () => pingControlPlane(control, deps.redis),
  });
  const db = { providers: providersDb(control), routes: routesDb(control), keys: keysDb(control), settings: settingsDb(control), usage: usageDb(control) };
  const config = aiConfig({ ...db, secrets: deps.secrets, ttlMs: c.AI_CONFIG_CACHE_MS, publish: deps.publish });
  const onRedisError = (err: Error) => log.warn({ err: err.message }, 'ai budget counters unavailable; failing open');
  const limiter = new RateLimiter(deps.redis, { prefix: c.BASALT_REDIS_PREFIX, onError: onRedisError, registry: service.metrics.registry });
  const budgets = budgetRules({ redis: deps.redis, limiter, prefix: c.BASALT_REDIS_PREFIX, onError: onRedisError });
  const send = upstreamClient(egressPolicy(c.BASALT_EGRESS_ALLOW), c.AI_MAX_RESPONSE_BYTES);
  const meter = new UsageMeter(deps.usage, priceBook(c.AI_PRICES), budgets);
  const calls = proxy({
    config, budgets, send, meter,
    retries: c.AI_UPSTREAM_RETRIES, backoffMs: c.AI_RETRY_BACKOFF_MS, timeoutMs: c.AI_UPSTREAM_TIMEOUT_MS, defaultMaxTokens: c.AI_DEFAULT_MAX_TOKENS,
    maxFrameBytes: c.AI_MAX_RESPONSE_BYTES,
  });
  const count = tokenCounter({ config, budgets, send, timeoutMs: c.AI_UPSTREAM_TIMEOUT_MS });
  const planTokens = tokenQuota({ usage: db.usage, registry: deps.registry, cacheMs: 1_000 });

  service.app.register(async (api) => {
    api.addHook('onRequest', identifyCaller(callers(config, deps.registry), budgets));
    // the plan's ai_tokens_per_day, for model calls (listing models and counting tokens spend none), as OpenAI's headers
    api.addHook('onRequest', async (req, reply) => {
      if (req.method !== 'POST' || req.url.includes('/count_tokens')) return;
      const left = await planTokens.admit(req.caller.ref);
      if (left) reply.header('x-ratelimit-limit-tokens', String(left.limit)).header('x-ratelimit-remaining-tokens', String(left.remaining));
    });
    // Fastify closes the connection when it refuses a body unread, and the gateway then sees a reset instead of
    // the 413; keeping it open lets Node drain the rest of the body (as services/auth does).
    api.setErrorHandler(async (err: { code?: unknown }, _req, reply) => {
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') reply.removeHeader('connection');
      throw err;
    });
    registerRoutes(api, modelRoutes(calls, count, modelCatalog(config)));
  }, { prefix: '/v1' });
  service.app.register(async (api) => {
    api.addHook('onRequest', requireProjectOwner(control, deps.registry));
    registerRoutes(api, manageRoutes(manageDomain({ ...db, secrets: deps.secrets, config }), usageReport(db.usage)));
  }, { prefix: '/platform/v1/projects/:ref/ai' });
  return { ...service, aiConfig: config };
}
