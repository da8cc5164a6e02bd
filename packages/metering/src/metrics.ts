// The metered quantities: one name per thing a project consumes, whether an hour's value is a sum of counts or
// the peak of sampled gauges, and which service records it. Reports aggregate a range by the same rule (sum, or max).

export type MetricKind = 'sum' | 'max';

export const METRICS = {
  /** HTTP requests the gateway forwarded for the project, per upstream service */
  requests: { kind: 'sum', unit: 'requests' },
  /** response body bytes the gateway sent to clients (WebSocket frames included), per upstream service */
  egress_bytes: { kind: 'sum', unit: 'bytes' },
  /** bytes of the project's stored objects, sampled */
  storage_bytes: { kind: 'max', unit: 'bytes' },
  /** size of the project's database (pg_database_size), sampled */
  db_bytes: { kind: 'max', unit: 'bytes' },
  fn_invocations: { kind: 'sum', unit: 'invocations' },
  /** wall time of invocations, from the request reaching the isolate to its response head */
  fn_duration_ms: { kind: 'sum', unit: 'ms' },
  /** WebSocket connections opened */
  realtime_connections: { kind: 'sum', unit: 'connections' },
  /** the most sockets the project held at once across replicas */
  realtime_peak_connections: { kind: 'max', unit: 'connections' },
  /** broadcast, presence and database-change messages delivered to subscribers (one per receiving socket) */
  realtime_messages: { kind: 'sum', unit: 'messages' },
  ai_requests: { kind: 'sum', unit: 'requests' },
  ai_input_tokens: { kind: 'sum', unit: 'tokens' },
  ai_output_tokens: { kind: 'sum', unit: 'tokens' },
  /** input + output */
  ai_tokens: { kind: 'sum', unit: 'tokens' },
  /** provider cost in millionths of a US dollar */
  ai_cost_micro_usd: { kind: 'sum', unit: 'micro_usd' },
  memory_adds: { kind: 'sum', unit: 'operations' },
  memory_searches: { kind: 'sum', unit: 'operations' },
} as const satisfies Record<string, { kind: MetricKind; unit: string }>;

export type Metric = keyof typeof METRICS;

/** Metrics whose hourly values are peaks: a range reports their max, never their sum. */
export const PEAK_METRICS: readonly Metric[] = (Object.keys(METRICS) as Metric[]).filter((m) => METRICS[m].kind === 'max');
