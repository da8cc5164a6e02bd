// createApp(deps): the platform service's Fastify app without listen, so tests can drive it directly.
import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { SecretBox } from '@basalt/crypto';
import { egressPolicy } from '@basalt/egress';
import { errors } from '@basalt/errors';
import { createService, errorShapes, registerRoutes, type Logger } from '@basalt/http';
import { pingControlPlane, type ProjectRegistry } from '@basalt/tenancy';
import type { Config } from './config.js';
import { challengeChecker } from './clients/challenge.js';
import { platformErrors } from './errors.js';
import { clustersDb } from './db/clusters.js';
import { customDomainsDb } from './db/custom-domains.js';
import { apiKeysDb } from './db/api-keys.js';
import { signingKeysDb } from './db/signing-keys.js';
import { projectsDb } from './db/projects.js';
import { tokensDb } from './db/tokens.js';
import { plansDb } from './db/plans.js';
import { dbQuotasDomain } from './domain/db-quotas.js';
import { statementWatchdog } from './domain/statement-watchdog.js';
import { plansDomain } from './domain/plans.js';
import { planRoutes } from './routes/plans.js';
import { customDomainsDomain } from './domain/custom-domains.js';
import { apiKeysDomain } from './domain/api-keys.js';
import { signingKeysDomain } from './domain/signing-keys.js';
import { projectsDomain } from './domain/projects.js';
import { tokensDomain } from './domain/tokens.js';
import { requirePlatformToken, requireProjectAccess, requireUnscoped } from './routes/auth.js';
import { customDomainRoutes } from './routes/custom-domains.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { databaseRoutes } from './routes/database.js';
import { signingKeyRoutes } from './routes/signing-keys.js';
import { newProjectRoutes, projectListRoutes, projectRoutes } from './routes/projects.js';
import { tokenRoutes } from './routes/tokens.js';
import { studioRoutes } from './routes/studio.js';
import { mcpRoutes } from './mcp/routes.js';
import { backupsFor } from './domain/backups.js';
import { backupRoutes } from './routes/backups.js';
import { sleepDb } from './db/sleep.js';
import { sleepDomain } from './domain/sleep.js';
import { sleepRoutes } from './routes/sleep.js';
import { placementDb } from './db/placement.js';
import { placementDomain } from './domain/placement.js';
import { pgBinDir } from './clients/pg-tools.js';
import { clusterRoutes, moveRoutes } from './routes/clusters.js';
import { usageDb } from './db/usage.js';
import { usageDomain } from './domain/usage.js';
import { usageRoutes } from './routes/usage.js';

export interface Deps {
  config: Config;
  control: pg.Pool;
  redis: Redis;
  registry: ProjectRegistry;
  secrets: SecretBox;
  log: Logger;
  templateName: string;
}

export function projectUrlFor(config: Pick<Config, 'BASALT_PUBLIC_URL' | 'BASALT_URL_STYLE' | 'BASALT_DOMAIN'>) {
  const base = new URL(config.BASALT_PUBLIC_URL);
  // *.localhost does not resolve for Node clients on every system, so local installs default to path routing.
  const style = config.BASALT_URL_STYLE ?? (config.BASALT_DOMAIN === 'localhost' ? 'path' : 'subdomain');
  return (ref: string) => {
    const u = new URL(base.toString());
    if (style === 'subdomain') u.hostname = `${ref}.${config.BASALT_DOMAIN}`;
    else u.pathname = `${u.pathname.replace(/\/$/, '')}/project/${ref}`;
    return u.toString().replace(/\/$/, '');
  };
}

export function createApp(deps: Deps) {
  const service = createService({
    name: 'platform',
    log: deps.log,
    errorShape: errorShapes.basalt,
    validationError: platformErrors.invalidRequest,
    bodyLimit: 2 * 1024 * 1024, // SQL text and settings documents
    ready: () => pingControlPlane(deps.control, deps.redis),
  });
  const dbQuotas = dbQuotasDomain({
    plans: plansDb(deps.control), clusters: clustersDb(deps.control), secrets: deps.secrets, registry: deps.registry,
    defaultConnectionLimit: deps.config.PROJECT_DB_CONNECTION_LIMIT, log: deps.log,
  });
  const plans = plansDomain({ plans: plansDb(deps.control), registry: deps.registry, dbQuotas, defaultPlan: deps.config.BASALT_DEFAULT_PLAN });
  const projects = projectsDomain({
    projects: projectsDb(deps.control),
    clusters: clustersDb(deps.control),
    secrets: deps.secrets,
    registry: deps.registry,
    templateName: deps.templateName,
    connectionLimit: deps.config.PROJECT_DB_CONNECTION_LIMIT,
    projectUrl: projectUrlFor(deps.config),
    defaultPlan: deps.config.BASALT_DEFAULT_PLAN,
    applyPlan: dbQuotas.checkProject,
  });
  const watchdog = statementWatchdog({
    plans: plansDb(deps.control), clusters: clustersDb(deps.control), secrets: deps.secrets, registry: deps.registry, log: deps.log,
    sqlApiTimeoutMs: deps.config.SQL_STATEMENT_TIMEOUT_MS,
  });
  const tokens = tokensDomain(tokensDb(deps.control));
  const backups = backupsFor(deps);
  const placement = placementDomain({
    clusters: clustersDb(deps.control), projects: projectsDb(deps.control), placement: placementDb(deps.control), secrets: deps.secrets,
    registry: deps.registry, templateName: deps.templateName, connectionLimit: deps.config.PROJECT_DB_CONNECTION_LIMIT,
    pgBin: pgBinDir(deps.config.BACKUP_PG_BIN_DIR), applyPlan: dbQuotas.checkProject, log: deps.log,
  });
  const sleep = sleepDomain({
    db: sleepDb(deps.control), redis: deps.redis, registry: deps.registry, redisPrefix: deps.config.BASALT_REDIS_PREFIX,
    sleepAfterS: deps.config.PROJECT_SLEEP_AFTER_S, leftoverGraceMs: 3_000, log: deps.log,
    adminUrlOf: async (ref) => {
      const { record, adminUrl } = await projects.adminUrl(ref);
      return { adminUrl, dbName: record.db_name };
    },
  });
  const c = deps.config;
  const customDomains = customDomainsDomain({
    domains: customDomainsDb(deps.control),
    registry: deps.registry,
    checker: challengeChecker({
      dnsServers: c.BASALT_DNS_SERVERS, policy: egressPolicy(c.BASALT_EGRESS_ALLOW), httpPort: c.CUSTOM_DOMAIN_HTTP_PORT, timeoutMs: c.CUSTOM_DOMAIN_CHECK_TIMEOUT_MS,
    }),
    requireProject: projects.get,
    baseDomain: c.BASALT_DOMAIN,
    claimTtlMs: c.CUSTOM_DOMAIN_CLAIM_TTL_HOURS * 3_600_000,
    httpPort: c.CUSTOM_DOMAIN_HTTP_PORT,
  });

  const signingKeys = signingKeysDomain({ keys: signingKeysDb(deps.control), secrets: deps.secrets, registry: deps.registry, requireProject: projects.get });
  const apiKeys = apiKeysDomain({ keys: apiKeysDb(deps.control), secrets: deps.secrets, registry: deps.registry, legacyKeys: projects.apiKeys, requireProject: projects.get });

  service.app.register(async (api) => {
    api.addHook('onRequest', requirePlatformToken(deps.control));
    // an unknown /platform/v1 path asks for a token first, as every path under it does
    api.setNotFoundHandler(async (req) => {
      throw errors.notFound(`route ${req.method} ${req.url.split('?')[0]}`);
    });
    registerRoutes(api, projectListRoutes(projects));
    registerRoutes(api, usageRoutes(usageDomain(usageDb(deps.control))));
    api.register(async (unscoped) => {
      unscoped.addHook('onRequest', requireUnscoped('(new)'));
      registerRoutes(unscoped, newProjectRoutes(projects));
    });
    api.register(async (unscoped) => {
      unscoped.addHook('onRequest', requireUnscoped('(tokens)'));
      registerRoutes(unscoped, tokenRoutes(tokens));
    });
    api.register(async (unscoped) => {
      unscoped.addHook('onRequest', requireUnscoped('(clusters)'));
      registerRoutes(unscoped, clusterRoutes(placement));
    });
    api.register(async (unscoped) => {
      unscoped.addHook('onRequest', requireUnscoped('(plans)'));
      registerRoutes(unscoped, planRoutes(plans));
    });
    api.register(async (project) => {
      project.addHook('onRequest', requireProjectAccess);
      registerRoutes(project, projectRoutes(projects, deps.registry, c.SQL_STATEMENT_TIMEOUT_MS, plans));
      registerRoutes(project, customDomainRoutes(customDomains));
      registerRoutes(project, signingKeyRoutes(signingKeys));
      registerRoutes(project, apiKeyRoutes(apiKeys));
      registerRoutes(project, databaseRoutes(deps.registry, c.SQL_STATEMENT_TIMEOUT_MS));
      registerRoutes(project, sleepRoutes(sleep));
      registerRoutes(project, moveRoutes(placement));
      registerRoutes(project, backupRoutes(backups.domain));
    });
  }, { prefix: '/platform/v1' });
  registerRoutes(service.app, studioRoutes());
  service.app.register(mcpRoutes(deps.control, { projects, registry: deps.registry, publicUrl: c.BASALT_PUBLIC_URL, sqlTimeoutMs: c.SQL_STATEMENT_TIMEOUT_MS }), { prefix: '/mcp' });
  return { ...service, tokens, plans, dbQuotas, watchdog, sleep, backups };
}
