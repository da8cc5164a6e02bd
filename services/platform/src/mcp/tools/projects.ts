// Project tools: list, create, keys, delete (with the ref repeated as confirmation). In-process domain calls.
import { z } from 'zod';
import { canAccessProject } from '@basalt/tenancy';
import { ProjectSettings } from '../../domain/settings.js';
import { platformErrors } from '../../errors.js';
import { defineTool } from '../tool.js';

const Ref = z.string().describe('the project ref (20 lowercase letters), as list_projects returns it');

export const projectTools = [
  defineTool({
    name: 'list_projects',
    description: 'Lists the projects this platform token can use. Returns [{ref, name, status, url, created_at}].',
    write: false,
    input: {},
    run: async (_a, ctx) => (await ctx.deps.projects.list(ctx.principal.projectRefs)).map(({ settings: _s, ...p }) => p),
  }),
  defineTool({
    name: 'get_project',
    description: 'One project: {ref, name, status, url, settings (secrets redacted), created_at}.',
    write: false,
    input: { ref: Ref },
    run: async ({ ref }, ctx) => (await ctx.project(ref), ctx.deps.projects.get(ref)),
  }),
  defineTool({
    name: 'update_project_settings',
    description: 'Changes project settings (auth: site_url, email confirmation, SMTP, providers, rate limits…; rest: exposed schemas; ' +
      'cors; realtime; functions). Each section given is merged key by key into the current one; secrets are sealed and never ' +
      'returned. An unknown or mistyped key is an error naming it and nothing is written. Returns the project with its settings.',
    write: true,
    input: { ref: Ref, settings: z.record(z.string(), z.unknown()).describe('e.g. {"auth": {"site_url": "https://app.example"}}') },
    run: async ({ ref, settings }, ctx) => {
      await ctx.project(ref);
      const current = (await ctx.deps.projects.get(ref)).settings;
      const merged: Record<string, unknown> = {};
      for (const [section, value] of Object.entries(settings)) {
        const old = current[section];
        const isObject = (v: unknown) => !!v && typeof v === 'object' && !Array.isArray(v);
        merged[section] = isObject(old) && isObject(value) ? { ...(old as object), ...(value as object) } : value;
      }
      const parsed = ProjectSettings.safeParse(merged);
      if (!parsed.success) throw platformErrors.validation(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      return ctx.deps.projects.update(ref, { settings: parsed.data });
    },
  }),
  defineTool({
    name: 'create_project',
    description: 'Creates a project (its own Postgres database, JWT secret and keys). Needs an unscoped platform token. ' +
      'Returns {ref, name, status, url, anon_key, service_role_key}; url is what supabase-js is given.',
    write: true,
    input: { name: z.string().trim().min(1).max(256).describe('a display name') },
    run: async ({ name }, ctx) => {
      if (ctx.principal.projectRefs !== null) throw platformErrors.forbiddenProject('(new)');
      const { settings: _s, ...p } = await ctx.deps.projects.create(name);
      return p;
    },
  }),
  defineTool({
    name: 'get_project_keys',
    description: "The project's API keys and URL: {url, anon_key, service_role_key}. The anon key is safe in a browser; " +
      'the service_role key bypasses RLS and must stay on a server.',
    write: false,
    input: { ref: Ref },
    run: async ({ ref }, ctx) => {
      await ctx.project(ref);
      const keys = await ctx.deps.projects.apiKeys(ref);
      const { url } = await ctx.deps.projects.get(ref);
      return { url, anon_key: keys.find((k) => k.name === 'anon')!.api_key, service_role_key: keys.find((k) => k.name === 'service_role')!.api_key };
    },
  }),
  defineTool({
    name: 'delete_project',
    description: 'Deletes a project and its database permanently. `confirm` must repeat the ref. Returns {ref, deleted: true}.',
    write: true,
    input: { ref: Ref, confirm: z.string().describe('the same ref again, to confirm the deletion') },
    run: async ({ ref, confirm }, ctx) => {
      if (!canAccessProject(ctx.principal, ref)) throw platformErrors.forbiddenProject(ref);
      await ctx.deps.projects.remove(ref, confirm);
      return { ref, deleted: true };
    },
  }),
];
