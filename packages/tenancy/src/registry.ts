// Project resolution: ref → connection, secret and settings, read from the control database through one query,
// cached in-process and invalidated for every replica over Redis pub/sub when a project changes.
import type { KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { unsealSecrets, type SecretBox } from '@basalt/crypto';
import { hmacKey } from '@basalt/jwt';

export const PROJECT_CHANNEL = 'basalt:projects';

export interface Project {
  ref: string;
  name: string;
  settings: Record<string, unknown>;
  dbName: string;
  dbRole: string;
  /** the project's authenticator login on its own database */
  connectionString: string;
  jwtSecret: string;
  jwtKey: KeyObject;
  anonKey: string;
  serviceKey: string;
  createdAt: Date;
}

interface ProjectRow {
  ref: string;
  name: string;
  settings: Record<string, unknown>;
  db_name: string;
  db_role: string;
  db_password_enc: string;
  jwt_secret_enc: string;
  anon_key_enc: string;
  service_key_enc: string;
  admin_url_enc: string;
  created_at: Date;
}

const SELECT_PROJECT = `select p.ref, p.name, p.settings, p.db_name, p.db_role, p.db_password_enc, p.jwt_secret_enc,
    p.anon_key_enc, p.service_key_enc, p.created_at, c.admin_url_enc
  from platform.projects p join platform.clusters c on c.id = p.cluster_id
  where p.status = 'active' and `;

export interface RegistryOptions {
  control: pg.Pool;
  secrets: SecretBox;
  /** a connection used for SUBSCRIBE only; omit in tests that do not need cross-replica invalidation */
  subscriber?: Redis;
  publisher?: Redis;
  ttlMs?: number;
}

export class ProjectRegistry {
  readonly #byRef: LRUCache<string, { project: Project | null }>;
  readonly #byDomain: LRUCache<string, { ref: string | null }>;
  readonly #loading = new Map<string, Promise<Project | null>>();
  #onInvalidate: ((ref: string) => void)[] = [];

  constructor(private readonly opts: RegistryOptions) {
    const ttl = opts.ttlMs ?? 60_000;
    this.#byRef = new LRUCache({ max: 10_000, ttl });
    this.#byDomain = new LRUCache({ max: 10_000, ttl });
  }

  async start(): Promise<void> {
    const sub = this.opts.subscriber;
    if (!sub) return;
    sub.on('message', (channel: string, ref: string) => {
      if (channel === PROJECT_CHANNEL) this.#drop(ref);
    });
    await sub.subscribe(PROJECT_CHANNEL);
  }

  /** Called with the ref of every changed project, so services can drop pools or caches of their own. */
  onInvalidate(fn: (ref: string) => void): void {
    this.#onInvalidate.push(fn);
  }

  #drop(ref: string): void {
    if (ref === '*') {
      this.#byRef.clear();
      this.#byDomain.clear();
    } else {
      this.#byRef.delete(ref);
      for (const [domain, v] of this.#byDomain.entries()) if (v.ref === ref || v.ref === null) this.#byDomain.delete(domain);
    }
    for (const fn of this.#onInvalidate) fn(ref);
  }

  /** Tells every replica (this one included) that a project changed; resolves once Redis has delivered it. */
  async invalidate(ref: string): Promise<void> {
    this.#drop(ref);
    await this.opts.publisher?.publish(PROJECT_CHANNEL, ref);
  }

  /** Synchronous cache read for hot paths; undefined means "not cached, call get()". */
  peek(ref: string): Project | null | undefined {
    return this.#byRef.get(ref)?.project;
  }

  async get(ref: string): Promise<Project | null> {
    if (!/^[a-z]{20}$/.test(ref)) return null; // never touch the database for a ref that cannot exist
    const hit = this.#byRef.get(ref);
    if (hit) return hit.project;
    let pending = this.#loading.get(ref);
    if (!pending) {
      pending = this.#load(ref).finally(() => this.#loading.delete(ref));
      this.#loading.set(ref, pending);
    }
    return pending;
  }

  async #load(ref: string): Promise<Project | null> {
    const { rows } = await this.opts.control.query<ProjectRow>(`${SELECT_PROJECT} p.ref = $1`, [ref]);
    const project = rows[0] ? this.#toProject(rows[0]) : null;
    // Unknown refs are remembered briefly so a flood of bad refs does not become a flood of queries.
    this.#byRef.set(ref, { project }, project ? undefined : { ttl: 5_000 });
    return project;
  }

  /** A custom domain mapped to a project (assets), or null. */
  async refForDomain(domain: string): Promise<string | null> {
    const key = domain.toLowerCase();
    const hit = this.#byDomain.get(key);
    if (hit) return hit.ref;
    const { rows } = await this.opts.control.query<{ ref: string }>(
      'select ref from platform.custom_domains where domain = $1',
      [key],
    );
    const ref = rows[0]?.ref ?? null;
    this.#byDomain.set(key, { ref }, ref ? undefined : { ttl: 5_000 });
    return ref;
  }

  #toProject(row: ProjectRow): Project {
    const s = this.opts.secrets;
    const url = new URL(s.decrypt(row.admin_url_enc));
    url.username = row.db_role;
    url.password = s.decrypt(row.db_password_enc);
    url.pathname = `/${row.db_name}`;
    const jwtSecret = s.decrypt(row.jwt_secret_enc);
    return {
      ref: row.ref,
      name: row.name,
      // secrets inside settings (SMTP password, OAuth secrets) are stored sealed; services get them open
      settings: unsealSecrets(row.settings ?? {}, s),
      dbName: row.db_name,
      dbRole: row.db_role,
      connectionString: url.toString(),
      jwtSecret,
      jwtKey: hmacKey(jwtSecret),
      anonKey: s.decrypt(row.anon_key_enc),
      serviceKey: s.decrypt(row.service_key_enc),
      createdAt: row.created_at,
    };
  }
}
