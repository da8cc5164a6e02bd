// Outbound fetch from functions, under the shared egress policy (@basalt/egress): public addresses only, each
// redirect hop checked again, the connection pinned to the checked address. A refusal is what the function's
// fetch answers: a 403 JSON {code: 'egress_blocked', message}, marked with x-basalt-egress: blocked.
import { EgressError, egressFetch, egressPolicy } from '@basalt/egress';

const blocked = (e: EgressError) =>
  Response.json({ code: e.code, message: e.message }, { status: 403, headers: { 'x-basalt-egress': 'blocked' } });
// An allowed destination that fails (refused, reset, timed out) is a 502 with the reason, never a host stack trace.
const failed = (e: unknown) =>
  Response.json({ code: 'egress_failed', message: e instanceof Error ? e.message : String(e) }, { status: 502, headers: { 'x-basalt-egress': 'failed' } });

export interface EgressOptions {
  /**
   * Reachable whatever they resolve to: the platform's own public gateway, so a function can call its project's
   * APIs with supabase-js where that gateway is on a private or loopback address. The gateway is the public
   * entry point and checks keys like any other caller's request.
   */
  allowOrigins: string[];
  /** the operator's BASALT_EGRESS_ALLOW */
  allowList: string;
}

export function egressGuard({ allowOrigins, allowList }: EgressOptions): (request: Request) => Promise<Response> {
  const policy = egressPolicy(allowList);
  return async (request) => {
    try {
      return await egressFetch(request, { policy, allowOrigins });
    } catch (e) {
      return e instanceof EgressError ? blocked(e) : failed(e);
    }
  };
}
