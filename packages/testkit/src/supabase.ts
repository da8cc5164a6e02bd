// An unmodified supabase-js client for a test project: how every compatibility test talks to Basalt.
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import type { TestProject } from './index.js';

export interface ClientOptions {
  /** the apikey (anon by default) */
  key?: string;
  /** a user's access token, sent as the bearer instead of the key */
  accessToken?: string;
  schema?: string;
}

export function supabaseClient(p: TestProject, o: ClientOptions = {}): SupabaseClient<any, any, any> {
  return createClient(p.url, o.key ?? p.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    db: { schema: o.schema ?? 'public' },
    global: o.accessToken ? { headers: { authorization: `Bearer ${o.accessToken}` } } : {},
    // Node 20 has no global WebSocket; realtime-js wants one at construction.
    realtime: { transport: WebSocket as never },
  });
}
