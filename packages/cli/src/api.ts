// A small client of the platform API for the CLI; errors become CliErrors with the server's message.
import { CliError, flag, type Flags } from './command.js';
import { readCredentials } from './credentials.js';

export class PlatformApi {
  constructor(readonly url: string, private readonly token: string) {}

  request<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    return this.#send<T>(method, `/platform/v1${path}`, body);
  }

  /** a project's own API through the gateway (assets admin, cron admin), with the same platform token */
  project<T = any>(ref: string, method: string, path: string, body?: unknown): Promise<T> {
    return this.#send<T>(method, `/project/${ref}${path}`, body);
  }

  async #send<T>(method: string, path: string, body?: unknown): Promise<T> {
    let r: Response;
    try {
      r = await fetch(`${this.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch (e) {
      throw new CliError(`cannot reach ${this.url} (${(e as Error).cause ?? (e as Error).message}); is the fleet running? (npm start)`);
    }
    const text = await r.text();
    const data = text && r.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
    if (!r.ok) throw new CliError(`${method} ${path}: ${r.status} ${typeof data === 'object' && data ? (data.message ?? JSON.stringify(data)) : data}`);
    return data as T;
  }

  get = <T = any>(path: string) => this.request<T>('GET', path);
  post = <T = any>(path: string, body?: unknown) => this.request<T>('POST', path, body ?? {});
  delete = <T = any>(path: string, body?: unknown) => this.request<T>('DELETE', path, body);
}

export function apiFrom(flags: Flags, env: NodeJS.ProcessEnv = process.env): PlatformApi {
  const saved = readCredentials();
  const url = flag(flags, 'url') ?? env.BASALT_URL ?? saved?.url;
  const token = flag(flags, 'token') ?? env.BASALT_TOKEN ?? saved?.platform_token;
  if (!url || !token) {
    throw new CliError('no platform URL/token: pass --url and --token, set BASALT_URL and BASALT_TOKEN, or run `npm start` once to create .basalt/credentials.json');
  }
  return new PlatformApi(url.replace(/\/$/, ''), token);
}
