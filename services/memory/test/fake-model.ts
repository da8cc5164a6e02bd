// A fake OpenAI-format upstream on 127.0.0.77 for the memory tests: deterministic bag-of-words embeddings (so
// texts sharing words are near), and chat answers scripted per test by a function of the messages.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatCall {
  model: string;
  system: string;
  user: string;
}

/** a scripted chat answer that is an error in OpenAI's shape instead, e.g. 429 insufficient_quota */
export class ChatRefusal {
  constructor(readonly status: number, readonly type: string, readonly message: string) {}
}

export interface FakeModel {
  url: string;
  key: string;
  chats: ChatCall[];
  embeddings: string[];
  /** how many inputs each embedding call carried */
  embeddingCalls: number[];
  /** what the next chat calls answer (a string is sent as the message content verbatim, a ChatRefusal as an error) */
  script: (fn: (call: ChatCall) => unknown) => void;
  close: () => Promise<void>;
}

const STOP = new Set(['a', 'an', 'the', 'is', 'am', 'are', 'i', 'my', 'me', 'to', 'of', 'and', 'in', 'on', 'do', 'does', 'what', 'where', 'who', 'user', 'now', 'at', 'for', 'with', 'like', 'likes', 'live', 'lives']);

/** words → a unit vector: each word adds weight to two hashed dimensions */
export function bagOfWords(text: string, dims: number): number[] {
  const v: number[] = Array.from({ length: dims }, () => 0);
  for (const raw of text.toLowerCase().split(/[^a-z0-9]+/)) {
    if (!raw || STOP.has(raw)) continue;
    let h = 2166136261;
    for (const ch of raw) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    v[h % dims] += 1;
    v[(h >>> 8) % dims] += 0.5;
  }
  if (!v.some((x) => x !== 0)) v[0] = 1;
  return v;
}

export async function fakeModel(key: string, dims = 64): Promise<FakeModel> {
  const chats: ChatCall[] = [];
  const embeddings: string[] = [];
  const embeddingCalls: number[] = [];
  let answer: (call: ChatCall) => unknown = () => ({ facts: [] });
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.headers.authorization !== `Bearer ${key}`) return send(401, { error: { message: 'bad key', type: 'invalid_request_error' } });
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
      if (req.url === '/v1/embeddings') {
        const inputs: string[] = Array.isArray(body.input) ? body.input : [body.input];
        // as a model refuses an input it cannot take (too long, say): the whole call fails
        if (inputs.some((t) => t.includes('REFUSE'))) return send(400, { error: { message: 'this input is refused', type: 'invalid_request_error' } });
        embeddingCalls.push(inputs.length);
        embeddings.push(...inputs);
        const n = body.dimensions ?? dims;
        return send(200, { object: 'list', model: body.model, data: inputs.map((t, index) => ({ object: 'embedding', index, embedding: bagOfWords(t, n) })), usage: { prompt_tokens: 3, total_tokens: 3 } });
      }
      if (req.url === '/v1/chat/completions') {
        const call = { model: body.model, system: body.messages.find((m: any) => m.role === 'system')?.content ?? '', user: body.messages.filter((m: any) => m.role === 'user').map((m: any) => m.content).join('\n') };
        chats.push(call);
        const out = answer(call);
        if (out instanceof ChatRefusal) return send(out.status, { error: { message: out.message, type: out.type, code: out.type } });
        const content = typeof out === 'string' ? out : JSON.stringify(out);
        return send(200, { id: 'chatcmpl-m', object: 'chat.completion', created: 1, model: body.model, choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } });
      }
      send(404, { error: { message: `no route ${req.url}`, type: 'invalid_request_error' } });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.77', r));
  return {
    url: `http://127.0.0.77:${(server.address() as AddressInfo).port}`, key, chats, embeddings, embeddingCalls,
    script: (fn) => void (answer = fn),
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
