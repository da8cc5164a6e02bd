// The environment a function sees (Deno.env), one definition for both targets: a local isolate gets it merged,
// a Cloudflare script gets the plain part as plain_text bindings and the secret part as secret_text.
import type { SecretBox } from '@basalt/crypto';
import type { Project } from '@basalt/tenancy';
import type { FunctionsDb } from '../db/functions.js';

export interface FunctionEnv {
  plain: Record<string, string>;
  secret: Record<string, string>;
}

/** The project's secrets, opened. */
export async function openSecrets(db: FunctionsDb, box: SecretBox, ref: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const s of await db.secrets(ref)) out[s.name] = box.decrypt(s.value_enc);
  return out;
}

export function functionEnv(project: Project, fn: { allow_service_role: boolean }, baseUrl: string, secrets: Record<string, string>): FunctionEnv {
  const secret = { ...secrets };
  // The service_role key bypasses RLS: only functions that opted in get it.
  if (fn.allow_service_role) secret.SUPABASE_SERVICE_ROLE_KEY = project.serviceKey;
  return { plain: { SUPABASE_URL: baseUrl, BASALT_URL: baseUrl, SUPABASE_ANON_KEY: project.anonKey, BASALT_PROJECT_REF: project.ref }, secret };
}

/** What a local isolate gets: secrets can never shadow the platform's names (SecretName refuses SUPABASE_/BASALT_). */
export const mergedEnv = (e: FunctionEnv): Record<string, string> => ({ ...e.secret, ...e.plain });
