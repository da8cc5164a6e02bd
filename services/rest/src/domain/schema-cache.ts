// Schema caches of the projects this process serves, bounded by an LRU. Each is loaded on first use and
// dropped when its LISTEN connection hears 'reload schema', when the project changes in the registry, or
// on eviction (which also closes the LISTEN connection).
import { LRUCache } from 'lru-cache';
import type pg from 'pg';
import type { Project } from '@basalt/tenancy';
import { loadCatalog } from '../db/catalog.js';
import { listenSchemaChanges } from '../db/listener.js';
import { restErrors } from '../errors.js';
import { SchemaIndex } from './schema.js';

interface Entry {
  connectionString: string;
  index: Promise<SchemaIndex> | null;
  loadedAt: number;
  listener: Promise<pg.Client | null>;
}

/** Hard-coded so that neither catalog can ever be exposed, whatever a project's settings say. */
const NEVER = new Set(['pg_catalog', 'information_schema']);

export function exposedSchemas(project: Project): string[] {
  const rest = (project.settings.rest ?? {}) as { schemas?: unknown };
  const list = Array.isArray(rest.schemas) ? rest.schemas.filter((s): s is string => typeof s === 'string' && !NEVER.has(s)) : [];
  return list.length ? list : ['public'];
}

export class SchemaCaches {
  readonly #entries: LRUCache<string, Entry>;

  constructor(max: number, private readonly onError: (ref: string, err: Error) => void) {
    this.#entries = new LRUCache({
      max,
      // A project nobody has asked about for a while gives its LISTEN connection back.
      ttl: 10 * 60_000,
      updateAgeOnGet: true,
      ttlAutopurge: true,
      dispose: (e) => void e.listener.then((c) => c?.end()).catch(() => undefined),
    });
  }

  async get(project: Project, pool: pg.Pool): Promise<SchemaIndex> {
    let e = this.#entries.get(project.ref);
    if (!e || e.connectionString !== project.connectionString) {
      const ref = project.ref;
      const entry: Entry = { connectionString: project.connectionString, index: null, loadedAt: 0, listener: Promise.resolve(null) };
      entry.listener = listenSchemaChanges(project.connectionString, () => (entry.index = null), () => {
        if (this.#entries.peek(ref) === entry) this.#entries.delete(ref);
      }).catch((err) => {
        this.onError(ref, err as Error);
        return null;
      });
      this.#entries.set(ref, entry);
      e = entry;
    }
    if (!e.index) e.index = this.#load(project, pool, e);
    return e.index;
  }

  /** A lookup missed: reload once if the cache is older than the notification lag we tolerate. */
  async refreshIfStale(project: Project, pool: pg.Pool, olderThanMs = 300): Promise<SchemaIndex | null> {
    const e = this.#entries.get(project.ref);
    if (!e || Date.now() - e.loadedAt < olderThanMs) return null;
    // a reload takes a connection: with none free the miss is answered from the cache as it is, at once, rather
    // than waiting on slow queries for a name that is most likely wrong
    if (pool.idleCount === 0 && pool.totalCount >= (pool.options.max ?? 10)) return null;
    e.index = null;
    return this.get(project, pool);
  }

  #load(project: Project, pool: pg.Pool, e: Entry): Promise<SchemaIndex> {
    const schemas = exposedSchemas(project);
    const p = (async () => {
      await e.listener; // listen before reading, so no DDL between the two is missed
      const catalog = await loadCatalog(pool, schemas);
      e.loadedAt = Date.now();
      return new SchemaIndex(catalog, schemas);
    })();
    const wrapped = p.catch((err) => {
      if (e.index === wrapped) e.index = null;
      this.onError(project.ref, err as Error);
      throw restErrors.schemaCacheUnavailable();
    });
    return wrapped;
  }

  /** Forgets a project's cache ('*': every project's, when changes may have gone unheard). */
  drop(ref: string): void {
    if (ref === '*') this.#entries.clear();
    else this.#entries.delete(ref);
  }

  async closeAll(): Promise<void> {
    this.#entries.clear();
  }
}
