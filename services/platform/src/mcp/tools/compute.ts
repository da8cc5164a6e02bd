// Edge functions, cron jobs, AI keys and usage, memory: each service's management API through the gateway,
// authenticated with the caller's platform token (the service checks its project scope again) or the service key.
import { z } from 'zod';
import { FUNCTION_TIMEOUT_MAX_MS } from '@basalt/config';
import { defineTool } from '../tool.js';
import type { ToolContext } from '../context.js';

const Ref = z.string().describe('the project ref');
const Slug = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'letters, digits, _ and -').describe('function slug');

const bearer = (ctx: ToolContext) => ({ authorization: `Bearer ${ctx.token}` });
const platform = async (ctx: ToolContext, ref: string, path: string, r: Parameters<ToolContext['peer']['platform']>[2] = {}) => {
  await ctx.project(ref);
  return ctx.peer.platform(ref, path, { ...r, headers: { ...bearer(ctx), ...(r.headers ?? {}) } });
};
const cron = async (ctx: ToolContext, ref: string, path: string, r: Parameters<ToolContext['peer']['project']>[2] = {}) => {
  await ctx.project(ref);
  return ctx.peer.project(ref, `/cron/admin/v1${path}`, { ...r, headers: bearer(ctx) });
};

export const computeTools = [
  defineTool({
    name: 'functions_list',
    description: 'Deployed edge functions: [{slug, version, verify_jwt, created_at, updated_at, versions}].',
    write: false,
    input: { ref: Ref },
    run: async ({ ref }, ctx) => platform(ctx, ref, '/functions'),
  }),
  defineTool({
    name: 'functions_deploy',
    description: 'Deploys (or redeploys as a new version) an edge function: either `source` (one module with ' +
      '`export default { fetch(req, env) }` or Deno.serve) or `files` + `entrypoint`. Secrets are in env / Deno.env. ' +
      'Returns {slug, version, …}; invoke it at <project url>/functions/v1/<slug>.',
    write: true,
    input: {
      ref: Ref, slug: Slug,
      source: z.string().min(1).max(5_000_000).optional(),
      files: z.record(z.string(), z.string()).optional().describe('path → source, with entrypoint'),
      entrypoint: z.string().optional(),
      verify_jwt: z.boolean().default(true).describe('require a valid project JWT (anon key, user token or service key)'),
      import_map: z.record(z.string(), z.string()).optional(),
      timeout_ms: z.number().int().min(100).max(FUNCTION_TIMEOUT_MAX_MS).optional(),
    },
    run: async ({ ref, ...body }, ctx, call) => {
      await call.progress(0, 2, `bundling and deploying ${body.slug}`);
      // bundling can take a while on a busy host: a heartbeat keeps the client's request timeout from running out
      let beat = 0;
      const heartbeat = setInterval(() => void call.progress(0.5 + 0.4 * (1 - 1 / ++beat), 2, `still deploying ${body.slug}`), 5_000);
      try {
        const deployed = await platform(ctx, ref, '/functions', { method: 'POST', json: body });
        await call.log('info', `deployed ${body.slug} version ${deployed.version}`);
        await call.progress(2, 2, `deployed ${body.slug} version ${deployed.version}`);
        return deployed;
      } finally {
        clearInterval(heartbeat);
      }
    },
  }),
  defineTool({
    name: 'functions_delete',
    description: 'Deletes a function and all its versions. Returns {slug, deleted: true}.',
    write: true,
    input: { ref: Ref, slug: Slug },
    run: async ({ ref, slug }, ctx) => platform(ctx, ref, `/functions/${slug}`, { method: 'DELETE' }),
  }),
  defineTool({
    name: 'functions_invoke',
    description: 'Calls a deployed function as an HTTP request (with the anon key, or the service_role key when as_service_role). ' +
      'Returns {status, body}; a non-2xx answer is a tool error with the status and body.',
    write: true,
    input: {
      ref: Ref, slug: Slug, method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
      body: z.unknown().optional().describe('sent as JSON'), path: z.string().default('').describe('extra path after the slug'),
      as_service_role: z.boolean().default(false),
    },
    run: async ({ ref, slug, method, body, path, as_service_role }, ctx) => {
      const keys = await ctx.deps.projects.apiKeys((await ctx.project(ref)).ref);
      const key = keys.find((k) => k.name === (as_service_role ? 'service_role' : 'anon'))!.api_key;
      const res = await fetch(`${ctx.deps.publicUrl.replace(/\/$/, '')}/project/${ref}/functions/v1/${slug}${path}`, {
        method, headers: { apikey: key, authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: method === 'GET' || body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(120_000),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${slug} answered ${res.status}: ${text.slice(0, 2000)}`);
      return { status: res.status, body: text };
    },
  }),
  defineTool({
    name: 'functions_logs',
    description: 'Recent invocations of a function, newest first: [{id, version, method, status, duration_ms, logs (console output), error, created_at}].',
    write: false,
    input: { ref: Ref, slug: Slug, limit: z.number().int().min(1).max(1000).default(50) },
    run: async ({ ref, slug, limit }, ctx) => platform(ctx, ref, `/functions/${slug}/logs`, { query: { limit } }),
  }),
  defineTool({
    name: 'functions_secrets_set',
    description: 'Sets function secrets (environment variables of every function of the project). Returns the secret names.',
    write: true,
    input: { ref: Ref, secrets: z.array(z.object({ name: z.string(), value: z.string() })).min(1).max(100) },
    run: async ({ ref, secrets }, ctx) => {
      await platform(ctx, ref, '/secrets', { method: 'POST', json: secrets });
      return platform(ctx, ref, '/secrets');
    },
  }),
  defineTool({
    name: 'cron_create',
    description: 'Schedules a job: schedule is a cron expression (5 or 6 fields) or "every 30 seconds"-style interval; target is ' +
      '{type: "edge_function", slug, body?} or {type: "db_function", name, args?}. Returns the job {id, name, schedule, target, next_run_at, …}.',
    write: true,
    input: {
      ref: Ref, name: z.string().min(1).max(128), schedule: z.string().min(1).max(256),
      target: z.union([
        z.object({ type: z.literal('edge_function'), slug: Slug, body: z.unknown().optional() }),
        z.object({ type: z.literal('db_function'), name: z.string(), args: z.record(z.unknown()).optional() }),
      ]),
      timeout_ms: z.number().int().min(100).max(900_000).optional(),
    },
    run: async ({ ref, ...job }, ctx) => cron(ctx, ref, '/jobs', { method: 'POST', json: job }),
  }),
  defineTool({
    name: 'cron_list',
    description: 'The cron jobs of the project: [{id, name, schedule, target, paused, next_run_at, …}].',
    write: false,
    input: { ref: Ref },
    run: async ({ ref }, ctx) => cron(ctx, ref, '/jobs'),
  }),
  defineTool({
    name: 'cron_runs',
    description: "A job's run history, newest first: [{id, status (queued|running|succeeded|failed|timed_out), started_at, duration_ms, error, …}].",
    write: false,
    input: { ref: Ref, job_id: z.string(), limit: z.number().int().min(1).max(1000).default(50) },
    run: async ({ ref, job_id, limit }, ctx) => cron(ctx, ref, `/jobs/${encodeURIComponent(job_id)}/runs`, { query: { limit } }),
  }),
  defineTool({
    name: 'cron_delete',
    description: 'Deletes a cron job (its run history goes with it). Returns {id, deleted: true}.',
    write: true,
    input: { ref: Ref, job_id: z.string() },
    run: async ({ ref, job_id }, ctx) => {
      await cron(ctx, ref, `/jobs/${encodeURIComponent(job_id)}`, { method: 'DELETE' });
      return { id: job_id, deleted: true };
    },
  }),
  defineTool({
    name: 'ai_list_keys',
    description: "The project's AI gateway keys (bsk_…, secret not shown): [{id, name, prefix, limits, created_at, …}].",
    write: false,
    input: { ref: Ref },
    run: async ({ ref }, ctx) => platform(ctx, ref, '/ai/keys'),
  }),
  defineTool({
    name: 'ai_create_key',
    description: 'Creates an AI gateway key for OpenAI/Anthropic-compatible clients pointed at the project. Returns {id, name, key, …}; the key is shown once.',
    write: true,
    input: { ref: Ref, name: z.string().min(1).max(128), limits: z.record(z.unknown()).optional() },
    run: async ({ ref, ...body }, ctx) => platform(ctx, ref, '/ai/keys', { method: 'POST', json: body }),
  }),
  defineTool({
    name: 'ai_usage',
    description: 'AI usage (requests, tokens, cost) grouped by day, model, key or user, over an optional from/to range.',
    write: false,
    input: { ref: Ref, group_by: z.enum(['day', 'model', 'key', 'user']).default('day'), from: z.string().optional(), to: z.string().optional() },
    run: async ({ ref, ...query }, ctx) => platform(ctx, ref, '/ai/usage', { query }),
  }),
  defineTool({
    name: 'memory_add',
    description: 'Adds memories for a user (mem0 API). With infer false the messages are stored as they are; with infer true an LLM ' +
      'extracts facts (needs an AI provider). Returns {results: [{id, memory, event}]}.',
    write: true,
    input: {
      ref: Ref, user_id: z.string().min(1), messages: z.array(z.object({ role: z.enum(['user', 'assistant', 'system']), content: z.string() })).min(1),
      infer: z.boolean().default(false), metadata: z.record(z.unknown()).optional(),
    },
    run: async ({ ref, ...body }, ctx) => ctx.peer.call('/v1/memories/', {
      method: 'POST', headers: { authorization: `Token ${await ctx.serviceKey(ref)}` }, json: { ...body, async_mode: false },
    }),
  }),
  defineTool({
    name: 'memory_search',
    description: "Searches a user's memories by meaning: [{id, memory, score, metadata, …}], best first.",
    write: false,
    input: { ref: Ref, user_id: z.string().min(1), query: z.string().min(1), top_k: z.number().int().min(1).max(100).default(10) },
    run: async ({ ref, user_id, query, top_k }, ctx) => ctx.peer.call('/v2/memories/search/', {
      method: 'POST', headers: { authorization: `Token ${await ctx.serviceKey(ref)}` }, json: { query, filters: { user_id }, top_k },
    }),
  }),
];
