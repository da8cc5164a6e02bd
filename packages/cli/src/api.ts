// A small client of the platform API for the CLI; errors become CliErrors with the server's message.
import { CliError, flag, type Flags } from './command.js';
import { readCredentials } from './credentials.js';
import { readUserConfig } from './user-config.js';

export class PlatformApi {
  constructor(readonly url: string, private readonly token: string) {}

  request<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    return this.#send<T>(method, `/platform/v1${path}`, body);
  }

  /** a project's own API through the gateway (assets admin, cron admin), with the same platform token */
  project<T = any>(ref: string, method: string, path: string, body?: unknown): Promise<T> {
    return this.#send<T>(method, `/project/${ref}${path}`, body);
  }

  /** any gateway path with another credential (e.g. `Token <service_role key>` for the mem0 API) */
  call<T = any>(method: string, path: string, body: unknown, authorization: string): Promise<T> {
    return this.#send<T>(method, path, body, authorization);
  }

  /** the project's legacy anon or service_role key (JWT), for APIs that take a project key */
  async projectKey(ref: string, name: 'anon' | 'service_role'): Promise<string> {
    const keys = await this.get<{ name: string; api_key: string }[]>(`/projects/${ref}/api-keys`);
    const key = keys.find((k) => k.name === name)?.api_key;
    if (!key) throw new CliError(`project ${ref} has no ${name} key`);
    return key;
  }

  async #send<T>(method: string, path: string, body?: unknown, authorization = `Bearer ${this.token}`): Promise<T> {
    let r: Response;
    try {
      r = await fetch(`${this.url}${path}`, {
        method,
        headers: { authorization, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch (e) {
      throw new CliError(`cannot reach ${this.url} (${(e as Error).cause ?? (e as Error).message}); is the fleet running? (npm start)`);
    }
    const text = await r.text();
    const data = text && r.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
    if (!r.ok) throw new CliError(`${method} ${path}: ${r.status} ${messageOf(data)}`);
    return data as T;
  }

  get = <T = any>(path: string) => this.request<T>('GET', path);
  post = <T = any>(path: string, body?: unknown) => this.request<T>('POST', path, body ?? {});
  delete = <T = any>(path: string, body?: unknown) => this.request<T>('DELETE', path, body);
}

/** The message of any of the services' error shapes (Basalt, PostgREST, GoTrue, Storage, OpenAI). */
function messageOf(data: unknown): string {
  if (!data || typeof data !== 'object') return String(data);
  const d = data as Record<string, any>;
  const m = d.message ?? d.msg ?? d.error_description ?? d.error?.message ?? (typeof d.error === 'string' ? d.error : undefined);
  return typeof m === 'string' ? m : JSON.stringify(data);
}

/** URL and token, each from the first that has it: --url/--token, BASALT_URL/BASALT_TOKEN, `basalt login`, .basalt/credentials.json. */
export function apiFrom(flags: Flags, env: NodeJS.ProcessEnv = process.env): PlatformApi {
  const login = readUserConfig(env);
  const saved = readCredentials();
  const url = flag(flags, 'url') ?? env.BASALT_URL ?? login?.url ?? saved?.url;
  const token = flag(flags, 'token') ?? env.BASALT_TOKEN ?? login?.token ?? saved?.platform_token;
  if (!url || !token) {
    throw new CliError('no platform URL/token: run `basalt login`, pass --url and --token, set BASALT_URL and BASALT_TOKEN, or run `npm start` once to create .basalt/credentials.json');
  }
  return new PlatformApi(url.replace(/\/$/, ''), token);
}
