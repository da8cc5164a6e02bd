// AI gateway configuration; the only reader of process.env.
import { AI_UPSTREAM_TIMEOUT_MAX_MS, commonConfig, loadConfig as load, z } from '@basalt/config';

const Price = z.object({
  input: z.number().min(0),
  output: z.number().min(0),
  cached_input: z.number().min(0).optional(),
  cache_write: z.number().min(0).optional(),
}).strict();

/** `{"model-or-glob": {input, output, cached_input?, cache_write?}}`, USD per million tokens */
const PriceTable = z.string().default('{}').transform((text, ctx) => {
  try {
    return z.record(Price).parse(JSON.parse(text));
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `not a price table: ${(e as Error).message}` });
    return z.NEVER;
  }
});

const schema = {
  ...commonConfig,
  PORT: z.coerce.number().int().default(8006),
  /** request bodies of /v1/* (images travel inline as base64); Anthropic's own cap is 32 MB */
  AI_MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(10 * 1024 * 1024),
  /**
   * the most the gateway reads of a provider's non-streamed answer, and of one event-stream frame: a provider a
   * tenant runs may send an answer, or a line, that never ends. Embeddings of 2,048 inputs as JSON floats fit.
   */
  AI_MAX_RESPONSE_BYTES: z.coerce.number().int().min(1024).default(64 * 1024 * 1024),
  /**
   * until the upstream's response headers, then the longest silence of its stream (a provider may override). A
   * non-streamed answer comes whole after the model is done, so this bounds its generation: 10 minutes, the
   * OpenAI and Anthropic SDKs' own timeout per attempt, so what a provider answers to them directly passes here too.
   */
  AI_UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(100).max(AI_UPSTREAM_TIMEOUT_MAX_MS).default(600_000),
  /** attempts on the same provider after a 429 or 5xx, before its fallbacks are tried (a timeout goes straight to them) */
  AI_UPSTREAM_RETRIES: z.coerce.number().int().min(0).max(5).default(1),
  AI_RETRY_BACKOFF_MS: z.coerce.number().int().min(0).max(10_000).default(100),
  /** max_tokens sent to Anthropic when an OpenAI-format caller sets none (Anthropic requires it) */
  AI_DEFAULT_MAX_TOKENS: z.coerce.number().int().min(1).default(4096),
  /** how tokens are counted when a provider reports none: the cl100k BPE (loaded at start) or an estimate */
  AI_TOKENIZER: z.enum(['cl100k', 'estimate']).default('cl100k'),
  /** operator overrides of the built-in price table (domain/pricing.ts) */
  AI_PRICES: PriceTable,
  /** usage rows are written in batches of up to this many, at least every AI_USAGE_FLUSH_MS */
  AI_USAGE_BATCH: z.coerce.number().int().min(1).max(10_000).default(500),
  AI_USAGE_FLUSH_MS: z.coerce.number().int().min(10).max(60_000).default(250),
  /** rows held in memory while the database is unreachable; past it the oldest are dropped and counted */
  AI_USAGE_MAX_PENDING: z.coerce.number().int().min(100).default(200_000),
  /** how long a key, provider set or route table is served from memory (changes are also pushed over Redis) */
  AI_CONFIG_CACHE_MS: z.coerce.number().int().min(0).default(30_000),
};

export type Config = ReturnType<typeof loadConfig>;
export type Prices = Config['AI_PRICES'];
export const loadConfig = (env: Record<string, string | undefined> = process.env) => load(schema, env);
