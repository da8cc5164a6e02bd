// For each endpoint and provider format: which upstream call to make with which body, how a non-streamed answer
// becomes the caller's, and which stream translator carries a streamed one. Same format = passthrough.
import type { UpstreamCall } from '../clients/upstream.js';
import { aiErrors } from '../errors.js';
import type { Candidate } from './routing.js';
import { promptTokens } from './tokenizer.js';
import { messagesToChat, chatToMessages } from './translate-request.js';
import { completionToMessage, messageToCompletion } from './translate-response.js';
import {
  anthropicPassthrough, anthropicToOpenai, openaiPassthrough, openaiToAnthropic, responsesPassthrough, type StreamTranslator,
} from './translate-stream.js';
import { emptyUsage, fromAnthropic, fromOpenAI, fromResponses, type Usage } from './usage.js';

type Json = Record<string, any>;

export type Endpoint = 'chat' | 'messages' | 'embeddings' | 'responses';

export interface Plan {
  call: UpstreamCall;
  body: Json;
  stream: boolean;
  /** the upstream's JSON → [what the caller gets, usage]; `raw` is the upstream text, sent as is when unchanged */
  convert: (upstream: Json) => { body: Json | null; usage: Usage };
  translator: () => StreamTranslator;
  /** prompt tokens when the provider reports none */
  estimateInput: () => number;
}

const isOpenAIFormat = (c: Candidate) => c.provider.type !== 'anthropic';

/** whether a provider can serve an endpoint at all (Anthropic has no embeddings or Responses API) */
export const canServe = (endpoint: Endpoint, c: Candidate) => (endpoint === 'embeddings' || endpoint === 'responses' ? isOpenAIFormat(c) : true);

function embeddingsBase64(body: Json): Json {
  for (const d of body.data ?? []) {
    if (Array.isArray(d.embedding)) d.embedding = Buffer.from(new Float32Array(d.embedding).buffer).toString('base64');
  }
  return body;
}

export function planFor(endpoint: Endpoint, c: Candidate, body: Json, defaultMaxTokens: number): Plan {
  const stream = body.stream === true;
  const requested = String(body.model);
  const estimateInput = () => promptTokens(body);
  if (endpoint === 'embeddings') {
    // openai-node asks for base64 unless told otherwise; a server that ignores it answers floats, which 6.x misreads
    const base64 = body.encoding_format === 'base64';
    return {
      call: 'embeddings', stream: false, body: { ...body, model: c.model }, estimateInput,
      convert: (u) => ({ body: base64 ? embeddingsBase64(u) : null, usage: u.usage ? fromOpenAI(u.usage) : { ...emptyUsage(), input: estimateInput() } }),
      translator: () => { throw aiErrors.unsupported('embeddings do not stream'); },
    };
  }
  if (endpoint === 'responses') {
    return {
      call: 'responses', stream, body: { ...body, model: c.model }, estimateInput,
      convert: (u) => ({ body: null, usage: u.usage ? fromResponses(u.usage) : emptyUsage() }),
      translator: responsesPassthrough,
    };
  }
  if (endpoint === 'chat' && isOpenAIFormat(c)) {
    const includeUsage = body.stream_options?.include_usage === true;
    const upstream: Json = { ...body, model: c.model };
    if (stream) upstream.stream_options = { ...body.stream_options, include_usage: true };
    return {
      call: 'chat', stream, body: upstream, estimateInput,
      convert: (u) => ({ body: null, usage: u.usage ? fromOpenAI(u.usage) : emptyUsage() }),
      translator: () => openaiPassthrough(includeUsage),
    };
  }
  if (endpoint === 'chat') {
    const includeUsage = body.stream_options?.include_usage === true;
    return {
      call: 'messages', stream, body: chatToMessages(body, c.model, defaultMaxTokens), estimateInput,
      convert: (u) => {
        const usage = u.usage ? fromAnthropic(u.usage) : emptyUsage();
        return { body: messageToCompletion(u, requested, usage), usage };
      },
      translator: () => anthropicToOpenai(requested, includeUsage),
    };
  }
  if (!isOpenAIFormat(c)) {
    return {
      call: 'messages', stream, body: { ...body, model: c.model }, estimateInput,
      convert: (u) => ({ body: null, usage: u.usage ? fromAnthropic(u.usage) : emptyUsage() }),
      translator: anthropicPassthrough,
    };
  }
  return {
    call: 'chat', stream, body: messagesToChat(body, c.model, c.provider.type === 'openai'), estimateInput,
    convert: (u) => {
      const usage = u.usage ? fromOpenAI(u.usage) : emptyUsage();
      return { body: completionToMessage(u, requested, usage), usage };
    },
    translator: () => openaiToAnthropic(requested, estimateInput()),
  };
}
