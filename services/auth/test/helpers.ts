// Shared helpers of the auth tests: supabase-js clients for a test project, raw calls, settings, the outbox.
import type { SupabaseClient } from '@supabase/supabase-js';
import { platform, supabaseClient, testEnv, type TestProject } from '@basalt/testkit';

export const env = testEnv();

export const client = (p: TestProject, key = p.anonKey): SupabaseClient => supabaseClient(p, { key });

export async function setAuthSettings(p: TestProject, auth: Record<string, unknown>): Promise<void> {
  await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { settings: { auth } } });
  // The auth service's registry drops its cached project on the Redis notification, which the PATCH does not
  // wait for; give it a moment (delivery is milliseconds, but a loaded machine schedules the subscriber late).
  await new Promise((r) => setTimeout(r, 600));
}

/** A raw call to /auth/v1 with the anon key, as auth-js would send it (optionally without the version header). */
export async function raw(p: TestProject, path: string, init: RequestInit & { json?: unknown; bearer?: string; legacy?: boolean } = {}) {
  const headers: Record<string, string> = { apikey: p.anonKey, authorization: `Bearer ${init.bearer ?? p.anonKey}` };
  if (!init.legacy) headers['x-supabase-api-version'] = '2024-01-01';
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`${p.url}/auth/v1${path}`, { ...init, redirect: 'manual', headers: { ...headers, ...(init.headers as Record<string, string> | undefined) }, body: init.json !== undefined ? JSON.stringify(init.json) : init.body });
  const text = await r.text();
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: r.status, body, headers: r.headers };
}

export interface OutboxMessage {
  id: string;
  to: string;
  type: string;
  subject: string;
  html: string;
  action_link: string | null;
  otp: string | null;
}

export async function outbox(p: TestProject, email?: string): Promise<OutboxMessage[]> {
  return platform(`/projects/${p.ref}/outbox${email ? `?email=${encodeURIComponent(email)}` : ''}`);
}

export const uniqueEmail = (tag = 'user') => `${tag}-${Math.random().toString(36).slice(2, 10)}@example.com`;
