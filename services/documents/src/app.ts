// createApp(deps): the documents service's HTTP side — the Data API actions under /mongo/v1 and the management
// API the gateway delegates under /platform/v1/projects/:ref/documents. The wire-protocol listener is started
// by main.ts beside it and shares the same domain.
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { asCaller, type ProjectPools } from '@basalt/db';
import { createService, registerRoutes, type Logger } from '@basalt/http';
import { capped, pingControlPlane, readOnlyOverQuota, type Project, type ProjectRegistry } from '@basalt/tenancy';
import type { Config } from './config.js';
import { controlDb } from './db/control.js';
import { credentials, type WireAddress } from './domain/credentials.js';
import { Documents } from './domain/documents.js';
import { serviceGuard, type Guard } from './domain/guard.js';
import { RuleBook } from './domain/rules.js';
import { docErrors } from './errors.js';
import { MetaCache } from './engine/meta-cache.js';
import { actionHandler } from './routes/actions.js';
import { identifyCaller } from './routes/caller.js';
import { requireProjectOwner } from './routes/manage-auth.js';
import { manageRoutes } from './routes/manage.js';
import { renderError } from './wire-shape.js';
export type { RunMode as Mode };

export interface Deps {
  config: Config;
  control: pg.Pool;
  redis: Redis;
  registry: ProjectRegistry;
  pools: ProjectPools;
  log: Logger;
  wire: WireAddress;
}

/** read: statements on a cached catalogue; single: a write that is one statement (inserts), run without a
 *  transaction for the service role; tx (default): one transaction on a fresh catalogue */
export type RunMode = 'read' | 'single' | 'tx';
export type RunDocuments = <T>(project: Project, guard: Guard, claims: Record<string, unknown>, fn: (d: Documents) => Promise<T>, mode?: RunMode) => Promise<T>;

/**
 * Runs document actions on the project's database as basalt_admin (rules are the service's, not RLS). Writes get
 * one transaction with a fresh catalogue; reads are single statements on a cached catalogue (see MetaCache).
 */
export function documentsRunner(deps: Pick<Deps, 'config' | 'pools'>, db: ReturnType<typeof controlDb>, meta: MetaCache, onMetaChange: (ref: string, collection: string) => void): RunDocuments {
  const c = deps.config;
  const limits = { maxPage: c.DOCUMENTS_MAX_PAGE, maxScan: c.DOCUMENTS_MAX_SCAN };
  const prepared = new WeakSet<pg.Pool>();
  // a statement's time: the service's own bound, capped by the plan's statement_timeout_ms
  const timeoutMs = (project: Project) => Math.trunc(capped(c.DOCUMENTS_STATEMENT_TIMEOUT_MS, project.quotas.statement_timeout_ms));
  // every connection of these pools is this service's own: it runs as basalt_admin for its whole session (a pool
  // serves one version of its project: a plan change replaces it)
  const poolOf = (project: Project) => {
    const pool = deps.pools.get(project);
    if (!prepared.has(pool)) {
      prepared.add(pool);
      pool.on('connect', (client) => void client.query(`set role basalt_admin; set statement_timeout = ${timeoutMs(project)}`).catch(() => undefined));
    }
    return pool;
  };
  const write = <T>(project: Project, guard: Guard, claims: Record<string, unknown>, fn: (d: Documents) => Promise<T>) =>
    asCaller(poolOf(project), { role: 'basalt_admin', claims, timeoutMs: timeoutMs(project) }, (tx) => {
      const d = new Documents(tx, guard, limits);
      d.onTtlIndex = () => db.markTtl(project.ref);
      return fn(d);
    });
  const changed = (ref: string, d: Documents | undefined) => {
    for (const name of d?.changedCollections() ?? []) {
      meta.drop(ref, name);
      onMetaChange(ref, name);
    }
  };
  const direct = async <T>(project: Project, guard: Guard, fn: (d: Documents) => Promise<T>) => {
    const client = await poolOf(project).connect();
    let d: Documents | undefined;
    try {
      d = new Documents(client, guard, limits, meta.of(project.ref));
      d.onTtlIndex = () => db.markTtl(project.ref);
      return await fn(d);
    } finally {
      client.release();
      changed(project.ref, d);
    }
  };
  // two first inserts into a new collection race to create its table: the loser runs once more. Postgres
  // reports the lost race as the table (42P07), its row type (42710) or a catalogue unique index (23505)
  const raced = (e: unknown) => {
    const pe = e as { code?: string; constraint?: string };
    return pe.code === '42P07' || pe.code === '42710' || (pe.code === '23505' && (pe.constraint?.startsWith('pg_') ?? false));
  };
  const runDocuments: RunDocuments = async (project, guard, claims, fn, mode = 'tx') => {
    // a single-statement write is atomic by itself; a rules check after it would need the transaction
    if (mode === 'read' || (mode === 'single' && guard.bypass)) {
      try {
        return await direct(project, guard, fn);
      } catch (e) {
        // 42P01: a collection dropped by another replica while cached: run again with a fresh catalogue
        if ((e as { code?: string }).code !== '42P01' && !raced(e)) throw e;
        meta.dropProject(project.ref);
        return direct(project, guard, fn);
      }
    }
    let docs: Documents | undefined;
    const run = (d: Documents) => fn((docs = d));
    // after commit (or rollback) the cached catalogues of changed collections go, here and on other replicas
    const once = () => write(project, guard, claims, run).finally(() => changed(project.ref, docs));
    try {
      return await once();
    } catch (e) {
      if (raced(e)) return once();
      throw e;
    }
  };
  return (project, guard, claims, fn, mode) => runDocuments(project, guard, claims, fn, mode).catch((e: unknown) => {
    throw callerError(e, project);
  });
}

/** A Postgres error the caller's own input or the project's quota caused, as MongoDB reports it; any other is left as it is (internal). */
function callerError(e: unknown, project: Project): unknown {
  const pe = e as { code?: string; message?: string };
  const overQuota = readOnlyOverQuota(e, project);
  if (overQuota) return docErrors.overQuota(`you are over your space quota: ${overQuota.message}`);
  // a $regex pushed down whose pattern Postgres cannot compile
  if (pe?.code === '2201B') return docErrors.invalidRegex(pe.message ?? 'invalid regular expression');
  return e;
}

export function createApp(deps: Deps) {
  const { config: c, control, log } = deps;
  const service = createService({
    name: 'documents',
    log,
    errorShape: renderError,
    validationError: docErrors.validation,
    bodyLimit: c.DOCUMENTS_MAX_BODY_BYTES,
    json: { maxDepth: 200, types: ['application/json', 'application/ejson'] },
    ready: () => pingControlPlane(control, deps.redis),
  });
  const db = controlDb(control);
  const meta = new MetaCache();
  // catalogue changes ([ref, collection]) and rule changes (['rules', ref, collection]) for the other replicas
  const channel = `${c.BASALT_REDIS_PREFIX}documents-meta`;
  const publish = (message: string[]) => {
    void deps.redis.publish(channel, JSON.stringify(message)).catch((err: Error) => log.warn({ err: err.message }, 'catalogue or rule change not published'));
  };
  const rules = new RuleBook(db, (ref, name) => publish(['rules', ref, name]));
  const run = documentsRunner(deps, db, meta, (ref, name) => publish([ref, name]));

  service.app.register(async (api) => {
    api.addHook('onRequest', identifyCaller(deps.registry));
    api.post('/action/:action', actionHandler((req, fn, mode) => {
      const { role, claims } = req.principal;
      const guard = role === 'service_role' ? serviceGuard
        : rules.guard(req.project.ref, { uid: typeof claims.sub === 'string' ? claims.sub : undefined, role, jwt: claims as Record<string, unknown> });
      return run(req.project, guard, claims as Record<string, unknown>, fn, mode);
    }));
  }, { prefix: '/mongo/v1' });
  service.app.register(async (api) => {
    api.addHook('onRequest', requireProjectOwner(control, deps.registry));
    registerRoutes(api, manageRoutes(rules, db, credentials(db, deps.wire, c.DOCUMENTS_SCRAM_ITERATIONS), deps.wire));
  }, { prefix: '/platform/v1/projects/:ref/documents' });
  /** a catalogue or rule change on another replica (main.ts subscribes to `channel`) */
  const onRemoteMetaChange = (message: string) => {
    try {
      const parts = JSON.parse(message) as string[];
      if (parts.length === 3 && parts[0] === 'rules') rules.forget(parts[1], parts[2]);
      else meta.drop(parts[0], parts[1]);
    } catch { /* not ours */ }
  };
  return { ...service, run, db, rules, metaChannel: channel, onRemoteMetaChange, dropProjectMeta: (ref: string) => meta.dropProject(ref) };
}
