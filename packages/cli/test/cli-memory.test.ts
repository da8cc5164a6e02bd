// memory add, list, search, delete (mem0 API with the service_role key).
// Through the binary in a linked temporary folder (no ref typed), each a success and a failure with its exit code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { platform, testEnv } from '@basalt/testkit';
import { cliProject } from './run-cli.js';

const env = testEnv();
const project = cliProject();
// not spawnSync: the fake embeddings upstream below answers from this process while the CLI runs
const { cliAsync: cli, jsonAsync: json } = project;

/** An OpenAI-compatible embeddings upstream (a bag of hashed words), so memory needs no real provider. */
async function fakeEmbeddings() {
  const embed = (text: string) => {
    const v = new Array(32).fill(0);
    for (const w of text.toLowerCase().match(/[a-z]+/g) ?? []) v[[...w].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) % 32, 7)] += 1;
    const n = Math.hypot(...v) || 1;
    return v.map((x) => x / n);
  };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const input = JSON.parse(body || '{}').input;
      const texts: string[] = Array.isArray(input) ? input : [input];
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
        object: 'list', model: 'fake-embed', usage: { prompt_tokens: 1, total_tokens: 1 },
        data: texts.map((x, index) => ({ object: 'embedding', index, embedding: embed(x) })),
      }));
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.77', ok));
  return { url: `http://127.0.0.77:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}

test('memory add, list, search, delete', async (t) => {
  if (!env.services.memory || !env.services['ai-gateway']) return t.skip('memory and ai-gateway are not running');
  const fake = await fakeEmbeddings();
  try {
    await platform(`/projects/${project.ref}/ai/providers`, { method: 'POST', json: { name: 'fake', type: 'openai', base_url: `${fake.url}/v1`, api_key: 'sk-fake' } });
    await platform(`/projects/${project.ref}/ai/routes`, { method: 'PUT', json: { routes: [{ model: 'mem-embed', provider: 'fake' }] } });
    await platform(`/projects/${project.ref}`, { method: 'PATCH', json: { settings: { memory: { embedding_model: 'mem-embed' } } } });
    const rows = (r: any): { id: string; memory: string }[] => (Array.isArray(r) ? r : r.results);
    const added = rows(await json('memory', 'add', '--user', 'alice', 'I drink green tea every morning'));
    assert.match(added[0].memory, /green tea/);
    await json('memory', 'add', '--user', 'alice', 'My bicycle is red');
    await json('memory', 'add', '--user', 'bob', 'I drink black tea');
    assert.equal(rows(await json('memory', 'list', '--user', 'alice')).length, 2);
    const found = rows(await json('memory', 'search', '--user', 'alice', 'what tea do I drink', '--limit', '5'));
    assert.match(found[0].memory, /green tea/);
    assert.ok(!found.some((m) => /black tea/.test(m.memory)), "bob's memories stay his");
    assert.equal((await cli('memory', 'delete', added[0].id)).code, 0);
    assert.deepEqual(rows(await json('memory', 'list', '--user', 'alice')).map((m) => m.memory), ['My bicycle is red']);
    assert.equal((await cli('memory', 'add', 'no user given')).code, 2);
    assert.equal((await cli('memory', 'delete', '00000000-0000-0000-0000-000000000000')).code, 1);
  } finally {
    await fake.close();
  }
});
