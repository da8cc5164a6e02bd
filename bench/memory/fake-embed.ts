// The benchmark's embedding upstream (OpenAI format) in its own process, on 127.0.0.77; prints its port.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { embed } from './vectors.js';

const server = createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(parts).toString() || '{}');
    const inputs: string[] = Array.isArray(body.input) ? body.input : [body.input];
    // as OpenAI answers: base64 float32 when asked (its own clients always ask), else the numbers
    const base64 = body.encoding_format === 'base64';
    const data = inputs.map((t, index) => {
      const v = embed(t);
      return { object: 'embedding', index, embedding: base64 ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') : Array.from(v, (x) => Math.round(x * 1e6) / 1e6) };
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', model: body.model, data, usage: { prompt_tokens: inputs.length * 8, total_tokens: inputs.length * 8 } }));
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.77', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
