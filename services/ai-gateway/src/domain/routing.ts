// Which provider serves a model name: `provider/model` names a provider of the project explicitly; otherwise
// the route table is searched, exact names first, then globs in table order. A route may rename the model
// (an alias: `fast` → gpt-4o-mini) and lists fallbacks, tried in order on 429, 5xx and timeouts.
import type { ProviderType } from '../db/providers.js';
import type { RouteRow } from '../db/routes.js';
import { globMatcher, isGlob } from './glob.js';

export interface Provider {
  name: string;
  type: ProviderType;
  baseUrl: string;
  apiKey: string | null;
  timeoutMs: number | null;
}

export interface Candidate {
  provider: Provider;
  /** the model name sent upstream */
  model: string;
}

export interface RouteTable {
  exact: Map<string, RouteRow>;
  globs: { match: (m: string) => boolean; route: RouteRow }[];
  /** names GET /v1/models lists: every route that is not a glob */
  listed: RouteRow[];
}

export const DEFAULT_BASE_URL: Record<ProviderType, string | null> = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com',
  openai_compatible: null,
};

export function compileRoutes(rows: RouteRow[]): RouteTable {
  const exact = new Map<string, RouteRow>();
  const globs: RouteTable['globs'] = [];
  for (const r of rows) {
    if (isGlob(r.model)) globs.push({ match: globMatcher(r.model), route: r });
    else if (!exact.has(r.model)) exact.set(r.model, r);
  }
  return { exact, globs, listed: [...exact.values()] };
}

/** `name` or `name/model` (a fallback may change the model too) */
function target(entry: string, model: string, providers: Map<string, Provider>): Candidate | null {
  const slash = entry.indexOf('/');
  const provider = providers.get(slash === -1 ? entry : entry.slice(0, slash));
  return provider ? { provider, model: slash === -1 ? model : entry.slice(slash + 1) } : null;
}

/** The providers to try, in order; empty when nothing serves the model. */
export function resolveModel(model: string, routes: RouteTable, providers: Map<string, Provider>): Candidate[] {
  const route = routes.exact.get(model) ?? routes.globs.find((g) => g.match(model))?.route;
  if (route) {
    const upstream = route.upstream_model ?? model;
    return [route.provider, ...route.fallbacks]
      .map((entry) => target(entry, upstream, providers))
      .filter((c): c is Candidate => c !== null);
  }
  const slash = model.indexOf('/');
  if (slash > 0) {
    const c = target(model, model, providers);
    if (c && c.model) return [c];
  }
  return [];
}
