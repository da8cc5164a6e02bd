// A plan's quotas as every service reads them from the registry (`project.quotas`). The names are the wire names:
// the platform's plans API and every quota error use them. null means unlimited (or, for sleep_after_s, never).

export const QUOTA_NAMES = [
  'storage_bytes', 'db_bytes', 'max_object_bytes', 'db_connections', 'statement_timeout_ms',
  'realtime_connections', 'realtime_messages_per_second', 'fn_invocations_per_day', 'fn_cpu_ms', 'fn_wall_ms',
  'ai_tokens_per_day', 'memory_count', 'requests_per_second', 'backup_retention_days', 'sleep_after_s',
] as const;

export type QuotaName = (typeof QUOTA_NAMES)[number];
export type Quotas = Readonly<Record<QuotaName, number | null>>;

/** Every quota null: what a project on the `unlimited` plan (or a plan naming no quota) has. */
export const UNLIMITED: Quotas = Object.freeze(Object.fromEntries(QUOTA_NAMES.map((n) => [n, null])) as Record<QuotaName, null>);

/** A stored quota document as services see it: every name present, anything that is not a finite number null. */
export function quotasFrom(raw: unknown): Quotas {
  const doc = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const out = {} as Record<QuotaName, number | null>;
  for (const n of QUOTA_NAMES) {
    const v = doc[n];
    out[n] = typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null;
  }
  return Object.freeze(out);
}

/** The smaller of a service's own limit and the plan's quota (null: the service's limit alone). */
export const capped = (own: number, quota: number | null): number => (quota === null ? own : Math.min(own, quota));

/**
 * A write the database refused (25006, read-only transaction) because the platform made the project's database
 * read-only over a quota: which quota, and what the caller can do, for each API to say in its own shape. Null for
 * any other error, and for a read-only transaction that is not the platform's doing.
 */
export function readOnlyOverQuota(err: unknown, project: { readOnlyReason: string | null } | null | undefined) {
  const quota = project?.readOnlyReason;
  if ((err as { code?: unknown } | null)?.code !== '25006' || !quota) return null;
  const details = `The project is over its plan's ${quota} quota, so its database is read-only; reads keep working`;
  const hint = 'Free space (delete rows, then VACUUM FULL) or move the project to a larger plan';
  /** `message`: both in one sentence, for an API whose errors carry no details or hint */
  return { quota, details, hint, message: `${details}. ${hint}` };
}
