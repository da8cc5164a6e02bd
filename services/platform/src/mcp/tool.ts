// A tool: its name, what it does and returns, its zod input, whether it writes (refused in read-only mode), and
// the function that runs it. Every failure becomes an MCP tool error carrying the underlying message.
import type { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { BasaltError } from '@basalt/errors';
import type { ToolContext } from './context.js';

export interface ToolDef<S extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  description: string;
  /** a writing tool is refused when the session is read-only */
  write: boolean;
  input: S;
  run: (args: z.objectOutputType<S, z.ZodTypeAny>, ctx: ToolContext, call: ToolCall) => Promise<unknown>;
}

/**
 * What a long tool tells the client while it runs (MCP 2025-06-18): notifications/progress when the call carried
 * a progressToken (`progress` must grow, `total` when known), and notifications/message log lines. Both travel on
 * the call's own SSE response (see routes.ts); a call without a progressToken is answered as plain JSON and these
 * are no-ops.
 */
export interface ToolCall {
  progress(progress: number, total?: number, message?: string): Promise<void>;
  log(level: 'debug' | 'info' | 'warning' | 'error', message: string): Promise<void>;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

function toolCall(name: string, extra: Extra): ToolCall {
  const token = extra._meta?.progressToken;
  const send = (n: ServerNotification) => extra.sendNotification(n).catch(() => undefined); // a gone client is not the tool's failure
  return {
    progress: async (progress, total, message) => {
      if (token !== undefined) await send({ method: 'notifications/progress', params: { progressToken: token, progress, total, message } });
    },
    log: async (level, message) => {
      if (token !== undefined) await send({ method: 'notifications/message', params: { level, logger: `basalt/${name}`, data: message } });
    },
  };
}

export const defineTool = <S extends z.ZodRawShape>(d: ToolDef<S>): ToolDef => d as unknown as ToolDef;

const text = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value ?? null, null, 2));

function errorText(e: unknown): string {
  if (e instanceof BasaltError) {
    const details = (e as { details?: unknown }).details;
    return details ? `${e.message}\n${text(details)}` : e.message;
  }
  return e instanceof Error ? e.message : String(e);
}

export function registerTools(server: McpServer, tools: ToolDef[], ctx: ToolContext) {
  for (const t of tools) {
    server.registerTool(t.name, {
      description: t.description,
      inputSchema: t.input,
      annotations: { readOnlyHint: !t.write, destructiveHint: t.write },
    }, (async (args: any, extra: Extra): Promise<CallToolResult> => {
      if (t.write && ctx.readOnly) {
        return { isError: true, content: [{ type: 'text', text: `${t.name} writes, and this MCP session is read-only (?read_only=true)` }] };
      }
      try {
        return { content: [{ type: 'text', text: text(await t.run(args, ctx, toolCall(t.name, extra))) }] };
      } catch (e) {
        return { isError: true, content: [{ type: 'text', text: errorText(e) }] };
      }
    }) as any);
  }
}
