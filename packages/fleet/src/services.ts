// The fleet: every process, its entry point, default port and the variable that tells the gateway where it is.
// Keep in sync with docker-compose.yml and k8s/ (tests/deploy-files.test.ts checks it).

export interface ServiceSpec {
  name: string;
  entry: string;
  port: number;
  /** env var through which the gateway (and peers) find this service */
  urlEnv?: string;
  /** node/V8 flags of this process, here and in docker-compose.yml and k8s/ */
  nodeArgs?: string[];
}

/**
 * The gateway's V8 flag: the old generation may grow to four times the live heap before a full collection (the most V8
 * itself allows). Left to itself, V8 sets that limit from how fast JavaScript allocates, which a stream barely does,
 * so it can sit only 10–24 MB above the live heap; but each socket read makes a new buffer, up to 32 MB of them before
 * a young collection frees them, and V8 counts them against that same headroom. Every body the fleet sends or
 * receives passes the gateway: when the limit sat that low, a 256 MB upload set off a full collection every 25 MB or
 * so, about 40 % of the gateway's CPU. With the flag, none: a 256 MB download cost the gateway 50–90 ms of CPU in every
 * run, against 80–190 ms without it (a fleet script timing curl through the gateway, /proc). Storage streams the same
 * bytes, but the flag raised its RSS past its 150 MB line under small uploads (bench/storage), so it keeps V8's limit.
 */
const GATEWAY_HEAP = '--heap-growing-percent=300';

export const SERVICES: ServiceSpec[] = [
  { name: 'platform', entry: 'services/platform/src/main.ts', port: 8001, urlEnv: 'PLATFORM_URL' },
  { name: 'rest', entry: 'services/rest/src/main.ts', port: 8002, urlEnv: 'REST_URL' },
  { name: 'auth', entry: 'services/auth/src/main.ts', port: 8003, urlEnv: 'AUTH_URL' },
  // storage streams bytes and keeps a small heap (about 25 MB live): a small young generation and an old-space
  // ceiling make V8 collect early, which keeps its resident memory under 150 MB under load (bench/storage: peak 137 MB
  // with 2 MB semi-spaces; 1 MB kept it at 125–131 MB but scavenged so often that a /health cost 44 µs of CPU, not 39)
  { name: 'storage', entry: 'services/storage/src/main.ts', port: 8004, urlEnv: 'STORAGE_URL', nodeArgs: ['--max-semi-space-size=2', '--max-old-space-size=128'] },
  { name: 'functions', entry: 'services/functions/src/main.ts', port: 8005, urlEnv: 'FUNCTIONS_URL' },
  { name: 'ai-gateway', entry: 'services/ai-gateway/src/main.ts', port: 8006, urlEnv: 'AI_GATEWAY_URL' },
  { name: 'memory', entry: 'services/memory/src/main.ts', port: 8007, urlEnv: 'MEMORY_URL' },
  { name: 'realtime', entry: 'services/realtime/src/main.ts', port: 8008, urlEnv: 'REALTIME_URL' },
  { name: 'scheduler', entry: 'services/scheduler/src/main.ts', port: 8009, urlEnv: 'SCHEDULER_URL' },
  // tenants' regular expressions evaluated in the process run in V8's linear-time engine (services/documents/src/engine/match.ts)
  { name: 'documents', entry: 'services/documents/src/main.ts', port: 8010, urlEnv: 'DOCUMENTS_URL', nodeArgs: ['--enable-experimental-regexp-engine'] },
  { name: 'gateway', entry: 'gateway/src/main.ts', port: 8000, nodeArgs: [GATEWAY_HEAP] },
];
