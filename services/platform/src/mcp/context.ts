// What every MCP tool gets: the caller (platform token and its project scope), the read-only flag, the platform's
// own domain functions (in-process), and an HTTP client for the other services, reached through the gateway.
import type { Project, ProjectRegistry, PlatformPrincipal } from '@basalt/tenancy';
import { canAccessProject } from '@basalt/tenancy';
import { activeProject, type ProjectsDomain } from '../domain/projects.js';
import { platformErrors } from '../errors.js';
import { peerClient, type PeerClient } from './peer.js';

export interface McpDeps {
  projects: ProjectsDomain;
  registry: ProjectRegistry;
  /** the gateway's public URL (BASALT_PUBLIC_URL): other services are called through it */
  publicUrl: string;
  sqlTimeoutMs: number;
}

export interface ToolContext {
  deps: McpDeps;
  principal: PlatformPrincipal;
  /** the bearer token of this MCP request, forwarded to APIs that take a platform token */
  token: string;
  readOnly: boolean;
  peer: PeerClient;
  /** the project, after checking the token may use it */
  project(ref: string): Promise<Project>;
  /** the project's service_role key, for APIs that take the project's own keys */
  serviceKey(ref: string): Promise<string>;
}

export function toolContext(deps: McpDeps, principal: PlatformPrincipal, token: string, readOnly: boolean): ToolContext {
  const ctx: ToolContext = {
    deps, principal, token, readOnly,
    peer: peerClient(deps.publicUrl),
    async project(ref) {
      if (!canAccessProject(principal, ref)) throw platformErrors.forbiddenProject(ref);
      return activeProject(deps.registry, ref);
    },
    async serviceKey(ref) {
      await ctx.project(ref);
      const keys = await deps.projects.apiKeys(ref);
      return keys.find((k) => k.name === 'service_role')!.api_key;
    },
  };
  return ctx;
}
