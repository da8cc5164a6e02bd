// A 1 GiB object moves through the gateway in both directions while the storage service's memory stays flat:
// bytes stream end to end, they are never buffered whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createProject, supabaseClient, testEnv } from '@basalt/testkit';

const env = testEnv();
const GiB = 1024 ** 3;
const CHUNK = 1024 * 1024;

async function rss(): Promise<number> {
  const text = await (await fetch(`${env.services.storage}/metrics`)).text();
  return Number(/^process_resident_memory_bytes(?:\{[^}]*\})? (\d+)/m.exec(text)![1]);
}

/** samples the service's resident memory until stopped; resolves to the peak */
function sampler() {
  let peak = 0;
  let running = true;
  const done = (async () => {
    while (running) {
      peak = Math.max(peak, await rss());
      await new Promise((r) => setTimeout(r, 100));
    }
    return peak;
  })();
  return { stop: () => ((running = false), done) };
}

test('a 1 GiB object uploads and downloads through the gateway with the storage service\'s memory flat', async () => {
  const p = await createProject('streaming');
  await supabaseClient(p, { key: p.serviceKey }).storage.createBucket('big');
  const headers = { authorization: `Bearer ${p.serviceKey}`, apikey: p.serviceKey };
  const baseline = await rss();

  const sent = createHash('md5');
  const chunk = Buffer.alloc(CHUNK);
  let produced = 0;
  const body = new ReadableStream({
    pull(c) {
      if (produced === GiB) return c.close();
      chunk.writeUInt32LE(produced / CHUNK, 0);
      const copy = Buffer.from(chunk);
      sent.update(copy);
      produced += CHUNK;
      c.enqueue(copy);
    },
  });
  const up = sampler();
  const put = await fetch(`${p.url}/storage/v1/object/big/one-gig.bin`, {
    method: 'POST', body, duplex: 'half', headers: { ...headers, 'content-type': 'application/octet-stream' },
  } as RequestInit);
  const upPeak = await up.stop();
  const answer = await put.text();
  assert.equal(put.status, 200, answer);

  const down = sampler();
  const got = await fetch(`${p.url}/storage/v1/object/big/one-gig.bin`, { headers });
  assert.equal(got.status, 200, got.status === 200 ? '' : await got.text());
  assert.equal(got.headers.get('content-length'), String(GiB));
  const received = createHash('md5');
  let size = 0;
  for await (const part of got.body as unknown as AsyncIterable<Uint8Array>) {
    received.update(part);
    size += part.length;
  }
  const downPeak = await down.stop();
  assert.equal(size, GiB);
  assert.equal(received.digest('hex'), sent.digest('hex'));

  const mb = (n: number) => Math.round(n / 1024 / 1024);
  const growth = Math.max(upPeak, downPeak) - baseline;
  assert.ok(growth < 100 * 1024 * 1024, `storage RSS grew by ${mb(growth)} MB (baseline ${mb(baseline)} MB, upload peak ${mb(upPeak)} MB, download peak ${mb(downPeak)} MB)`);
  await p.remove();
});
