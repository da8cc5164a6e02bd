// Every QUOTA_CHECK_INTERVAL_MS: each project's database is reconciled with its plan (db-quotas): read-only while
// over db_bytes, writable again once under, connection limit and statement timeout as the plan says. Several
// platform replicas may run it at once: every step compares before it changes anything.
import type { Logger } from '@basalt/http';
import type { DbQuotasDomain } from '../domain/db-quotas.js';

export function startQuotaCheck(dbQuotas: DbQuotasDomain, intervalMs: number, log: Logger): { stop: () => void } {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    dbQuotas.checkAll()
      .then((refs) => refs.length && log.info({ refs }, 'database quotas applied'))
      .catch((err: Error) => log.warn({ err: err.message }, 'database quota check failed'))
      .finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
