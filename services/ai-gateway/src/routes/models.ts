// The model APIs under /v1, wire-compatible with the openai and @anthropic-ai/sdk clients:
//   POST /v1/chat/completions  POST /v1/embeddings  POST /v1/responses   (OpenAI)
//   POST /v1/messages  POST /v1/messages/count_tokens                    (Anthropic)
//   GET  /v1/models  GET /v1/models/:id   (OpenAI's shape, Anthropic's when anthropic-version is sent)
// Bodies are checked only for what routing needs; every other field passes to the provider.
import { z } from 'zod';
import { defineRoute } from '@basalt/http';
import type { TokenCounter } from '../domain/count-tokens.js';
import type { ModelCatalog } from '../domain/model-catalog.js';
import type { Proxy } from '../domain/proxy.js';
import { callContext } from './call-context.js';
import { sendOutcome } from './respond.js';

const Message = z.object({ role: z.string() }).passthrough();
const Model = z.string().min(1).max(512);
const Chat = z.object({ model: Model, messages: z.array(Message).min(1), stream: z.boolean().nullish() }).passthrough();
const Messages = z.object({ model: Model, messages: z.array(Message).min(1), max_tokens: z.number().int().min(1), stream: z.boolean().optional() }).passthrough();
const CountTokens = z.object({ model: Model, messages: z.array(Message).min(1) }).passthrough();
const Embeddings = z.object({ model: Model, input: z.union([z.string(), z.array(z.unknown()).min(1)]) }).passthrough();
const Responses = z.object({ model: Model, stream: z.boolean().nullish() }).passthrough();
const ModelId = z.object({ id: z.string().min(1) });

export const modelRoutes = (proxy: Proxy, count: TokenCounter, catalog: ModelCatalog) => [
  defineRoute({
    method: 'POST', url: '/chat/completions', schema: { body: Chat },
    handler: async (req, reply) => sendOutcome(reply, await proxy.run(callContext(req, reply), 'chat', req.body)),
  }),
  defineRoute({
    method: 'POST', url: '/messages', schema: { body: Messages },
    handler: async (req, reply) => sendOutcome(reply, await proxy.run(callContext(req, reply), 'messages', req.body)),
  }),
  defineRoute({
    method: 'POST', url: '/messages/count_tokens', schema: { body: CountTokens },
    handler: (req, reply) => count(callContext(req, reply), req.body),
  }),
  defineRoute({
    method: 'POST', url: '/embeddings', schema: { body: Embeddings },
    handler: async (req, reply) => sendOutcome(reply, await proxy.run(callContext(req, reply), 'embeddings', req.body)),
  }),
  defineRoute({
    method: 'POST', url: '/responses', schema: { body: Responses },
    handler: async (req, reply) => sendOutcome(reply, await proxy.run(callContext(req, reply), 'responses', req.body)),
  }),
  defineRoute({
    method: 'GET', url: '/models',
    handler: (req) => catalog.list(req.caller, req.headers['anthropic-version'] !== undefined ? 'anthropic' : 'openai'),
  }),
  defineRoute({
    method: 'GET', url: '/models/:id', schema: { params: ModelId },
    handler: (req) => catalog.get(req.caller, req.params.id, req.headers['anthropic-version'] !== undefined ? 'anthropic' : 'openai'),
  }),
];
