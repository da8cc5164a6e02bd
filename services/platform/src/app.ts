// createApp(deps): the platform service's Express app without listen, so tests can drive it directly.
import express from 'express';
import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { SecretBox } from '@basalt/crypto';
import { createServiceApp, errorShapes, type Logger } from '@basalt/http';
import { pingControlPlane, type ProjectRegistry } from '@basalt/tenancy';
import type { Config } from './config.js';
import { clustersDb } from './db/clusters.js';
import { projectsDb } from './db/projects.js';
import { tokensDb } from './db/tokens.js';
import { projectsDomain } from './domain/projects.js';
import { tokensDomain } from './domain/tokens.js';
import { requirePlatformToken } from './routes/auth.js';
import { projectRoutes } from './routes/projects.js';
import { tokenRoutes } from './routes/tokens.js';

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
  const service = createServiceApp({
    name: 'platform',
    log: deps.log,
    errorShape: errorShapes.basalt,
    ready: () => pingControlPlane(deps.control, deps.redis),
  });
  const projects = projectsDomain({
    projects: projectsDb(deps.control),
    clusters: clustersDb(deps.control),
    secrets: deps.secrets,
    registry: deps.registry,
    templateName: deps.templateName,
    connectionLimit: deps.config.PROJECT_DB_CONNECTION_LIMIT,
    projectUrl: projectUrlFor(deps.config),
  });
  const tokens = tokensDomain(tokensDb(deps.control));

  const api = express.Router();
  api.use(express.json({ limit: '2mb' }));
  api.use(requirePlatformToken(deps.control));
  api.use(projectRoutes(projects, deps.registry, deps.config.SQL_STATEMENT_TIMEOUT_MS));
  api.use(tokenRoutes(tokens));
  service.app.use('/platform/v1', api);
  return { ...service, app: service.finish(), tokens };
}
