// Shared helpers of the REST tests: supabase-js clients for a test project and raw fetches through the gateway.
import type { SupabaseClient } from '@supabase/supabase-js';
import { createProject, supabaseClient, type TestProject } from '@basalt/testkit';

export const client = (p: TestProject, key = p.anonKey, accessToken?: string, schema = 'public'): SupabaseClient<any, any, any> =>
  supabaseClient(p, { key, accessToken, schema });

/** A new project with what `sql` creates, and a service-role client on it (for tests that read and write freely). */
export async function serviceProject(name: string, sql: string): Promise<{ p: TestProject; db: SupabaseClient }> {
  const p = await createProject(name);
  await p.sql(sql);
  return { p, db: supabaseClient(p, { key: p.serviceKey }) };
}

/** A raw call to /rest/v1 with the anon key (or the given bearer), as PostgREST clients send it. */
export async function raw(p: TestProject, path: string, init: RequestInit & { json?: unknown; bearer?: string } = {}) {
  const headers: Record<string, string> = { apikey: p.anonKey, authorization: `Bearer ${init.bearer ?? p.anonKey}` };
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`${p.url}/rest/v1${path}`, { ...init, headers: { ...headers, ...(init.headers as Record<string, string> | undefined) }, body: init.json !== undefined ? JSON.stringify(init.json) : init.body });
  const text = await r.text();
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: r.status, body, text, headers: r.headers };
}
