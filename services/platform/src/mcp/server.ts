// One McpServer per request (stateless Streamable HTTP): the tools and resources bound to the caller's context.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ToolContext } from './context.js';
import { registerResources } from './resources.js';
import { registerTools, type ToolDef } from './tool.js';
import { authStorageTools } from './tools/auth-storage.js';
import { computeTools } from './tools/compute.js';
import { databaseTools } from './tools/database.js';
import { logTools } from './tools/logs.js';
import { projectTools } from './tools/projects.js';
import { schemaTools } from './tools/schema.js';

export const TOOLS: ToolDef[] = [...projectTools, ...databaseTools, ...schemaTools, ...logTools, ...authStorageTools, ...computeTools];

export function mcpServer(ctx: ToolContext): McpServer {
  const server = new McpServer(
    { name: 'basalt', version: '0.1.0' },
    {
      instructions: 'Basalt backend tools. Read basalt://docs first. Start with list_projects or create_project; every other tool takes the project ref.',
      // log lines (notifications/message) accompany long tools called with a progressToken
      capabilities: { logging: {} },
    },
  );
  registerTools(server, TOOLS, ctx);
  registerResources(server, ctx);
  return server;
}
