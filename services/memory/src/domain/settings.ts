// settings.memory of a project (written through the platform API), with the defaults mem0 users expect.
import type { Project } from '@basalt/tenancy';

export interface MemorySettings {
  llmModel: string | null;
  embeddingModel: string | null;
  /** the chat model that scores results when a search asks for rerank (none: the retrieval order stands) */
  rerankModel: string | null;
  /** sent to the embedding model only when the project set it */
  dimensions: number | null;
  textSearchConfig: string;
}

export function memorySettings(project: Project): MemorySettings {
  const m = (project.settings.memory ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : null);
  const cfg = str(m.text_search_config);
  return {
    llmModel: str(m.llm_model),
    embeddingModel: str(m.embedding_model),
    rerankModel: str(m.rerank_model),
    dimensions: typeof m.dimensions === 'number' ? m.dimensions : null,
    textSearchConfig: cfg && /^[a-z_][a-z0-9_]{0,62}$/.test(cfg) ? cfg : 'english',
  };
}
