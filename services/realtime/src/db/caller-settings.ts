// Switching callers inside one transaction (the row checks of many subscribers in one round trip): each caller
// gets the settings @basalt/db's beginAsCallerSql gives a request, but only those that differ from the caller
// before it are named. Subscribers of a table mostly share the role, the audience and the request settings
// and differ in a few claims, so a switch is three or four set_config calls rather than a dozen, and the
// settings, not the row reads, were half of what a check cost Postgres.
import { callerSettingsEntries, setConfigSql, type CallerSettings } from '@basalt/db';

type Values = Map<string, string | null>;

const CLAIM_PREFIX = 'request.jwt.claim.';

/** The settings beginAsCallerSql makes for a caller, by name (a later one of the same name wins, as in Postgres). */
export const callerValues = (s: CallerSettings): Values => new Map(callerSettingsEntries(s));

interface Caller {
  values: Values;
  /** name, value and set_config call of each setting */
  settings: [string, string | null, string][];
  /** the request.jwt.claim.* settings it makes */
  claims: Set<string>;
}

/** A caller's values, kept with its claims object (the same object in every batch a subscriber is part of). */
const cache = new WeakMap<object, Map<string, Caller>>();
function callerOf(s: CallerSettings): Caller {
  let byRest = cache.get(s.claims);
  if (!byRest) cache.set(s.claims, (byRest = new Map()));
  const rest = [s.role, s.readOnly ? 'r' : 'w', s.method ?? '', s.path ?? '', s.searchPath ?? '', s.timeoutMs ?? 0, s.timezone ?? ''].join('\u0000');
  let c = byRest.get(rest);
  if (!c) {
    const values = callerValues(s);
    c = {
      values,
      settings: [...values].map(([name, value]) => [name, value, setConfigSql(name, value)]),
      claims: new Set([...values.keys()].filter((name) => name.startsWith(CLAIM_PREFIX))),
    };
    byRest.set(rest, c);
  }
  return c;
}

/**
 * The settings of one transaction as its callers follow each other. The first caller's statement names all its
 * settings; each later one names what differs, and empties a per-claim setting an earlier caller had and this
 * one has not (as a fresh transaction would not have it), so no claim of one caller reaches the next one's
 * policies.
 */
export class CallerSwitch {
  readonly #now: Values = new Map();
  /** per-claim settings that hold a value now */
  readonly #claims = new Set<string>();
  #last: Caller | null = null;

  /** One statement (`select set_config(…), …`) that makes the settings the caller's. */
  to(s: CallerSettings): string {
    const caller = callerOf(s);
    if (caller === this.#last) return 'select';
    this.#last = caller;
    const set: string[] = [];
    for (const name of this.#claims) {
      if (caller.claims.has(name)) continue;
      this.#claims.delete(name);
      this.#now.set(name, null);
      set.push(setConfigSql(name, null));
    }
    for (const [name, value, sql] of caller.settings) {
      if (this.#now.get(name) === value && this.#now.has(name)) continue;
      this.#now.set(name, value);
      if (name.startsWith(CLAIM_PREFIX)) {
        if (value === null) this.#claims.delete(name);
        else this.#claims.add(name);
      }
      set.push(sql);
    }
    return set.length ? `select ${set.join(', ')}` : 'select';
  }
}
