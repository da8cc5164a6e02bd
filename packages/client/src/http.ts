// The one way this client calls Basalt's own APIs: the project URL, the key as apikey, and the caller's token (the
// signed-in user's access token when there is a session, else the key) as the bearer. Errors become BasaltError
// with the status and the API's own message.
export type TokenSource = () => Promise<string>;

export class BasaltError extends Error {
  constructor(readonly status: number, message: string, readonly body: unknown) {
    super(message);
    this.name = 'BasaltError';
  }
}

export interface Http {
  url: string;
  key: string;
  token: TokenSource;
  fetch: typeof fetch;
}

/** A JSON call; `path` is below the project URL. */
export async function call<T>(h: Http, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const r = await h.fetch(`${h.url}${path}`, {
    method,
    headers: { apikey: h.key, authorization: `Bearer ${await h.token()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  if (!r.ok) {
    const j = json as Record<string, any> | null;
    const message = j?.error?.message ?? j?.message ?? j?.detail ?? j?.error ?? (typeof json === 'string' && json ? json : `HTTP ${r.status}`);
    throw new BasaltError(r.status, String(typeof message === 'string' ? message : JSON.stringify(message)), json);
  }
  return json as T;
}
