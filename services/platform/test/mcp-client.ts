// The MCP SDK's own client against /mcp through the gateway, and helpers that read a tool's JSON answer.
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { testEnv } from '@basalt/testkit';

export interface Mcp {
  client: Client;
  /** calls a tool that must succeed; its text parsed as JSON when it is JSON */
  call: <T = any>(name: string, args?: Record<string, unknown>) => Promise<T>;
  /** calls a tool that must fail; its error text */
  fail: (name: string, args?: Record<string, unknown>) => Promise<string>;
  close: () => Promise<void>;
}

const textOf = (r: Record<string, unknown>) => ((r.content as { type: string; text: string }[]) ?? []).map((c) => c.text).join('');

export async function connectMcp(token = testEnv().platformToken, opts: { query?: string; headers?: Record<string, string> } = {}): Promise<Mcp> {
  const client = new Client({ name: 'basalt-test', version: '1.0.0' });
  const url = new URL(`${testEnv().gatewayUrl}/mcp${opts.query ?? ''}`);
  await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: `Bearer ${token}`, ...(opts.headers ?? {}) } } }));
  return {
    client,
    async call(name, args = {}) {
      const r = await client.callTool({ name, arguments: args });
      const text = textOf(r);
      assert.ok(!r.isError, `${name} failed: ${text}`);
      try {
        return JSON.parse(text);
      } catch {
        return text as any;
      }
    },
    async fail(name, args = {}) {
      const r = await client.callTool({ name, arguments: args });
      assert.equal(r.isError, true, `${name} should have failed: ${textOf(r)}`);
      return textOf(r);
    },
    close: () => client.close(),
  };
}
