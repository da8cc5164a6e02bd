// Project resolution: ref → connection, secret and settings, read from the control database through one query,
// cached in-process and invalidated for every replica over Redis pub/sub when a project changes. The change is
// acknowledged: Redis answers PUBLISH before the subscribers have read the message (measured: a quarter of the time
// another process answered a request it received after the reply from what it held before), so the call that
// changed a project waits for every replica to say it dropped it, and the next request anywhere sees the change.
import { randomUUID, type JsonWebKey } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { LRUCache } from 'lru-cache';
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { hashToken, unsealSecrets, type SecretBox } from '@basalt/crypto';
import { BasaltError } from '@basalt/errors';
import { hmacKey, keySet, type AsymmetricAlg, type KeySet } from '@basalt/jwt';
import { quotasFrom, type Quotas } from './quotas.js';

export const PROJECT_CHANNEL = 'basalt:projects';
/** a message `plan:<name>` on PROJECT_CHANNEL: that plan's quotas changed, so every project on it is stale */
const PLAN_MESSAGE = 'plan:';
/** every replica answers an invalidation `<what>\t<id>` with `<id>` here once it has dropped what it held */
const ACK_CHANNEL = 'basalt:projects:ack';
/** how long an invalidation waits for the answers: a wedged replica delays the change, never blocks it */
const ACK_TIMEOUT_MS = 500;
/** how long anything is kept while the subscriber is down and changes go unheard */
const UNHEARD_TTL_MS = 1_000;
/**
 * The subscriber is asked PING this often, and counted deaf when the answer is this late. A Redis that stops
 * answering (frozen, paused, a network that drops without a reset) keeps its connections open: no 'close' says so,
 * and without this a replica kept what it held for the whole cache TTL, a deleted API key working there for a minute.
 */
const LIVENESS_INTERVAL_MS = 500;
/** as long as any Redis command of ours may take (REDIS_COMMAND_TIMEOUT_MS): a slow answer is not yet a deaf Redis */
const LIVENESS_TIMEOUT_MS = 2_000;

export interface Project {
  ref: string;
  name: string;
  settings: Record<string, unknown>;
  dbName: string;
  dbRole: string;
  /** the project's authenticator login on its own database */
  connectionString: string;
  /**
   * The cluster's admin login on the project's own database: only for what the project's login may not do, such
   * as logical decoding of its changes (realtime). Never handed to a caller.
   */
  adminConnectionString: string;
  jwtSecret: string;
  /**
   * What verifies and signs the project's tokens: the shared HS256 secret, the public keys of its asymmetric
   * signing keys by kid (in use, standby, previously used; never revoked) and the private key of the one in use.
   */
  jwtKey: KeySet;
  /** the public signing keys, as /auth/v1/.well-known/jwks.json publishes them */
  jwks: JsonWebKey[];
  /** the opaque API keys (sb_publishable_…, sb_secret_…) by hashToken (SHA-256 hex), with the type each stands for */
  apiKeys: ReadonlyMap<string, 'publishable' | 'secret'>;
  anonKey: string;
  serviceKey: string;
  createdAt: Date;
  /** the project's plan and its quotas, current: a plan change or a plan edit invalidates the cached project */
  plan: string;
  quotas: Quotas;
  /** the quota (`db_bytes`) that made the platform turn the project's database read-only, or null while writable */
  readOnlyReason: string | null;
  /** the Postgres cluster holding the project's database (platform.clusters) */
  clusterId: string;
  /** the project's login on its cluster's streaming replica, when the cluster has one (REST reads go there) */
  replicaConnectionString: string | null;
  /** put to sleep for idleness: its services released their resources; the next request through the gateway wakes it */
  sleeping: boolean;
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
  plan: string;
  plan_quotas: Record<string, unknown> | null;
  read_only_reason: string | null;
  cluster_id: string;
  replica_url_enc: string | null;
  sleeping: boolean;
  signing_keys: { id: string; algorithm: AsymmetricAlg; status: string; public_jwk: JsonWebKey; private_jwk_enc: string | null }[];
  api_keys: { hash: string; type: 'publishable' | 'secret' }[];
}

const SELECT_PROJECT = `select p.ref, p.name, p.settings, p.db_name, p.db_role, p.db_password_enc, p.jwt_secret_enc,
    p.anon_key_enc, p.service_key_enc, p.created_at, c.admin_url_enc, p.plan, pl.quotas as plan_quotas, p.read_only_reason,
    p.cluster_id, c.replica_url_enc, p.sleeping_at is not null as sleeping,
    coalesce((select json_agg(json_build_object('id', k.id, 'algorithm', k.algorithm, 'status', k.status, 'public_jwk', k.public_jwk,
        'private_jwk_enc', case when k.status = 'in_use' then k.private_jwk_enc end) order by k.created_at)
      from platform.signing_keys k where k.ref = p.ref and k.status <> 'revoked'), '[]') as signing_keys,
    coalesce((select json_agg(json_build_object('hash', a.key_hash, 'type', a.type)) from platform.api_keys a where a.ref = p.ref), '[]') as api_keys
  from platform.projects p join platform.clusters c on c.id = p.cluster_id left join platform.plans pl on pl.name = p.plan
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
  readonly #byApiKey: LRUCache<string, { ref: string | null }>;
  readonly #loading = new Map<string, Promise<Project | null>>();
  /** bumped by every invalidation: a load that overlapped one may have read the old row, and is not cached */
  #generation = 0;
  #onInvalidate: ((ref: string) => void)[] = [];
  /** invalidations this replica sent, waiting for the answers: how many replicas heard it, how many answered */
  readonly #acks = new Map<string, { heard: number; answered: number; done: () => void }>();
  /** false while the subscriber is down: changes are not heard, so nothing is kept for long */
  #heard = true;
  /** when (performance.now()) the subscriber's unanswered PING was sent; 0 when none is out */
  #pingSent = 0;
  #liveness: NodeJS.Timeout | undefined;
  /** when the liveness timer last ran: a late run (this process busy) judges no PING */
  #lastTick = 0;

  constructor(private readonly opts: RegistryOptions) {
    const ttl = opts.ttlMs ?? 60_000;
    this.#byRef = new LRUCache({ max: 10_000, ttl });
    this.#byDomain = new LRUCache({ max: 10_000, ttl });
    this.#byApiKey = new LRUCache({ max: 10_000, ttl });
  }

  async start(): Promise<void> {
    const sub = this.opts.subscriber;
    if (!sub) return;
    sub.on('message', (channel: string, message: string) => {
      if (channel === ACK_CHANNEL) return this.#answered(message);
      if (channel !== PROJECT_CHANNEL) return;
      const tab = message.lastIndexOf('\t');
      const what = tab < 0 ? message : message.slice(0, tab);
      if (what.startsWith(PLAN_MESSAGE)) this.#dropPlan(what.slice(PLAN_MESSAGE.length));
      else this.#drop(what);
      if (tab >= 0) this.opts.publisher?.publish(ACK_CHANNEL, message.slice(tab + 1)).catch(() => undefined);
    });
    // What changed while the subscriber was down went unheard: everything goes when it drops, is kept only
    // briefly until it is back, and goes again then (ioredis resubscribes before 'ready').
    sub.on('close', () => this.#deaf());
    sub.on('ready', () => this.#hearing());
    await sub.subscribe(PROJECT_CHANNEL, ACK_CHANNEL);
    this.#lastTick = performance.now();
    this.#liveness = setInterval(() => {
      const now = performance.now();
      const late = now - this.#lastTick > LIVENESS_INTERVAL_MS + LIVENESS_TIMEOUT_MS;
      this.#lastTick = now;
      if (this.#pingSent) {
        // a blocked event loop delays the answer's reading as much as this check: not Redis's silence
        if (late) this.#pingSent = now;
        else if (now - this.#pingSent > LIVENESS_TIMEOUT_MS) this.#deaf();
        return;
      }
      if (sub.status !== 'ready') return; // 'close' said so already; 'ready' will say when it is back
      const sent = (this.#pingSent = now);
      sub.ping().then(() => {
        this.#pingSent = 0;
        // only a prompt answer ends deafness: a Redis answering this late would flap between the two, and each
        // change of mind drops every cache (pools included)
        if (performance.now() - sent <= LIVENESS_TIMEOUT_MS) this.#hearing();
      }, () => {
        this.#pingSent = 0;
        this.#deaf();
      });
    }, LIVENESS_INTERVAL_MS).unref();
  }

  stop(): void {
    clearInterval(this.#liveness);
  }

  /** The subscriber went away or stopped answering: what changes meanwhile is unheard. */
  #deaf(): void {
    if (!this.#heard) return;
    this.#heard = false;
    this.#drop('*');
  }

  /** It answers again (after a reconnect, ioredis resubscribes before 'ready'): what was kept meanwhile goes. */
  #hearing(): void {
    if (this.#heard) return;
    this.#drop('*');
    this.#heard = true;
  }

  /** Called with the ref of every changed project, so services can drop pools or caches of their own. */
  onInvalidate(fn: (ref: string) => void): void {
    this.#onInvalidate.push(fn);
  }

  #drop(ref: string): void {
    this.#generation++;
    if (ref === '*') {
      this.#loading.clear();
      this.#byRef.clear();
      this.#byDomain.clear();
      this.#byApiKey.clear();
    } else {
      this.#loading.delete(ref);
      this.#byRef.delete(ref);
      for (const [domain, v] of this.#byDomain.entries()) if (v.ref === ref || v.ref === null) this.#byDomain.delete(domain);
      for (const [hash, v] of this.#byApiKey.entries()) if (v.ref === ref || v.ref === null) this.#byApiKey.delete(hash);
    }
    for (const fn of this.#onInvalidate) fn(ref);
  }

  /** Drops every cached project on the plan (custom domains and API keys map to refs, so they stay). */
  #dropPlan(plan: string): void {
    const stale: string[] = [];
    for (const [ref, v] of this.#byRef.entries()) if (v.project?.plan === plan) stale.push(ref);
    this.#generation++;
    for (const ref of stale) {
      this.#loading.delete(ref);
      this.#byRef.delete(ref);
      for (const fn of this.#onInvalidate) fn(ref);
    }
  }

  /** Tells every replica that a plan's quotas changed: each drops the projects on it, which then load the new ones. */
  async invalidatePlan(plan: string): Promise<void> {
    this.#dropPlan(plan);
    await this.#announce(`${PLAN_MESSAGE}${plan}`);
  }

  /** Tells every replica (this one included) that a project changed; resolves once each has dropped it (at most ACK_TIMEOUT_MS). */
  async invalidate(ref: string): Promise<void> {
    this.#drop(ref);
    await this.#announce(ref);
  }

  /** Publishes a change and waits for as many answers as Redis counted listeners, at most ACK_TIMEOUT_MS. */
  async #announce(what: string): Promise<void> {
    const { publisher, subscriber } = this.opts;
    if (!publisher) return;
    if (!subscriber) return void (await publisher.publish(PROJECT_CHANNEL, what));
    const id = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const answers = new Promise<void>((done) => {
      // answers may come before PUBLISH's own reply: until it comes, any number is too few
      this.#acks.set(id, { heard: Infinity, answered: 0, done });
      timer = setTimeout(done, ACK_TIMEOUT_MS);
    });
    try {
      const wait = this.#acks.get(id)!;
      try {
        wait.heard = await publisher.publish(PROJECT_CHANNEL, `${what}\t${id}`);
      } catch (e) {
        return await this.#unannounced(e);
      }
      if (wait.answered < wait.heard) await answers;
    } finally {
      clearTimeout(timer);
      this.#acks.delete(id);
    }
  }

  /**
   * Redis did not take an announcement (down, or not answering). Every replica on it then stops hearing it too and
   * keeps what it loads for UNHEARD_TTL_MS only, so the change (committed before the announcement) is everywhere once
   * they all have noticed and that TTL has passed: this waits for this replica to notice, then for the others (who
   * notice within LIVENESS_INTERVAL_MS + LIVENESS_TIMEOUT_MS of each other) and the TTL. Were this replica still
   * hearing Redis, others might be too, holding the old state for the full TTL: that is an error the caller sees.
   */
  async #unannounced(cause: unknown): Promise<void> {
    const noticeBy = performance.now() + LIVENESS_INTERVAL_MS + LIVENESS_TIMEOUT_MS + 500;
    while (this.#heard && performance.now() < noticeBy) await sleep(50);
    if (this.#heard) {
      throw new BasaltError(503, 'change_not_announced', 'The change is saved, but Redis did not take its announcement: other replicas may serve the previous state for up to a minute', { cause, headers: { 'retry-after': '2' } });
    }
    await sleep(LIVENESS_INTERVAL_MS + LIVENESS_TIMEOUT_MS + UNHEARD_TTL_MS);
  }

  #answered(id: string): void {
    const wait = this.#acks.get(id);
    if (wait && ++wait.answered >= wait.heard) wait.done();
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

  /** Whether the control plane still holds the project, asked now (no cache): a deletion is final only here. */
  async exists(ref: string): Promise<boolean> {
    return ((await this.opts.control.query('select 1 from platform.projects where ref = $1', [ref])).rowCount ?? 0) > 0;
  }

  async #load(ref: string): Promise<Project | null> {
    const generation = this.#generation;
    const { rows } = await this.opts.control.query<ProjectRow>(`${SELECT_PROJECT} p.ref = $1`, [ref]);
    const project = rows[0] ? this.#toProject(rows[0]) : null;
    // Unknown refs are remembered briefly so a flood of bad refs does not become a flood of queries. A load an
    // invalidation overtook is answered but not kept: its row may predate the change (the next get reads again).
    if (generation === this.#generation) this.#byRef.set(ref, { project }, this.#ttl(project !== null));
    return project;
  }

  /**
   * The project a custom domain routes to, or null. Only a verified (active) claim routes: pending claims are
   * unproven and several projects may hold one for the same name. Activation and removal invalidate the project,
   * which drops this cache's entries for it and every cached miss.
   */
  async refForDomain(domain: string): Promise<string | null> {
    const key = domain.toLowerCase();
    const hit = this.#byDomain.get(key);
    if (hit) return hit.ref;
    const generation = this.#generation;
    const { rows } = await this.opts.control.query<{ ref: string }>(
      `select ref from platform.custom_domains where domain = $1 and status = 'active'`,
      [key],
    );
    const ref = rows[0]?.ref ?? null;
    if (generation === this.#generation) this.#byDomain.set(key, { ref }, this.#ttl(ref !== null));
    return ref;
  }

  /** The project an opaque API key (sb_publishable_…, sb_secret_…) belongs to, or null; misses are remembered briefly. */
  async refForApiKey(key: string): Promise<string | null> {
    const hash = hashToken(key);
    const hit = this.#byApiKey.get(hash);
    if (hit) return hit.ref;
    const generation = this.#generation;
    const { rows } = await this.opts.control.query<{ ref: string }>('select ref from platform.api_keys where key_hash = $1', [hash]);
    const ref = rows[0]?.ref ?? null;
    if (generation === this.#generation) this.#byApiKey.set(hash, { ref }, this.#ttl(ref !== null));
    return ref;
  }

  /** a found entry is kept the cache's TTL, a miss 5 s; anything 1 s while changes go unheard */
  #ttl(found: boolean): { ttl: number } | undefined {
    if (!this.#heard) return { ttl: UNHEARD_TTL_MS };
    return found ? undefined : { ttl: 5_000 };
  }

  #toProject(row: ProjectRow): Project {
    const s = this.opts.secrets;
    const password = s.decrypt(row.db_password_enc);
    const login = (sealedUrl: string) => {
      const url = new URL(s.decrypt(sealedUrl));
      url.username = row.db_role;
      url.password = password;
      url.pathname = `/${row.db_name}`;
      return url.toString();
    };
    const onProjectDb = (adminUrl: string) => {
      const url = new URL(adminUrl);
      url.pathname = `/${row.db_name}`;
      return url.toString();
    };
    const jwtSecret = s.decrypt(row.jwt_secret_enc);
    return {
      ref: row.ref,
      name: row.name,
      // secrets inside settings (SMTP password, OAuth secrets) are stored sealed; services get them open
      settings: unsealSecrets(row.settings ?? {}, s),
      dbName: row.db_name,
      dbRole: row.db_role,
      connectionString: login(row.admin_url_enc),
      adminConnectionString: onProjectDb(s.decrypt(row.admin_url_enc)),
      jwtSecret,
      jwtKey: keySet(hmacKey(jwtSecret), (row.signing_keys ?? []).map((k) => ({
        kid: k.id, alg: k.algorithm, publicJwk: k.public_jwk, current: k.status === 'in_use',
        privateJwk: k.private_jwk_enc ? (JSON.parse(s.decrypt(k.private_jwk_enc)) as JsonWebKey) : null,
      }))),
      jwks: (row.signing_keys ?? []).map((k) => k.public_jwk),
      apiKeys: new Map((row.api_keys ?? []).map((k) => [k.hash, k.type])),
      anonKey: s.decrypt(row.anon_key_enc),
      serviceKey: s.decrypt(row.service_key_enc),
      createdAt: row.created_at,
      plan: row.plan,
      quotas: quotasFrom(row.plan_quotas),
      readOnlyReason: row.read_only_reason ?? null,
      clusterId: row.cluster_id,
      replicaConnectionString: row.replica_url_enc ? login(row.replica_url_enc) : null,
      sleeping: row.sleeping === true,
    };
  }
}
