// Project lifecycle: create (database, role, secret, keys), read, rename, rotate keys, delete every trace.
import { randomRef, randomSecret, redactSecrets, sealSecrets, type SecretBox } from '@basalt/crypto';
import { hmacKey, signApiKey } from '@basalt/jwt';
import { migrateTenantDatabase } from '@basalt/tenant-schema';
import type { Project, ProjectRegistry } from '@basalt/tenancy';
import type { ClustersDb } from '../db/clusters.js';
import type { ProjectRecord, ProjectsDb } from '../db/projects.js';
import { platformErrors } from '../errors.js';
import type { ProjectSettings } from './settings.js';
import { createTenantDatabase, dropTenantDatabase, tenantNames } from './provisioner.js';

/** The active project as the services see it (the registry, with its secrets open), or the platform's 404. */
export async function activeProject(registry: ProjectRegistry, ref: string): Promise<Project> {
  const p = await registry.get(ref);
  if (!p) throw platformErrors.projectNotFound(ref);
  return p;
}

export interface ProjectsDeps {
  projects: ProjectsDb;
  clusters: ClustersDb;
  secrets: SecretBox;
  registry: ProjectRegistry;
  templateName: string;
  connectionLimit: number;
  projectUrl: (ref: string) => string;
  /** the plan new projects get (BASALT_DEFAULT_PLAN) */
  defaultPlan: string;
  /** sets the database-side quotas of a project's plan (db-quotas' checkProject) */
  applyPlan: (ref: string) => Promise<unknown>;
}

export interface ProjectView {
  ref: string;
  name: string;
  status: string;
  url: string;
  plan: string;
  settings: Record<string, unknown>;
  created_at: string;
  /** the Postgres cluster holding its database */
  cluster: string;
  /** idle past its limit: its resources are released until the next request wakes it */
  sleeping: boolean;
}

function signedKeys(secrets: SecretBox, ref: string) {
  const jwtSecret = randomSecret(48);
  const key = hmacKey(jwtSecret);
  const anonKey = signApiKey(key, ref, 'anon');
  const serviceKey = signApiKey(key, ref, 'service_role');
  return {
    anonKey,
    serviceKey,
    enc: { jwtSecretEnc: secrets.encrypt(jwtSecret), anonKeyEnc: secrets.encrypt(anonKey), serviceKeyEnc: secrets.encrypt(serviceKey) },
  };
}

export function projectsDomain(d: ProjectsDeps) {
  const view = (p: ProjectRecord): ProjectView => ({
    ref: p.ref,
    name: p.name,
    status: p.status === 'active' ? 'ACTIVE_HEALTHY' : p.status.toUpperCase(),
    url: d.projectUrl(p.ref),
    plan: p.plan,
    settings: redactSecrets(p.settings),
    created_at: p.created_at.toISOString(),
    cluster: p.cluster_id,
    sleeping: p.sleeping_at != null,
  });

  const mustFind = async (ref: string) => {
    const p = await d.projects.find(ref);
    if (!p || p.status !== 'active') throw platformErrors.projectNotFound(ref);
    return p;
  };

  return {
    view,
    async create(name: string, opts: { cluster?: string } = {}) {
      const ref = randomRef();
      const { dbName, dbRole } = tenantNames(ref);
      const password = randomSecret(32);
      const cluster = opts.cluster ? await d.clusters.get(opts.cluster) : await d.clusters.pickForNewProject();
      if (!cluster) throw platformErrors.clusterNotFound(opts.cluster!);
      const keys = signedKeys(d.secrets, ref);
      const record = await d.projects.insert({
        ref, name, clusterId: cluster.id, dbName, dbRole, dbPasswordEnc: d.secrets.encrypt(password), ...keys.enc, plan: d.defaultPlan,
      });
      const adminUrl = d.secrets.decrypt(cluster.admin_url_enc);
      try {
        await createTenantDatabase(adminUrl, d.templateName, { dbName, dbRole, password, connectionLimit: d.connectionLimit });
        // Start-up migrates the default cluster's template; another cluster's is migrated when it is registered, so
        // after an upgrade it may lack the newest migrations: the copy is brought up to date (nothing to do when the
        // template is current).
        await migrateTenantDatabase(adminUrl, dbName).catch(async (e) => {
          await dropTenantDatabase(adminUrl, dbName, dbRole).catch(() => undefined);
          throw e;
        });
      } catch (e) {
        await d.projects.remove(ref);
        throw e;
      }
      await d.projects.setStatus(ref, 'active');
      await d.applyPlan(ref);
      await d.registry.invalidate(ref); // drops a cached "unknown ref" on every replica
      return { ...view({ ...record, status: 'active' }), anon_key: keys.anonKey, service_role_key: keys.serviceKey };
    },
    async get(ref: string) {
      return view(await mustFind(ref));
    },
    async list(refs: string[] | null) {
      return (await d.projects.list(refs)).map(view);
    },
    async update(ref: string, patch: { name?: string; settings?: ProjectSettings }) {
      // Secrets in the patch are sealed; a redacted value sent back keeps the stored one.
      const settings = patch.settings && sealSecrets(patch.settings, d.secrets, (await mustFind(ref)).settings);
      const p = await d.projects.update(ref, { ...patch, settings });
      if (!p) throw platformErrors.projectNotFound(ref);
      await d.registry.invalidate(ref);
      return view(p);
    },
    async apiKeys(ref: string) {
      const p = await mustFind(ref);
      return [
        { name: 'anon', api_key: d.secrets.decrypt(p.anon_key_enc) },
        { name: 'service_role', api_key: d.secrets.decrypt(p.service_key_enc) },
      ];
    },
    /** A new secret and keys; the old ones stop verifying on every replica once the invalidation is delivered. */
    async rotateKeys(ref: string) {
      await mustFind(ref);
      const keys = signedKeys(d.secrets, ref);
      await d.projects.rotateKeys(ref, keys.enc);
      await d.registry.invalidate(ref);
      return [
        { name: 'anon', api_key: keys.anonKey },
        { name: 'service_role', api_key: keys.serviceKey },
      ];
    },
    async remove(ref: string, confirm: unknown) {
      if (confirm !== ref) throw platformErrors.confirmMismatch(ref);
      const p = await d.projects.find(ref);
      if (!p) throw platformErrors.projectNotFound(ref);
      await d.projects.setStatus(ref, 'deleting');
      await d.registry.invalidate(ref); // stop serving before the database goes away
      const cluster = await d.clusters.get(p.cluster_id);
      if (cluster) await dropTenantDatabase(d.secrets.decrypt(cluster.admin_url_enc), p.db_name, p.db_role);
      await d.projects.remove(ref); // cascades to custom domains; other services' rows reference the ref too
      await d.registry.invalidate(ref);
    },
    async adminUrl(ref: string) {
      const p = await mustFind(ref);
      const cluster = await d.clusters.get(p.cluster_id);
      if (!cluster) throw platformErrors.projectNotFound(ref);
      return { record: p, adminUrl: d.secrets.decrypt(cluster.admin_url_enc) };
    },
  };
}

export type ProjectsDomain = ReturnType<typeof projectsDomain>;
