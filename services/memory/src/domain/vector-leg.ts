// The vector leg of a search: candidate ids nearest to the query. Small projects rank by Hamming distance in
// Postgres; large ones (MEMORY_INDEX_MIN_ROWS) rank in the in-process code index, then let Postgres admit the
// best of them through the filters and RLS, and fall back to Postgres when the filters leave too few.
import type pg from 'pg';
import { LRUCache } from 'lru-cache';
import type { Config } from '../config.js';
import { admitted, codesSince, estimatedRows } from '../db/code-index.js';
import { SqlParams } from '@basalt/db';
import { vectorCandidates } from '../db/search.js';
import { absorb, CodeIndex, emptySet, nearest, packBits, wordsOf, type CodeSet } from '@basalt/vector-index';
import { asService, mapPgError, serviceSettings, type Ctx } from './context.js';

const WINDOWS = [0, 400, 4000];

export function vectorLeg(config: Config) {
  const index = new CodeIndex(config.MEMORY_INDEX_MAX_VECTORS);
  const sizes = new LRUCache<string, { large: boolean }>({ max: 10_000, ttl: 60_000 });
  const refreshing = new Map<string, Promise<CodeSet>>();

  async function large(ctx: Ctx): Promise<boolean> {
    const ref = ctx.caller.project.ref;
    let hit = sizes.get(ref);
    if (!hit) sizes.set(ref, (hit = { large: (await asService(ctx, estimatedRows)) >= config.MEMORY_INDEX_MIN_ROWS }));
    return hit.large;
  }

  async function refresh(ctx: Ctx, model: string, bits: number): Promise<CodeSet> {
    const key = `${ctx.caller.project.ref}:${model}:${bits}`;
    const pending = refreshing.get(key);
    if (pending) return pending;
    const run = (async () => {
      const old = index.get(key);
      const set = old && Date.now() - old.builtAt < config.MEMORY_INDEX_REBUILD_MS ? old : emptySet(bits);
      const { rows, next } = await codesSince(ctx.pool, serviceSettings(ctx), model, bits, set.watermark, mapPgError);
      absorb(set, rows);
      set.watermark = next;
      index.set(key, set);
      return set;
    })().finally(() => refreshing.delete(key));
    refreshing.set(key, run);
    return run;
  }

  return {
    drop: (ref: string) => (ref === '*' ? index.drop('') : index.drop(`${ref}:`)),

    /** the project's codes brought up to date, or null when Postgres should rank (small project); before the caller's transaction */
    async codes(ctx: Ctx, model: string, code: string): Promise<CodeSet | null> {
      if (!(await large(ctx))) return null;
      return refresh(ctx, model, code.length);
    },

    /** ids of the set nearest to the code, for candidates() */
    rank: (set: CodeSet | null, code: string): string[] | null => (set ? nearest(set, wordsOf(packBits(code), set.words), WINDOWS.at(-1)!) : null),

    /** ids nearest first, admitted by the filters; `ranked` from rank() or null */
    async candidates(tx: pg.PoolClient, where: () => { p: SqlParams; where: string }, ranked: string[] | null, model: string, code: string, want: number): Promise<string[]> {
      if (ranked) {
        const out: string[] = [];
        for (let k = 0; k + 1 < WINDOWS.length && out.length < want; k++) {
          const window = ranked.slice(WINDOWS[k], WINDOWS[k + 1]);
          const w = where();
          const ok = new Set(await admitted(tx, window, w.where, w.p));
          for (const id of window) if (ok.has(id)) out.push(id);
        }
        if (out.length >= want || ranked.length < WINDOWS.at(-1)!) return out.slice(0, want);
      }
      const w = where();
      return vectorCandidates(tx, w.where, w.p, model, code, want);
    },
  };
}

export type VectorLeg = ReturnType<typeof vectorLeg>;
