// Keeps a project's auth tables from growing with what no longer counts, as GoTrue's cleanup does: refresh tokens
// revoked a day ago, ended sessions, old MFA challenges, expired flow states. Requests nudge it; this process
// cleans a project's database at most once per interval, after the response and on no request's path.
import type pg from 'pg';
import { perDatabase } from '@basalt/db';
import type { Logger } from '@basalt/http';
import { cleanupDb } from '../db/cleanup.js';
import { flowStateDb } from '../db/flow-state.js';
import { FLOW_LIFETIMES } from '../domain/pkce.js';

const EVERY_MS = 10_000;

export interface CleanupLimits {
  /** rows one delete removes at most */
  batch: number;
  /** sessions one delete removes at most: each takes its tokens with it */
  sessions: number;
  /** refresh tokens one sweep statement examines */
  scan: number;
  /** statements per table in one run, so a backlog drains over several runs rather than in one long one */
  rounds: number;
}

const LIMITS: CleanupLimits = { batch: 100, sessions: 10, scan: 1000, rounds: 10 };

/** Where the refresh-token sweep of one project database stands. */
export interface CleanupState {
  after: string;
}

/** Repeats a delete while it comes back full, up to `rounds` times. */
async function drain(rounds: number, full: number, remove: () => Promise<number>): Promise<void> {
  for (let i = 0; i < rounds; i++) if ((await remove()) < full) return;
}

/** One run over a project's database; the sweep goes on from where the last run left it. */
export async function cleanProjectDatabase(pool: pg.Pool, state: CleanupState, l: CleanupLimits = LIMITS): Promise<void> {
  for (let i = 0; i < l.rounds; i++) {
    const s = await cleanupDb.sweepRevokedRefresh(pool, state.after, l.scan);
    state.after = s.more ? s.after : '0';
    if (!s.more) break;
  }
  await drain(l.rounds, l.sessions, () => cleanupDb.removeEndedSessions(pool, l.sessions));
  await drain(l.rounds, l.batch, () => cleanupDb.removeOldChallenges(pool, l.batch));
  await drain(l.rounds, l.batch, () => flowStateDb.removeExpired(pool, FLOW_LIFETIMES, l.batch));
}

/** GoTrue's cleanup, at most every 10 s per project database. */
export const databaseCleanup = (log: Logger) => perDatabase('auth cleanup', EVERY_MS, (): CleanupState => ({ after: '0' }), cleanProjectDatabase, log);
