// Token usage in one shape whatever the provider said. input counts every prompt token (OpenAI's convention:
// cache reads and writes included); Anthropic reports cache reads and writes beside input_tokens, so they are added.
export interface Usage {
  input: number;
  output: number;
  /** cache reads, part of input */
  cached: number;
  /** cache writes, part of input */
  cacheWrite: number;
  /** false when estimated with the tokenizer */
  reported: boolean;
}

// A provider's counts are believed up to what one usage row holds (its columns are 32-bit integers). Beyond it
// (1e300, 5e18) the row was refused and dropped, and the process's metering batch, which carries every project's
// counts, was refused as a bigint on every retry: no project's AI usage was metered again.
const MAX_TOKENS = 2 ** 31 - 1;
const cap = (v: number): number => Math.min(MAX_TOKENS, v);
const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? cap(Math.floor(v)) : 0);

export const emptyUsage = (): Usage => ({ input: 0, output: 0, cached: 0, cacheWrite: 0, reported: false });

interface OpenAIUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number; cache_write_tokens?: number } | null;
}

export const fromOpenAI = (u: OpenAIUsage): Usage => ({
  input: n(u.prompt_tokens),
  output: n(u.completion_tokens),
  cached: n(u.prompt_tokens_details?.cached_tokens),
  cacheWrite: n(u.prompt_tokens_details?.cache_write_tokens),
  reported: true,
});

interface AnthropicUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
}

export const fromAnthropic = (u: AnthropicUsage): Usage => ({
  input: cap(n(u.input_tokens) + n(u.cache_read_input_tokens) + n(u.cache_creation_input_tokens)),
  output: n(u.output_tokens),
  cached: n(u.cache_read_input_tokens),
  cacheWrite: n(u.cache_creation_input_tokens),
  reported: true,
});

/** Responses API and embeddings */
export const fromResponses = (u: { input_tokens?: number; output_tokens?: number; input_tokens_details?: { cached_tokens?: number } | null }): Usage => ({
  input: n(u.input_tokens), output: n(u.output_tokens), cached: n(u.input_tokens_details?.cached_tokens), cacheWrite: 0, reported: true,
});

export const toOpenAI = (u: Usage) => ({
  prompt_tokens: u.input,
  completion_tokens: u.output,
  total_tokens: u.input + u.output,
  prompt_tokens_details: { cached_tokens: u.cached, ...(u.cacheWrite ? { cache_write_tokens: u.cacheWrite } : {}) },
});

export const toAnthropic = (u: Usage) => ({
  input_tokens: Math.max(0, u.input - u.cached - u.cacheWrite),
  output_tokens: u.output,
  cache_creation_input_tokens: u.cacheWrite,
  cache_read_input_tokens: u.cached,
});
