// Capture by logical decoding (pgoutput), for clusters with wal_level=logical: the same claims as the trigger
// capture, but a claimed table joins this feed's own publication instead of getting a trigger. The stream (and
// its slot) runs only while some table is claimed or lingering; releasing the last one ends it and drops both.
// Each replica decodes for itself, so there is nothing to coordinate across replicas beyond sweeping what a
// crashed replica left behind: its publications, and its slots, which retain WAL until dropped.
// Payloads match the trigger capture's (old_record: the key unless REPLICA IDENTITY FULL), except: commit_timestamp
// is the transaction's commit time (triggers: the change's clock time); timestamptz values are rendered in the
// database's default TimeZone (triggers: the writer's session's); generated columns, and on UPDATE an unchanged
// TOASTed value of a table without REPLICA IDENTITY FULL, are not decoded, so they are missing from `record`.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { withClient } from '@basalt/db';
import { canDecode, dropPublication, dropSlot, idleReplicaSlots, PUBLICATION_PREFIX, replicaPublications } from '../db/publications.js';
import type { Replicas } from '../domain/replicas.js';
import type { ChangeCapture } from './capture.js';
import { ClaimedCapture } from './claims.js';
import { LogicalStream, type StreamHooks } from './logical-stream.js';

export type CaptureMode = 'auto' | 'trigger' | 'logical';

const replicaTag = (id: string) => `${PUBLICATION_PREFIX}${createHash('sha256').update(id).digest('hex').slice(0, 10)}_`;

const withAdmin = <T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> => withClient(url, fn, { applicationName: 'basalt-realtime-capture' });

/** Which capture a project gets: logical when asked for or (auto) when its cluster can decode, else triggers. */
export async function chooseCapture(mode: CaptureMode, adminUrl: string): Promise<'trigger' | 'logical'> {
  if (mode === 'trigger') return 'trigger';
  // auto never costs a project its changes: a cluster that cannot be asked gets triggers
  const ok = await withAdmin(adminUrl, canDecode).catch((e: unknown) => {
    if (mode === 'logical') throw e;
    return false;
  });
  if (ok) return 'logical';
  if (mode === 'logical') throw new Error('REALTIME_CAPTURE=logical needs wal_level=logical and a login that may replicate');
  return 'trigger';
}

export class LogicalCapture extends ClaimedCapture implements ChangeCapture {
  #stream: Promise<LogicalStream> | null = null;

  constructor(
    private readonly adminUrl: () => string,
    private readonly replicas: Replicas,
    private readonly hooks: StreamHooks,
    lingerMs: number,
    onError: (err: Error) => void,
  ) {
    super(lingerMs, onError);
  }

  protected async startCapture(schema: string, table: string): Promise<void> {
    await (await this.#open()).publish(schema, table);
  }

  protected override startFailed(): void {
    void this.#stopIfIdle();
  }

  #open(): Promise<LogicalStream> {
    if (this.#stream) return this.#stream;
    const stream: Promise<LogicalStream> = LogicalStream.open(this.adminUrl(), replicaTag(this.replicas.id), {
      ...this.hooks,
      onLost: (err) => {
        if (this.#stream === stream) this.#stream = null;
        this.hooks.onLost(err);
      },
    });
    this.#stream = stream;
    stream.catch(() => this.#stream === stream && (this.#stream = null));
    return stream;
  }

  protected async stopCapture(schema: string, table: string): Promise<void> {
    if (this.claimed(schema, table) || !this.#stream) return;
    if (this.active === 0) return this.#stopIfIdle();
    await (await this.#stream).unpublish(schema, table);
  }

  async #stopIfIdle(): Promise<void> {
    if (this.active > 0 || this.starting > 0 || !this.#stream) return;
    const stream = this.#stream;
    this.#stream = null;
    await (await stream.catch(() => null))?.stop();
  }

  /**
   * Drops the slots and publications of replicas that are gone (a live replica's are its streams'; one resuming
   * after a broken connection is still live). A slot first: a publication alone retains nothing.
   */
  async sweep(): Promise<void> {
    const live = new Set([...(await this.replicas.liveNow())].map(replicaTag));
    const gone = (name: string) => !live.has(name.slice(0, replicaTag('').length));
    await withAdmin(this.adminUrl(), async (c) => {
      // a slot taken meanwhile (55006) is some live stream's after all
      for (const slot of await idleReplicaSlots(c)) if (gone(slot)) await dropSlot(c, slot, 0).catch(() => undefined);
      for (const pub of await replicaPublications(c)) if (gone(pub)) await dropPublication(c, pub);
    });
  }

  /** Ends the stream now (shutdown, project asleep). */
  async releaseAll(): Promise<void> {
    this.clearClaims();
    await this.#stopIfIdle();
  }
}
