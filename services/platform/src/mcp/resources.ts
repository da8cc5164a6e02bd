// Resources: basalt://docs (how to build on Basalt with these tools) and basalt://projects/{ref}/schema (tables,
// columns, RLS and policies of the public schema, as list_tables returns them).
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { listTables } from '../domain/catalog.js';
import type { ToolContext } from './context.js';
import { withProjectDb } from '../domain/sql.js';

const DOCS = `# Basalt for agents

Basalt is a Supabase-compatible backend: one project = one Postgres database with REST (PostgREST), auth (GoTrue),
storage, edge functions, cron, an AI gateway, memory (mem0 API) and a static site (assets), all behind one URL.

1. create_project → {ref, url, anon_key, service_role_key}. Give supabase-js the url and the anon key.
2. Design the schema with apply_migration (named, recorded, idempotent by name). Every table in public is reachable
   with the anon key: enable RLS and add policies, e.g.
   alter table notes enable row level security;
   create policy "own" on notes for all to authenticated using (owner = auth.uid()) with check (owner = auth.uid());
3. get_advisors {type: "security"} and {type: "performance"} after each change; an empty list is clean.
4. generate_typescript_types for createClient<Database>().
5. functions_deploy (export default { fetch(req, env) }), functions_secrets_set, functions_invoke, functions_logs.
6. cron_create {schedule: "*/5 * * * *", target: {type: "edge_function", slug}}; cron_runs for its history.
7. assets_upload publishes a static site (index.html at the root) and returns the public URLs.
8. get_logs {service: functions|cron|auth|migrations} to check your own work.

Read-only sessions (/mcp?read_only=true or the header x-mcp-read-only: true) refuse every writing tool and run
execute_sql in a read-only transaction. A platform token scoped to projects sees only those projects.
`;

export function registerResources(server: McpServer, ctx: ToolContext) {
  server.registerResource('docs', 'basalt://docs', { title: 'Basalt for agents', mimeType: 'text/markdown', description: 'How to build an app on Basalt with these tools' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/markdown', text: DOCS }] }));

  server.registerResource('schema', new ResourceTemplate('basalt://projects/{ref}/schema', {
    list: async () => ({
      resources: (await ctx.deps.projects.list(ctx.principal.projectRefs)).map((p) => ({
        uri: `basalt://projects/${p.ref}/schema`, name: `${p.name} schema`, mimeType: 'application/json',
      })),
    }),
  }), { title: 'Project schema', mimeType: 'application/json', description: 'Tables, columns, keys, RLS state and policies of the public schema' },
  async (uri, { ref }) => {
    const project = await ctx.project(String(ref));
    const tables = await withProjectDb(project, { timeoutMs: ctx.deps.sqlTimeoutMs, readOnly: true }, (c) => listTables(c, ['public']));
    return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ schema: 'public', tables }, null, 2) }] };
  });
}
