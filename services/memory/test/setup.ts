// A project for the memory tests: optionally wired to the fake model through the AI gateway (provider `fake`,
// routes `mem-chat` and `mem-embed`) and settings.memory naming them; mem0ai 3.x and 2.x clients on its URL.
import './env.js';
import { MemoryClient } from 'mem0ai';
import { MemoryClient as MemoryClientV2 } from 'mem0ai-v2';
import { createProject, platform, testEnv, type TestProject } from '@basalt/testkit';
import { fakeModel, type FakeModel } from './fake-model.js';

export interface MemProject {
  project: TestProject;
  fake: FakeModel | null;
  /** an AI key (bsk_…) of the project */
  aiKey: string;
  client: (key?: string) => MemoryClient;
  clientV2: (key?: string) => MemoryClientV2;
  /** a raw call through the gateway on the project's URL, with the service key unless another is given */
  raw: <T = any>(path: string, init?: { method?: string; json?: unknown; key?: string | null; scheme?: string }) => Promise<{ status: number; body: T }>;
  close: () => Promise<void>;
}

export async function memProject(name: string, opts: { models?: 'none' | 'embed' | 'all'; settings?: Record<string, unknown> } = {}): Promise<MemProject> {
  const project = await createProject(name);
  const ai = (path: string, method: string, json?: unknown) => platform(`/projects/${project.ref}/ai${path}`, { method, json });
  const models = opts.models ?? 'all';
  let fake: FakeModel | null = null;
  if (models !== 'none') {
    fake = await fakeModel(`sk-mem-${project.ref}`);
    await ai('/providers', 'POST', { name: 'fake', type: 'openai', base_url: `${fake.url}/v1`, api_key: fake.key });
    await ai('/routes', 'PUT', { routes: [{ model: 'mem-chat', provider: 'fake' }, { model: 'mem-embed', provider: 'fake' }] });
    const memory = { embedding_model: 'mem-embed', ...(models === 'all' ? { llm_model: 'mem-chat' } : {}), ...opts.settings };
    await platform(`/projects/${project.ref}`, { method: 'PATCH', json: { settings: { memory } } });
  } else if (opts.settings) {
    await platform(`/projects/${project.ref}`, { method: 'PATCH', json: { settings: { memory: opts.settings } } });
  }
  const { key: aiKey } = await ai('/keys', 'POST', { name: 'mem' });
  const gateway = testEnv().gatewayUrl;
  return {
    project, fake, aiKey,
    client: (key = project.serviceKey) => new MemoryClient({ apiKey: key, host: project.url }),
    clientV2: (key = project.serviceKey) => new MemoryClientV2({ apiKey: key, host: project.url }),
    raw: async (path, init = {}) => {
      const key = init.key === undefined ? project.serviceKey : init.key;
      const r = await fetch(`${gateway}/project/${project.ref}${path}`, {
        method: init.method ?? (init.json === undefined ? 'GET' : 'POST'),
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `${init.scheme ?? 'Token'} ${key}` } : {}) },
        body: init.json === undefined ? undefined : JSON.stringify(init.json),
      });
      const text = await r.text();
      let body: any = text;
      try {
        body = JSON.parse(text);
      } catch { /* not JSON */ }
      return { status: r.status, body };
    },
    close: async () => {
      await fake?.close();
    },
  };
}
