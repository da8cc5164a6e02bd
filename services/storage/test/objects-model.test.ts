// Objects against a model: random sequences of upload (with and without upsert), copy, move, remove, download and
// list at every folder level, through supabase-js, against a map of path to content. After every step the bucket
// must hold exactly what the map says: a download gives the last bytes written, a listing gives the files and
// folders directly below its prefix, in name order; an upload or copy onto an existing key and a move onto one are
// 409s that change nothing, as Supabase Storage answers them, and a missing source is a 404.
// Names are from a small set so that steps collide (f0..f3 files, d0..d2 folders: a name is never both).
// 30 sequences a run; MODEL_RUNS=300 looks further.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createProject, supabaseClient, type TestProject } from '@basalt/testkit';

let p: TestProject;
before(async () => {
  p = await createProject('storage-model');
});

const storage = () => supabaseClient(p, { key: p.serviceKey }).storage;
type Model = Map<string, string>;
interface Real { bucket: string }

const errorOf = (e: unknown) => ((e ?? {}) as { statusCode?: string }).statusCode;

/** the files and folders directly below `prefix` ('' for the bucket's top), as the model holds them, in name order */
function listing(m: Model, prefix: string): { name: string; folder: boolean }[] {
  const below = prefix === '' ? '' : `${prefix}/`;
  const entries = new Map<string, boolean>();
  for (const path of m.keys()) {
    if (!path.startsWith(below)) continue;
    const rest = path.slice(below.length);
    const slash = rest.indexOf('/');
    entries.set(slash < 0 ? rest : rest.slice(0, slash), slash >= 0);
  }
  return [...entries].map(([name, folder]) => ({ name, folder })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

class Upload implements fc.AsyncCommand<Model, Real> {
  constructor(readonly path: string, readonly content: string, readonly upsert: boolean) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const { error } = await storage().from(r.bucket).upload(this.path, this.content, { upsert: this.upsert, contentType: 'text/plain' });
    if (m.has(this.path) && !this.upsert) return assert.equal(errorOf(error), '409', `upload onto ${this.path}: ${JSON.stringify(error)}`);
    assert.equal(error, null, `upload ${this.path}`);
    m.set(this.path, this.content);
  }
  toString = () => `upload(${this.path}, ${JSON.stringify(this.content)}${this.upsert ? ', upsert' : ''})`;
}

class CopyOrMove implements fc.AsyncCommand<Model, Real> {
  constructor(readonly op: 'copy' | 'move', readonly from: string, readonly to: string) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const { error } = await storage().from(r.bucket)[this.op](this.from, this.to);
    const what = `${this.op} ${this.from} → ${this.to}`;
    if (!m.has(this.from)) return assert.equal(errorOf(error), '404', `${what}: ${JSON.stringify(error)}`);
    if (m.has(this.to)) return assert.equal(errorOf(error), '409', `${what}: ${JSON.stringify(error)}`);
    assert.equal(error, null, `${what}: ${JSON.stringify(error)}`);
    m.set(this.to, m.get(this.from)!);
    if (this.op === 'move') m.delete(this.from);
  }
  toString = () => `${this.op}(${this.from}, ${this.to})`;
}

class Remove implements fc.AsyncCommand<Model, Real> {
  constructor(readonly paths: string[]) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const { data, error } = await storage().from(r.bucket).remove(this.paths);
    assert.equal(error, null, `remove ${this.paths.join(', ')}`);
    const expected = [...new Set(this.paths.filter((path) => m.has(path)))].sort();
    assert.deepEqual(data!.map((o) => o.name).sort(), expected, 'the objects removed are the ones there were');
    for (const path of this.paths) m.delete(path);
  }
  toString = () => `remove(${this.paths.join(', ')})`;
}

class Download implements fc.AsyncCommand<Model, Real> {
  constructor(readonly path: string) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const { data, error } = await storage().from(r.bucket).download(this.path);
    if (!m.has(this.path)) return assert.notEqual(error, null, `download of missing ${this.path}`);
    assert.equal(error, null, `download ${this.path}`);
    assert.equal(await data!.text(), m.get(this.path), `${this.path} holds the last bytes written`);
  }
  toString = () => `download(${this.path})`;
}

class List implements fc.AsyncCommand<Model, Real> {
  constructor(readonly prefix: string) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const { data, error } = await storage().from(r.bucket).list(this.prefix, { limit: 1000, sortBy: { column: 'name', order: 'asc' } });
    assert.equal(error, null, `list ${this.prefix}`);
    assert.deepEqual(data!.map((o) => ({ name: o.name, folder: o.id === null })), listing(m, this.prefix), `list '${this.prefix}'`);
  }
  toString = () => `list(${JSON.stringify(this.prefix)})`;
}

const folder = fc.array(fc.constantFrom('d0', 'd1', 'd2'), { maxLength: 2 }).map((parts) => parts.join('/'));
const path = fc.tuple(folder, fc.constantFrom('f0', 'f1', 'f2', 'f3')).map(([dir, file]) => (dir ? `${dir}/${file}` : file));
const commands = [
  fc.tuple(path, fc.string({ unit: 'grapheme', maxLength: 12 }), fc.boolean()).map(([to, content, upsert]) => new Upload(to, content, upsert)),
  fc.tuple(fc.constantFrom('copy' as const, 'move' as const), path, path).map(([op, from, to]) => new CopyOrMove(op, from, to)),
  fc.array(path, { minLength: 1, maxLength: 3 }).map((paths) => new Remove(paths)),
  path.map((at) => new Download(at)),
  folder.map((prefix) => new List(prefix)),
];

let buckets = 0;

test('a bucket holds exactly what a map of path to content says, after any sequence of object operations', async () => {
  await fc.assert(
    fc.asyncProperty(fc.commands(commands, { maxCommands: 25 }), async (cmds) => {
      const bucket = `model-${++buckets}`;
      assert.equal((await storage().createBucket(bucket)).error, null);
      const model: Model = new Map();
      const real = { bucket };
      await fc.asyncModelRun(() => ({ model, real }), [...cmds, ...['', 'd0', 'd1', 'd2', 'd0/d1'].map((prefix) => new List(prefix))]);
    }),
    { numRuns: Number(process.env.MODEL_RUNS ?? 30), endOnFailure: true },
  );
});
