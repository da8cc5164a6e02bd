// Calls to the other Basalt services, always through the gateway (services never import each other). A non-2xx
// answer becomes a PeerError carrying the service's own error message, which the tool reports as a tool error.

export class PeerError extends Error {
  constructor(readonly status: number, message: string, readonly body: unknown) {
    super(message);
    this.name = 'PeerError';
  }
}

export interface PeerRequest {
  method?: string;
  headers?: Record<string, string>;
  json?: unknown;
  body?: string | Uint8Array;
  query?: Record<string, string | number | undefined>;
}

/** The most specific message the services' error shapes carry (Basalt, PostgREST, GoTrue, Storage, OpenAI). */
function messageOf(status: number, body: unknown, text: string): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, any>;
    const m = b.message ?? b.msg ?? b.error_description ?? b.error?.message ?? b.detail ?? (typeof b.error === 'string' ? b.error : undefined);
    if (typeof m === 'string') return `${status}: ${m}`;
  }
  return `${status}: ${text.slice(0, 500) || 'no body'}`;
}

export function peerClient(publicUrl: string) {
  const base = publicUrl.replace(/\/$/, '');
  async function call<T = any>(path: string, r: PeerRequest = {}): Promise<T> {
    const url = new URL(base + path);
    for (const [k, v] of Object.entries(r.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { ...(r.headers ?? {}) };
    let body: string | Uint8Array | undefined = r.body;
    if (r.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(r.json);
    }
    const res = await fetch(url, { method: r.method ?? 'GET', headers, body, signal: AbortSignal.timeout(120_000) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch { /* a text answer stays text */ }
    if (!res.ok) throw new PeerError(res.status, messageOf(res.status, parsed, text), parsed);
    return parsed as T;
  }
  return {
    call,
    /** a path under the project's own routes on the gateway: /project/<ref>/… */
    project: <T = any>(ref: string, path: string, r?: PeerRequest) => call<T>(`/project/${ref}${path}`, r),
    /** the platform-API paths the gateway delegates to other services: /platform/v1/projects/<ref>/… */
    platform: <T = any>(ref: string, path: string, r?: PeerRequest) => call<T>(`/platform/v1/projects/${ref}${path}`, r),
  };
}

export type PeerClient = ReturnType<typeof peerClient>;
