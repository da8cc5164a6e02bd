// A project wired to fake providers: `oa` (OpenAI format, also `oa2`, and `slow` with a 300 ms timeout) and
// `an` (Anthropic), a route table covering every test scenario, and an AI key.
import { createProject, platform, testEnv, type TestProject } from '@basalt/testkit';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { fakeAnthropic, fakeOpenAI, type Fake } from './fakes.js';

export interface AiProject {
  project: TestProject;
  openaiFake: Fake;
  anthropicFake: Fake;
  key: string;
  keyId: string;
  manage: <T = any>(path: string, init?: { method?: string; json?: unknown }) => Promise<T>;
  /** raw management call (status + body), with the given bearer */
  manageRaw: (path: string, init?: { method?: string; json?: unknown; token?: string }) => Promise<{ status: number; body: any }>;
  openai: (key?: string) => OpenAI;
  anthropic: (key?: string) => Anthropic;
  close: () => Promise<void>;
}

export const ROUTES = [
  { model: 'gpt-4o-mini', provider: 'oa' },
  { model: 'fast', provider: 'oa', upstream_model: 'gpt-4o-mini' },
  { model: 'text-embedding-3-small', provider: 'oa' },
  { model: 'claude-sonnet-4-5', provider: 'an' },
  { model: 'fallback-500', provider: 'oa', upstream_model: 'fail-500', fallbacks: ['an/claude-sonnet-4-5'] },
  { model: 'fallback-429', provider: 'oa', upstream_model: 'fail-429', fallbacks: ['oa2/gpt-4o-mini'] },
  { model: 'flaky', provider: 'oa', upstream_model: 'flaky-500' },
  { model: 'always-500', provider: 'oa', upstream_model: 'fail-500' },
  { model: 'cut', provider: 'oa' },
  { model: 'claude-cut', provider: 'an', upstream_model: 'cut' },
  { model: 'hang', provider: 'slow' },
  { model: 'hang-long', provider: 'oa', upstream_model: 'hang' },
  { model: 'fallback-hang', provider: 'slow', upstream_model: 'hang', fallbacks: ['oa/gpt-4o-mini'] },
  { model: 'garbage', provider: 'oa' },
  { model: 'slow-ok', provider: 'oa' },
  { model: 'claude-*', provider: 'an' },
];

export async function aiProject(name = 'ai'): Promise<AiProject> {
  const env = testEnv();
  const project = await createProject(name);
  const [openaiFake, anthropicFake] = await Promise.all([fakeOpenAI(`sk-oa-${project.ref}`), fakeAnthropic(`sk-an-${project.ref}`)]);
  const manage = <T = any>(path: string, init: { method?: string; json?: unknown } = {}) =>
    platform<T>(`/projects/${project.ref}/ai${path}`, { method: init.method ?? (init.json ? 'POST' : 'GET'), json: init.json });
  const manageRaw = async (path: string, init: { method?: string; json?: unknown; token?: string } = {}) => {
    const r = await fetch(`${env.gatewayUrl}/platform/v1/projects/${project.ref}/ai${path}`, {
      method: init.method ?? 'GET',
      headers: { 'content-type': 'application/json', ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
    });
    const text = await r.text();
    return { status: r.status, body: text && r.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
  };
  const oa = { type: 'openai', base_url: `${openaiFake.url}/v1`, api_key: `sk-oa-${project.ref}` };
  await manage('/providers', { json: { name: 'oa', ...oa } });
  await manage('/providers', { json: { name: 'oa2', ...oa } });
  await manage('/providers', { json: { name: 'slow', ...oa, timeout_ms: 300 } });
  await manage('/providers', { json: { name: 'an', type: 'anthropic', base_url: anthropicFake.url, api_key: `sk-an-${project.ref}` } });
  await manage('/routes', { method: 'PUT', json: { routes: ROUTES } });
  const created = await manage<{ id: string; key: string }>('/keys', { json: { name: 'default' } });
  return {
    project, openaiFake, anthropicFake, key: created.key, keyId: created.id, manage, manageRaw,
    openai: (key = created.key) => new OpenAI({ apiKey: key, baseURL: `${env.gatewayUrl}/v1`, maxRetries: 0 }),
    anthropic: (key = created.key) => new Anthropic({ apiKey: key, baseURL: env.gatewayUrl, maxRetries: 0 }),
    close: async () => {
      await Promise.all([openaiFake.close(), anthropicFake.close()]);
    },
  };
}

/** a raw call to the model APIs through the gateway */
export async function call(path: string, init: { method?: string; headers?: Record<string, string>; body?: string | unknown } = {}) {
  const r = await fetch(`${testEnv().gatewayUrl}${path}`, {
    method: init.method ?? 'POST',
    headers: { 'content-type': 'application/json', ...init.headers },
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
  });
  const text = await r.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch { /* not JSON */ }
  return { status: r.status, headers: r.headers, body, text };
}
