// Documents entry point: connects to the control plane, migrates its tables, starts the TTL sweeper, the
// MongoDB wire-protocol listener and the HTTP API (Data API actions and the management API).
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { migrateDir, SILENCE_GRACE_MS } from '@basalt/db';
import { createLogger, serve } from '@basalt/http';
import { connectControlPlane } from '@basalt/tenancy';
import { createApp } from './app.js';
import { LINEAR_REGEXPS } from './engine/match.js';
import { loadConfig } from './config.js';
import { startTtlSweeper } from './jobs/ttl-sweeper.js';
import { startWireServer } from './wire/server.js';

const config = loadConfig();
const log = createLogger('documents', config.LOG_LEVEL);
if (!LINEAR_REGEXPS) log.warn('node runs without --enable-experimental-regexp-engine: tenants\' regular expressions in aggregation stages run on the backtracking engine, which a pattern such as ^(a+)+$ can hold for minutes');
const plane = await connectControlPlane({
  service: 'documents', databaseUrl: config.DATABASE_URL, redisUrl: config.REDIS_URL, masterKey: config.BASALT_MASTER_KEY, log, silenceMs: config.DATABASE_SILENCE_MS, controlPoolMax: 10,
});
const { control, redis, registry } = plane;
await migrateDir(control, 'documents', new URL('../migrations/', import.meta.url));
const pools = plane.projectPools({ maxPerProject: config.DOCUMENTS_POOL_PER_PROJECT, silenceMs: config.DOCUMENTS_STATEMENT_TIMEOUT_MS + SILENCE_GRACE_MS });

let wirePort = config.DOCUMENTS_WIRE_PORT;
const { app, setDraining, db, run, rules, metaChannel, onRemoteMetaChange, dropProjectMeta } = createApp({ config, control, redis, registry, pools, log, wire: {
  host: config.DOCUMENTS_WIRE_HOST, port: () => wirePort, tls: config.DOCUMENTS_WIRE_TLS_CERT_FILE ? config.DOCUMENTS_WIRE_TLS_MODE : 'off',
} });
// catalogue changes (new collections, indexes, multikey paths) reach every replica's cache at once
const subscriber = new Redis(config.REDIS_URL, { lazyConnect: true });
subscriber.on('error', (err) => log.warn({ err: err.message }, 'redis subscriber error'));
await subscriber.connect();
await subscriber.subscribe(metaChannel);
subscriber.on('message', (ch: string, message: string) => ch === metaChannel && onRemoteMetaChange(message));
registry.onInvalidate((ref) => (ref === '*' ? undefined : dropProjectMeta(ref)));
const sweeper = startTtlSweeper({ db, registry, pools, log, intervalMs: config.DOCUMENTS_TTL_INTERVAL_MS });
const wire = startWireServer({ db, registry, run, rules, log }, config.DOCUMENTS_WIRE_TLS_CERT_FILE ? {
  cert: readFileSync(config.DOCUMENTS_WIRE_TLS_CERT_FILE), key: readFileSync(config.DOCUMENTS_WIRE_TLS_KEY_FILE!), mode: config.DOCUMENTS_WIRE_TLS_MODE,
} : undefined);
try {
  wirePort = await wire.listen(config.DOCUMENTS_WIRE_PORT);
} catch (err) {
  // another process holds the port (a local mongod, a second fleet): keep serving HTTP, wire on a free port
  if ((err as { code?: string }).code !== 'EADDRINUSE') throw err;
  wirePort = await wire.listen(0);
  log.warn({ wanted: config.DOCUMENTS_WIRE_PORT, port: wirePort }, 'wire port in use; listening on a free port instead');
}
log.info({ port: wirePort, tls: config.DOCUMENTS_WIRE_TLS_CERT_FILE ? config.DOCUMENTS_WIRE_TLS_MODE : 'off' }, 'mongodb wire protocol listening');

await serve(app, {
  port: config.PORT,
  log,
  drainDelayMs: config.DRAIN_DELAY_MS,
  setDraining,
  onClose: async () => {
    sweeper.stop();
    await wire.close();
    subscriber.disconnect();
    await plane.close();
  },
});
