// GET /v1/models: the model names a caller may use — every route that is not a glob (aliases included) —
// in OpenAI's list shape or Anthropic's paginated one (has_more false, or the SDK keeps paging).
import type { ApiFormat } from '../wire-shape.js';
import { aiErrors } from '../errors.js';
import type { AiConfig } from './ai-config.js';
import type { Caller } from './callers.js';
import { globMatcher } from './glob.js';
import { resolveModel } from './routing.js';

const CREATED = Math.floor(Date.UTC(2024, 0, 1) / 1000);

function describe(id: string, owner: string, format: ApiFormat) {
  return format === 'anthropic'
    ? { type: 'model', id, display_name: id, created_at: new Date(CREATED * 1000).toISOString() }
    : { id, object: 'model', created: CREATED, owned_by: owner };
}

export function modelCatalog(config: AiConfig) {
  const allowed = (c: Caller, id: string) => !c.limits.allowed_models || c.limits.allowed_models.some((p) => globMatcher(p)(id));
  return {
    async list(c: Caller, format: ApiFormat) {
      const cfg = await config.project(c.ref);
      const data = cfg.routes.listed.filter((r) => allowed(c, r.model)).map((r) => describe(r.model, r.provider, format));
      if (format === 'openai') return { object: 'list', data };
      return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
    },

    async get(c: Caller, id: string, format: ApiFormat) {
      const cfg = await config.project(c.ref);
      const [first] = allowed(c, id) ? resolveModel(id, cfg.routes, cfg.providers) : [];
      if (!first) throw aiErrors.modelNotFound(id);
      return describe(id, first.provider.name, format);
    },
  };
}

export type ModelCatalog = ReturnType<typeof modelCatalog>;
