// TUS PATCHes racing for one upload's offset, sent to a storage process directly (nothing in between buffers a
// body): exactly one chunk lands, the others are answered 409 (the offset moved on) or 423 (another chunk is being
// placed), and the finished object holds exactly the winner's bytes. Run on both backends by their test files.
import assert from 'node:assert/strict';
import net from 'node:net';
import pg from 'pg';
import { testEnv } from '@basalt/testkit';

export interface RaceTarget {
  /** the storage process itself */
  origin: string;
  ref: string;
  serviceKey: string;
}

const MiB = 1024 * 1024;
/** S3 refuses a part but the last under 5 MiB */
const MIN_PART = 5 * MiB;
/**
 * A held chunk: more than the loopback socket buffers take (4 MiB of send buffer, a receive buffer that grows only as
 * it is read), so once all but its last byte are written the server is reading it, past its first offset check.
 */
const HELD = 12 * MiB;
const BUCKET = 'tus-races';

/** distinct bytes per seed, none of them zero */
function bytes(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = ((i * 31 + seed * 97) % 251) + 1;
  return b;
}

const auth = (t: RaceTarget) => ({ 'x-basalt-ref': t.ref, authorization: `Bearer ${t.serviceKey}` });
const tus = (t: RaceTarget, offset: number) => ({
  ...auth(t), 'tus-resumable': '1.0.0', 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream',
});

/** a new upload of `length` bytes to `name`; its path on the storage process */
async function create(t: RaceTarget, name: string, length: number): Promise<string> {
  const made = await fetch(`${t.origin}/storage/v1/bucket`, {
    method: 'POST', headers: { ...auth(t), 'content-type': 'application/json' }, body: JSON.stringify({ id: BUCKET, name: BUCKET }),
  });
  assert.ok(made.status === 200 || /already exists/.test(await made.text()), `bucket: ${made.status}`);
  const meta = `bucketName ${Buffer.from(BUCKET).toString('base64')},objectName ${Buffer.from(name).toString('base64')}`;
  const r = await fetch(`${t.origin}/storage/v1/upload/resumable`, {
    method: 'POST', headers: { ...auth(t), 'tus-resumable': '1.0.0', 'upload-length': String(length), 'upload-metadata': meta },
  });
  assert.equal(r.status, 201, await r.text());
  return `/storage/v1/upload/resumable/${r.headers.get('location')!.split('/').pop()}`;
}

async function patch(t: RaceTarget, path: string, offset: number, body: Buffer): Promise<{ status: number; offset: string | null }> {
  const r = await fetch(`${t.origin}${path}`, { method: 'PATCH', headers: tus(t, offset), body });
  await r.arrayBuffer();
  return { status: r.status, offset: r.headers.get('upload-offset') };
}

async function offsetOf(t: RaceTarget, path: string): Promise<string | null> {
  return (await fetch(`${t.origin}${path}`, { method: 'HEAD', headers: { ...auth(t), 'tus-resumable': '1.0.0' } })).headers.get('upload-offset');
}

async function download(t: RaceTarget, name: string): Promise<Buffer> {
  const r = await fetch(`${t.origin}/storage/v1/object/${BUCKET}/${name}`, { headers: auth(t) });
  assert.equal(r.status, 200);
  return Buffer.from(await r.arrayBuffer());
}

/** A PATCH sent but for its last byte (the server is reading it); `release` sends that byte and reads the status. */
async function held(t: RaceTarget, path: string, offset: number, body: Buffer): Promise<{ release: () => Promise<number> }> {
  const url = new URL(t.origin);
  const s = net.connect(Number(url.port), url.hostname);
  s.on('error', () => undefined); // an early answer may close the socket under the last write
  let answer = '';
  const status = new Promise<number>((resolve) => {
    s.on('data', (c: Buffer) => {
      answer += c.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      if (m) resolve(Number(m[1]));
    });
    s.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
  });
  const headers = { host: url.host, ...tus(t, offset), 'content-length': String(body.length), connection: 'close' };
  s.write(`PATCH ${path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
  await new Promise<void>((resolve) => s.write(body.subarray(0, body.length - 1), () => resolve()));
  return {
    release: async () => {
      s.write(body.subarray(body.length - 1));
      const got = await status;
      s.destroy();
      return got;
    },
  };
}

/** The upload's row locked from outside, as a PATCH placing its chunk holds it; released by `unlock`. */
async function lockRow(t: RaceTarget, path: string): Promise<{ unlock: () => Promise<void> }> {
  const c = await projectDb(t);
  await c.query('begin');
  const { rowCount } = await c.query('select 1 from storage.resumable_uploads where id = $1 for update', [path.split('/').pop()]);
  assert.equal(rowCount, 1);
  return { unlock: async () => void (await c.query('rollback'), await c.end()) };
}

/** The project's database, as the test's own superuser connection. */
async function projectDb(t: RaceTarget): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: Object.assign(new URL(testEnv().databaseUrl), { pathname: `/proj_${t.ref}` }).toString() });
  await c.connect();
  return c;
}

export const tusRaces: { name: string; run: (t: RaceTarget) => Promise<void> }[] = [
  {
    name: 'a PATCH that loses its offset to another is 409 and none of its bytes reach the object',
    run: async (t) => {
      const winner = bytes(HELD + 1000, 1);
      const path = await create(t, 'lost-offset.bin', winner.length);
      const loser = await held(t, path, 0, bytes(HELD, 2));
      assert.deepEqual(await patch(t, path, 0, winner.subarray(0, HELD)), { status: 204, offset: String(HELD) });
      assert.equal(await loser.release(), 409);
      assert.equal(await offsetOf(t, path), String(HELD));
      assert.deepEqual(await patch(t, path, HELD, winner.subarray(HELD)), { status: 204, offset: String(winner.length) });
      assert.ok((await download(t, 'lost-offset.bin')).equals(winner), 'the object is the winner\'s bytes');
    },
  },
  {
    name: 'a PATCH still streaming when another finishes the upload is 404 and never writes into the finished object',
    run: async (t) => {
      const winner = bytes(HELD, 3);
      const path = await create(t, 'finished-under.bin', winner.length);
      const loser = await held(t, path, 0, bytes(HELD, 4));
      assert.deepEqual(await patch(t, path, 0, winner), { status: 204, offset: String(HELD) });
      const lost = await loser.release();
      assert.ok((await download(t, 'finished-under.bin')).equals(winner), 'the object is the winner\'s bytes');
      assert.equal(lost, 404);
    },
  },
  {
    name: 'a PATCH that finds another chunk being placed is 423 Locked and writes nothing; the upload then goes on',
    run: async (t) => {
      const body = bytes(1000, 5);
      const path = await create(t, 'locked.bin', body.length);
      const lock = await lockRow(t, path);
      try {
        assert.deepEqual(await patch(t, path, 0, bytes(1000, 6)), { status: 423, offset: null });
        assert.equal(await offsetOf(t, path), '0');
      } finally {
        await lock.unlock();
      }
      assert.deepEqual(await patch(t, path, 0, body), { status: 204, offset: String(body.length) });
      assert.ok((await download(t, 'locked.bin')).equals(body));
    },
  },
  {
    name: 'a DELETE that finds a chunk being placed is 423 and leaves the upload as it was; then it terminates it',
    run: async (t) => {
      const path = await create(t, 'terminated.bin', 1000);
      const del = async () => (await fetch(`${t.origin}${path}`, { method: 'DELETE', headers: { ...auth(t), 'tus-resumable': '1.0.0' } })).status;
      const lock = await lockRow(t, path);
      try {
        assert.equal(await del(), 423);
        assert.equal(await offsetOf(t, path), '0');
      } finally {
        await lock.unlock();
      }
      assert.equal(await del(), 204);
      assert.equal((await fetch(`${t.origin}${path}`, { method: 'HEAD', headers: { ...auth(t), 'tus-resumable': '1.0.0' } })).status, 404);
    },
  },
  {
    name: 'an empty PATCH at the final offset while the last chunk is being committed is 404: the upload finishes once',
    run: async (t) => {
      const body = bytes(1000, 11);
      const path = await create(t, 'finishes-once.bin', body.length);
      // the object's name taken from outside, uncommitted: the finishing PATCH waits in its commit until it is let go
      const c = await projectDb(t);
      await c.query('begin');
      await c.query('insert into storage.objects (bucket_id, name) values ($1, $2)', [BUCKET, 'finishes-once.bin']);
      const last = patch(t, path, 0, body);
      const id = path.split('/').pop();
      const waiting = async () => ((await c.query('select 1 from storage.resumable_uploads where id = $1 and upload_offset = 0', [id])).rowCount ?? 0) === 0;
      while (!(await waiting())) await new Promise((r) => setTimeout(r, 20)); // the chunk is placed: it is committing
      const again = patch(t, path, body.length, Buffer.alloc(0));
      await new Promise((r) => setTimeout(r, 200)); // time for a second finish to begin, were one let through
      await c.query('rollback');
      await c.end();
      assert.deepEqual(await last, { status: 204, offset: String(body.length) });
      assert.equal((await again).status, 404);
      assert.ok((await download(t, 'finishes-once.bin')).equals(body), 'the object keeps its bytes');
    },
  },
  {
    name: 'PATCHes sent at once to one offset: exactly one is accepted, the others are 409 or 423, the object is the winner\'s',
    run: async (t) => {
      const bodies = [7, 8, 9, 10].map((seed) => bytes(MIN_PART + 1000, seed));
      const path = await create(t, 'at-once.bin', MIN_PART + 1000);
      const answers = await Promise.all(bodies.map((b) => patch(t, path, 0, b.subarray(0, MIN_PART))));
      const won = answers.flatMap((a, i) => (a.status === 204 ? [i] : []));
      assert.equal(won.length, 1, JSON.stringify(answers));
      assert.ok(answers.every((a) => [204, 409, 423].includes(a.status)), JSON.stringify(answers));
      const winner = bodies[won[0]];
      assert.deepEqual(await patch(t, path, MIN_PART, winner.subarray(MIN_PART)), { status: 204, offset: String(winner.length) });
      assert.ok((await download(t, 'at-once.bin')).equals(winner), 'the object is the winner\'s bytes');
    },
  },
];
