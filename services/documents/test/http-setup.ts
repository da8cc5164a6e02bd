// HTTP helpers: Data API calls through the gateway with a project's key and a user's token, and the
// management API with the platform token.
import { platform, testEnv, type TestProject } from '@basalt/testkit';

export interface Reply { status: number; body: any; type: string | null }

export async function action(p: TestProject, name: string, body: unknown, o: { key?: string; token?: string; accept?: string } = {}): Promise<Reply> {
  const r = await fetch(`${p.url}/mongo/v1/action/${name}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json', apikey: o.key ?? p.anonKey,
      ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...(o.accept ? { accept: o.accept } : {}),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let parsed: any = text;
  try { parsed = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, body: parsed, type: r.headers.get('content-type') };
}

export const service = (p: TestProject, name: string, body: unknown, accept?: string) => action(p, name, body, { key: p.serviceKey, accept });

export const putRules = (p: TestProject, collection: string, rules: unknown) =>
  platform(`/projects/${p.ref}/documents/rules/${collection}`, { method: 'PUT', json: rules });

export async function manageRaw(p: TestProject, path: string, init: { method?: string; json?: unknown; token?: string } = {}): Promise<Reply> {
  const r = await fetch(`${testEnv().gatewayUrl}/platform/v1/projects/${p.ref}/documents${path}`, {
    method: init.method ?? 'GET',
    headers: { 'content-type': 'application/json', ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined, type: r.headers.get('content-type') };
}
