// /mcp: the MCP server over Streamable HTTP (MCP 2025-06-18), stateless: each POST gets its own server and transport
// bound to the caller, so any replica answers any request and no session state is kept. JSON responses, no SSE
// stream (GET and DELETE are 405 as the spec allows for a server without one), except that a call carrying a
// progressToken is answered as an SSE stream with its progress and log notifications. The platform token is checked in
// onRequest, before the body is read. Read-only mode: ?read_only=true or the header x-mcp-read-only: true.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { requestToken, verifyPlatformToken, type PlatformPrincipal } from '@basalt/tenancy';
import { platformErrors } from '../errors.js';
import { toolContext, type McpDeps } from './context.js';
import { mcpServer } from './server.js';

const TRUE = /^(1|true|yes)$/i;

export function isReadOnly(req: FastifyRequest): boolean {
  const q = (req.query as Record<string, unknown>).read_only;
  const h = req.headers['x-mcp-read-only'];
  return (typeof q === 'string' && TRUE.test(q)) || (typeof h === 'string' && TRUE.test(h));
}

/** Whether any request of the POSTed JSON-RPC message (or batch) carries params._meta.progressToken. */
export function wantsProgress(body: unknown): boolean {
  const messages = Array.isArray(body) ? body : [body];
  return messages.some((m) => {
    const token = (m as { params?: { _meta?: { progressToken?: unknown } } } | null)?.params?._meta?.progressToken;
    return typeof token === 'string' || typeof token === 'number';
  });
}

export const mcpRoutes = (control: pg.Pool, deps: McpDeps, bodyLimit = 64 * 1024 * 1024) => async (app: FastifyInstance) => {
  const callers = new WeakMap<FastifyRequest, { principal: PlatformPrincipal; token: string }>();
  app.addHook('onRequest', async (req) => {
    const token = requestToken(req.headers);
    const principal = await verifyPlatformToken(control, token);
    if (!principal || !token) throw platformErrors.unauthorized();
    callers.set(req, { principal, token });
  });

  app.route({
    method: 'POST', url: '/', bodyLimit,
    handler: async (req: FastifyRequest, reply: FastifyReply) => {
      const { principal, token } = callers.get(req)!;
      const server = mcpServer(toolContext(deps, principal, token, isReadOnly(req)));
      // a call that asks for progress is answered on an SSE stream, so its notifications can precede the result
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: !wantsProgress(req.body) });
      reply.raw.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      reply.hijack();
      await transport.handleRequest(req.raw, reply.raw, req.body);
    },
  });

  const notAllowed = async (_req: FastifyRequest, reply: FastifyReply) =>
    reply.code(405).header('allow', 'POST').send({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this MCP server is stateless (POST only)' }, id: null });
  app.route({ method: ['GET', 'DELETE'], url: '/', handler: notAllowed });
};
