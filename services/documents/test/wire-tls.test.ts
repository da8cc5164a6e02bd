// TLS on the wire port, with the official mongodb driver: in `allow` mode one port takes TLS and plain
// connections, in `require` mode a plain one is closed; a credential the platform issued authenticates
// (SCRAM-SHA-256) over TLS. The listener here is the service's own, started on the fleet's control database
// with a certificate made for the test.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { MongoClient } from 'mongodb';
import { createLogger } from '@basalt/http';
import { createProject, platform, testEnv } from '@basalt/testkit';
import { controlDb } from '../src/db/control.js';
import { startWireServer, type WireDeps } from '../src/wire/server.js';

const dir = mkdtempSync(join(tmpdir(), 'basalt-wire-tls-'));
const certFile = join(dir, 'cert.pem');
const keyFile = join(dir, 'key.pem');
const control = new pg.Pool({ connectionString: testEnv().databaseUrl, max: 2 });
const servers: { close: () => Promise<void> }[] = [];
const clients: MongoClient[] = [];
let cred: { username: string; password: string };

before(async () => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  const p = await createProject('docs-wire-tls');
  cred = await platform(`/projects/${p.ref}/documents/credentials`, { method: 'POST' });
});
after(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  for (const s of servers) await s.close();
  await control.end();
  rmSync(dir, { recursive: true, force: true });
});

async function listener(mode: 'allow' | 'require'): Promise<number> {
  // the handshake and authentication read only the credentials; no command here reaches a project
  const deps = { db: controlDb(control), log: createLogger('documents', 'silent') } as unknown as WireDeps;
  const wire = startWireServer(deps, { cert: readFileSync(certFile), key: readFileSync(keyFile), mode });
  servers.push(wire);
  return wire.listen(0);
}

async function ping(port: number, opts: { tls: boolean; auth?: boolean }): Promise<number> {
  const auth = opts.auth ? `${encodeURIComponent(cred.username)}:${encodeURIComponent(cred.password)}@` : '';
  const client = new MongoClient(`mongodb://${auth}localhost:${port}/?directConnection=true${opts.auth ? '&authSource=admin' : ''}`, {
    serverSelectionTimeoutMS: 5000, connectTimeoutMS: 5000, ...(opts.tls ? { tls: true, tlsCAFile: certFile } : {}),
  });
  clients.push(client);
  return (await client.db('admin').command({ ping: 1 })).ok;
}

test('allow: TLS and plain connections on one port; a platform credential authenticates over TLS', async () => {
  const port = await listener('allow');
  assert.equal(await ping(port, { tls: true }), 1);
  assert.equal(await ping(port, { tls: false }), 1);
  assert.equal(await ping(port, { tls: true, auth: true }), 1);
});

test('require: a plain connection is closed; TLS works; a certificate the client does not trust is refused', async () => {
  const port = await listener('require');
  assert.equal(await ping(port, { tls: true, auth: true }), 1);
  await assert.rejects(ping(port, { tls: false }), /closed|Server selection timed out|connection/i);
  const untrusting = new MongoClient(`mongodb://localhost:${port}/?directConnection=true`, { tls: true, serverSelectionTimeoutMS: 3000 });
  clients.push(untrusting);
  await assert.rejects(untrusting.db('admin').command({ ping: 1 }), /self.signed|certificate/i);
});
