// How a model call's failure is classed, against real sockets: no answer at all (a closed port, a server that never
// answers within the timeout) is `unanswered`; a 5xx is an outage that did answer; a 429 is a refusal for quota.
// The rerank step stops on the first and the last (rerank.ts).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSecretKey } from 'node:crypto';
import { after, test } from 'node:test';
import type { Project } from '@basalt/tenancy';
import { modelClient, refusedForQuota, unanswered } from './models.js';

const project = { ref: 'abcdefghijklmnopqrst', jwtKey: createSecretKey(Buffer.from('a-project-secret-of-sufficient-length-0123')) } as unknown as Project;
const servers: Server[] = [];
after(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

/** a local AI gateway that answers every call with `status` and an OpenAI-shaped error, or never answers (null) */
async function gateway(status: number | null): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    if (status === null) return; // holds the request open
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: `status ${status}`, type: 'upstream_error' } }));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const failureOf = async (baseUrl: string, timeoutMs = 5_000) => {
  const models = modelClient({ baseUrl, timeoutMs });
  const e = await models.chat(project, 'm', [{ role: 'user', content: 'hi' }]).then(() => assert.fail('the call succeeded'), (x: unknown) => x);
  return { unanswered: unanswered(e), quota: refusedForQuota(e), message: (e as Error).message };
};

test('an unreachable AI gateway: unanswered, not a refusal for quota', async () => {
  // a port just listened on and closed: nothing answers there
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const { port } = closed.address() as AddressInfo;
  await new Promise((r) => closed.close(r));
  const f = await failureOf(`http://127.0.0.1:${port}`);
  assert.deepEqual([f.unanswered, f.quota], [true, false], f.message);
  assert.match(f.message, /unreachable/);
});

test('a gateway that does not answer within the timeout: unanswered', async () => {
  const f = await failureOf(await gateway(null), 200);
  assert.deepEqual([f.unanswered, f.quota], [true, false], f.message);
  assert.match(f.message, /timed out/);
});

test('a 503 answered: neither unanswered nor a refusal for quota', async () => {
  const f = await failureOf(await gateway(503));
  assert.deepEqual([f.unanswered, f.quota], [false, false], f.message);
});

test('a 429 answered: a refusal for quota', async () => {
  const f = await failureOf(await gateway(429));
  assert.deepEqual([f.unanswered, f.quota], [false, true], f.message);
});
