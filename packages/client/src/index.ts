// @basalt/client: one object over every module of a Basalt project. It is supabase-js's own client (`from`,
// `rpc`, `auth`, `storage`, `functions`, `channel` behave exactly as with Supabase) plus what supabase-js lacks:
// `ai` (the official OpenAI client pointed at the project's AI gateway), `memory` (mem0-style), `documents`
// (MongoDB-style queries) and `assets` (the static site). Every call carries the signed-in user's token when there
// is a session, else the key. Types come from `basalt gen types typescript` (a Supabase-style `Database`). Uses
// only fetch and Web APIs: Node 20+, browsers and Deno.
import { createClient as createSupabaseClient, type SupabaseClient, type SupabaseClientOptions } from '@supabase/supabase-js';
import OpenAI from 'openai';
import { assetsClient, type AssetsClient } from './assets.js';
import { documentsClient, type DocumentsClient } from './documents.js';
import type { Http } from './http.js';
import { memoryClient, type MemoryClient } from './memory.js';

export { BasaltError } from './http.js';
export type { AssetFile, AssetsClient } from './assets.js';
export type { Doc, DocumentsClient, Filter, FindOptions } from './documents.js';
export type { AddOptions, Memory, MemoryClient, Message, Scope, SearchOptions } from './memory.js';

export interface BasaltModules {
  ai: OpenAI;
  memory: MemoryClient;
  documents: DocumentsClient;
  assets: AssetsClient;
}

export type BasaltClient<Database = any> = SupabaseClient<Database> & BasaltModules;

export type BasaltClientOptions = SupabaseClientOptions<'public'>;

/** `url` is the project's URL (https://<ref>.<domain>, or <gateway>/project/<ref>); `key` its anon or service key. */
export function createClient<Database = any>(url: string, key: string, options: BasaltClientOptions = {}): BasaltClient<Database> {
  const base = url.replace(/\/+$/, '');
  const supabase = createSupabaseClient<Database>(base, key, options as SupabaseClientOptions<any>) as unknown as SupabaseClient<Database>;
  const customFetch = options.global?.fetch;
  const http: Http = {
    url: base,
    key,
    fetch: customFetch ?? ((input, init) => fetch(input, init)),
    token: async () => (await supabase.auth.getSession()).data.session?.access_token ?? key,
  };
  const ai = new OpenAI({
    baseURL: `${base}/v1`,
    apiKey: key,
    // the bearer is resolved per request: the user's token once they sign in
    fetch: async (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${await http.token()}`);
      headers.set('apikey', key);
      return http.fetch(input as Parameters<typeof fetch>[0], { ...init, headers });
    },
    dangerouslyAllowBrowser: true,
  });
  return Object.assign(supabase, { ai, memory: memoryClient(http), documents: documentsClient(http), assets: assetsClient(http) }) as BasaltClient<Database>;
}
