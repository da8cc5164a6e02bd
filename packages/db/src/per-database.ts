// A job over each project database a service uses, nudged by the requests that use it: it runs at most once per
// interval per database, after the response and on no request's path, and never twice at once. A run may set the
// interval until the next one (a job that found nothing to do can back off); `orAfterNudges` cuts such a wait short
// once that many requests have used the database since the last run ended (a quiet project that turns busy).
import type pg from 'pg';

export interface JobLog {
  warn: (obj: object, msg: string) => void;
}

export function perDatabase<S>(
  what: string, everyMs: number, initial: () => S, run: (pool: pg.Pool, state: S) => Promise<number | void>, log: JobLog,
  o: { orAfterNudges?: number } = {},
) {
  // keyed by pool: a pool the project cache drops takes its entry with it
  const databases = new WeakMap<pg.Pool, { state: S; next: number; nudges: number }>();
  const enough = o.orAfterNudges ?? Number.POSITIVE_INFINITY;
  return {
    /** Starts a run for the project's database unless one ran within the interval (or still runs). */
    nudge(pool: pg.Pool, ref: string): void {
      const now = Date.now();
      let entry = databases.get(pool);
      if (entry && now < entry.next && (++entry.nudges < enough || entry.next === Number.POSITIVE_INFINITY)) return;
      entry ??= { state: initial(), next: 0, nudges: 0 };
      entry.next = Number.POSITIVE_INFINITY;
      databases.set(pool, entry);
      const done = entry;
      run(pool, entry.state)
        .then((ms) => ms ?? everyMs, (err: Error) => {
          log.warn({ ref, err: err.message }, `${what} failed`);
          return everyMs;
        })
        .then((ms) => {
          done.next = Date.now() + ms;
          done.nudges = 0;
        });
    },
  };
}
