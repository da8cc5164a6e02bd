// Hostile bytes on the wire port, from raw sockets: malformed frames close that one connection (as mongod does)
// and never stall the process serving every project; a client that pipelines requests without reading its
// replies is held back by the server reading no further, not buffered without bound (that one on the service's
// own listener in this process, with a stand-in project, where its buffers can be looked at).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { BSON, Binary } from 'bson';
import { createProject, platform } from '@basalt/testkit';
import { createLogger } from '@basalt/http';
import { hmac, scramKeys, sha256 } from '../src/domain/credentials.js';
import { startWireServer, type WireDeps } from '../src/wire/server.js';

const OP_QUERY = 2004;
const OP_MSG = 2013;
let cred: { username: string; password: string; uri: string };
let port: number;
const sockets: Raw[] = [];

before(async () => {
  const p = await createProject('docs-wire-hostile');
  cred = await platform(`/projects/${p.ref}/documents/credentials`, { method: 'POST' });
  port = Number(new URL(cred.uri.replace(/^mongodb:/, 'http:')).port);
});
after(() => {
  for (const s of sockets) s.socket.destroy();
});

/** a whole message: the header (its length unless given) and the body */
function frame(opCode: number, body: Buffer, length = 16 + body.length): Buffer {
  const h = Buffer.alloc(16);
  h.writeInt32LE(length, 0);
  h.writeInt32LE(1, 4);
  h.writeInt32LE(opCode, 12);
  return Buffer.concat([h, body]);
}

const section0 = (doc: object) => Buffer.concat([Buffer.from([0]), BSON.serialize(doc)]);
/** a kind-1 section whose size field says `size` (the real size when not given) */
function section1(id: string, docs: object[], size?: number): Buffer {
  const rest = Buffer.concat([Buffer.from(`${id}\0`), ...docs.map((d) => BSON.serialize(d))]);
  const head = Buffer.alloc(5);
  head[0] = 1;
  head.writeInt32LE(size ?? 4 + rest.length, 1);
  return Buffer.concat([head, rest]);
}
const opMsg = (...sections: Buffer[]) => frame(OP_MSG, Buffer.concat([Buffer.alloc(4), ...sections]));

/** a raw connection: writes bytes, reads whole replies (or learns that the server closed it) */
class Raw {
  readonly socket: net.Socket;
  #buf = Buffer.alloc(0);
  #closed = false;
  #wake: () => void = () => undefined;

  constructor(to = port) {
    this.socket = net.connect(to, '127.0.0.1');
    this.socket.on('data', (d) => ((this.#buf = Buffer.concat([this.#buf, d])), this.#wake()));
    this.socket.on('close', () => ((this.#closed = true), this.#wake()));
    this.socket.on('error', () => undefined);
    sockets.push(this);
  }

  /** the next reply's document, or 'closed' / 'timeout' */
  async reply(ms = 5000): Promise<any> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.#buf.length >= 4 && this.#buf.length >= this.#buf.readInt32LE(0)) {
        const msg = this.#buf.subarray(0, this.#buf.readInt32LE(0));
        this.#buf = this.#buf.subarray(msg.length);
        return BSON.deserialize(msg.subarray(msg.readInt32LE(12) === 1 ? 36 : 21), { promoteLongs: false });
      }
      if (this.#closed) return 'closed';
      if (Date.now() > deadline) return 'timeout';
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  }

  command(doc: object) {
    this.socket.write(opMsg(section0(doc)));
    return this.reply();
  }

  /** SCRAM-SHA-256 as the driver runs it, with the test project's credential */
  async login(username = cred.username, password = cred.password) {
    const bare = `n=${username},r=${randomBytes(24).toString('base64')}`;
    const first = await this.command({ saslStart: 1, mechanism: 'SCRAM-SHA-256', payload: new Binary(Buffer.from(`n,,${bare}`)), $db: 'admin' });
    const serverFirst = Buffer.from(first.payload.buffer).toString();
    const attrs = Object.fromEntries(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)]));
    const salted = pbkdf2Sync(password, Buffer.from(attrs.s, 'base64'), Number(attrs.i), 32, 'sha256');
    const clientKey = hmac(salted, 'Client Key');
    const withoutProof = `c=biws,r=${attrs.r}`;
    const signature = hmac(sha256(clientKey), `${bare},${serverFirst},${withoutProof}`);
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]));
    const done = await this.command({ saslContinue: 1, conversationId: 1, payload: new Binary(Buffer.from(`${withoutProof},p=${proof.toString('base64')}`)), $db: 'admin' });
    assert.equal(done.ok, 1, 'login');
  }
}

/** the server answers a handshake on a fresh connection */
async function serving(): Promise<void> {
  const c = new Raw();
  const r = await c.command({ hello: 1, $db: 'admin' });
  c.socket.destroy();
  assert.equal(r?.ok, 1, `a fresh connection is answered (got ${typeof r === 'string' ? r : JSON.stringify(r)})`);
}

test('malformed OP_MSG sections and lengths that lie close the connection; the server keeps serving', async () => {
  const hello = { hello: 1, $db: 'admin' };
  const lying = Buffer.from(BSON.serialize(hello));
  lying.writeInt32LE(lying.length + 64, 0);
  const cases: Record<string, Buffer> = {
    'a document sequence of size -1 (points back at its own kind byte)': opMsg(section0(hello), section1('documents', [], -1)),
    'a document sequence of size -6 (points back into the first section)': opMsg(section0(hello), section1('documents', [], -6)),
    'a document sequence of size 0': opMsg(section1('documents', [], 0), section0(hello)),
    'a document sequence larger than the message': opMsg(section1('documents', [{ a: 1 }], 1 << 20), section0(hello)),
    'a document sequence whose identifier runs past its end': opMsg(section1('documents', [], 6), section0(hello)),
    'a document in a sequence that runs past the sequence': opMsg(section1('documents', [{ a: 1 }], 16), section0(hello)),
    'a kind-0 document longer than the message': opMsg(Buffer.from([0]), lying),
    'two sequences with one identifier': opMsg(section1('documents', [{ a: 1 }]), section1('documents', [{ a: 2 }]), section0(hello)),
    'an OP_MSG with no section': frame(OP_MSG, Buffer.alloc(4)),
    'an OP_QUERY whose collection name never ends': frame(OP_QUERY, Buffer.concat([Buffer.alloc(4), Buffer.from('admin.$cmd')])),
    'a messageLength smaller than the header': frame(OP_MSG, Buffer.alloc(8), 8),
    'a messageLength over maxMessageSizeBytes': frame(OP_MSG, Buffer.alloc(8), 0x7fffffff),
    'OP_COMPRESSED, never offered': frame(2012, Buffer.from([0xdd, 0x07, 0, 0, 0xff, 0xff, 0xff, 0x7f, 9, 1, 2, 3])),
  };
  for (const [name, bytes] of Object.entries(cases)) {
    const c = new Raw();
    c.socket.write(bytes);
    assert.equal(await c.reply(3000), 'closed', name);
    await serving();
  }
});

test('a client that pipelines requests and never reads the replies is held back, not buffered', async () => {
  // the service's own listener, on a stand-in project whose every find answers one 1 MB document
  const salt = randomBytes(16);
  const keys = scramKeys('pencil', salt, 4096);
  const login = { username: 'piper', ref: 'piper', role: 'service_role', claims: null, salt, iterations: 4096, stored_key: keys.storedKey, server_key: keys.serverKey };
  let finds = 0;
  const documents = { findAll: async () => (finds++, [{ big: 'x'.repeat(1 << 20) }]) };
  const deps = {
    db: { credential: async () => login }, registry: { get: async () => ({ ref: 'piper' }) }, log: createLogger('documents', 'silent'),
    run: (_project: unknown, _guard: unknown, _claims: unknown, fn: (d: unknown) => Promise<unknown>) => fn(documents),
  } as unknown as WireDeps;
  const wire = startWireServer(deps);
  const served: net.Socket[] = [];
  wire.server.on('connection', (s) => served.push(s));
  const c = new Raw(await wire.listen(0));
  try {
    await c.login('piper', 'pencil');
    // 500 small requests (100 KB in all) that each ask for a 1 MB reply, and none of the replies read: buffered,
    // that would be 500 MB in the server for 100 KB sent
    const request = opMsg(section0({ find: 'c', filter: {}, $db: 'x' }));
    c.socket.write(Buffer.concat(Array.from({ length: 500 }, () => request)));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // once the kernel's socket buffers (a few MB) are full, the server must stop taking requests
    assert.ok(finds < 50, `the server stopped answering requests whose replies are not read (${finds} answered)`);
    assert.ok(served[0].writableLength <= 2 << 20, `at most about one reply waits in the server (${served[0].writableLength} bytes)`);
  } finally {
    c.socket.destroy();
    await wire.close();
  }
});

test('write statements and cursor ids of the wrong type are refused as MongoDB does, before anything runs', async () => {
  const c = new Raw();
  await c.login();
  const coll = `typed_${randomBytes(4).toString('hex')}`;
  const run = (doc: object) => c.command({ ...doc, $db: 'x' });
  assert.equal((await run({ insert: coll, documents: [{ a: 1 }, { a: 2 }] })).n, 2);
  const refused: [object, number, RegExp][] = [
    // a string is not a list of deletes: once each character ran as a delete of everything
    [{ delete: coll, deletes: 'xyz' }, 14, /BSON field 'delete.deletes' is the wrong type 'string', expected type 'array'/],
    [{ delete: coll, deletes: [null] }, 14, /'delete.deletes.0' is the wrong type 'null'/],
    [{ delete: coll, deletes: [{ limit: 0 }] }, 40414, /'delete.deletes.q' is missing/],
    [{ update: coll, updates: [{ u: { $set: { b: 1 } } }] }, 40414, /'update.updates.q' is missing/],
    [{ update: coll, updates: { length: 1 } }, 14, /'update.updates' is the wrong type 'object'/],
    [{ update: coll, updates: [{ q: 'x', u: { $set: { b: 1 } } }] }, 14, /'update.updates.q' is the wrong type 'string'/],
    [{ getMore: 'x', collection: coll }, 14, /'getMore.getMore' is the wrong type 'string', expected type 'long'/],
    [{ getMore: 1.5, collection: coll }, 14, /'getMore.getMore' is the wrong type 'double'/],
    [{ killCursors: coll, cursors: [{}] }, 14, /'killCursors.cursors.0' is the wrong type 'object'/],
    [{ killCursors: coll, cursors: 'x' }, 14, /'killCursors.cursors' is the wrong type 'string'/],
  ];
  for (const [doc, code, message] of refused) {
    const r = await run(doc);
    assert.equal(r.ok, 0, JSON.stringify(doc));
    assert.equal(r.code, code, `${JSON.stringify(doc)}: ${r.errmsg}`);
    assert.match(r.errmsg, message);
  }
  assert.equal((await run({ count: coll })).n, 2, 'nothing was deleted or changed');
  assert.equal((await run({ count: coll, query: { b: 1 } })).n, 0);
  assert.equal((await run({ getMore: 12345, collection: coll })).code, 43, 'an int32 id is looked up (CursorNotFound)');
  await run({ drop: coll });
  c.socket.destroy();
});
