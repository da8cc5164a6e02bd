// Usage reports: a project's (or, for operators, every project's) metered usage over a time range, as rows per
// hour, per day or per service with totals, in JSON or CSV. Times are UTC; `from` is rounded down to its hour
// (rows are whole hours) and `to` is exclusive; the default range is the last 24 hours.
import { z } from 'zod';
import { PEAK_METRICS } from '@basalt/metering';
import type { UsageDb, UsageRowOut } from '../db/usage.js';
import { platformErrors } from '../errors.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MAX_RANGE_DAYS = 400;

export const UsageQuery = z.object({
  from: z.string().max(40).optional(),
  to: z.string().max(40).optional(),
  group_by: z.enum(['hour', 'day', 'service']).default('hour'),
  format: z.enum(['json', 'csv']).default('json'),
  limit: z.coerce.number().int().min(1).max(100_000).default(10_000),
});
export type UsageQuery = z.infer<typeof UsageQuery>;

function parseTime(text: string, what: 'from' | 'to'): Date {
  const bareDay = /^\d{4}-\d{2}-\d{2}$/.test(text);
  // ISO 8601 only: Date.parse alone accepts forms like "1" or "March 7" that nobody means
  if (!bareDay && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/.test(text)) {
    throw platformErrors.validation(`${what}: expected an ISO 8601 time such as 2026-01-31T12:00:00Z, or a date`);
  }
  const d = new Date(bareDay ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(d.getTime())) throw platformErrors.validation(`${what}: not a valid time`);
  return d;
}

function rangeOf(q: UsageQuery): { from: Date; to: Date } {
  const to = q.to ? parseTime(q.to, 'to') : new Date();
  const from = q.from ? parseTime(q.from, 'from') : new Date(to.getTime() - DAY);
  if (from.getTime() >= to.getTime()) throw platformErrors.validation('from must be earlier than to');
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY) throw platformErrors.validation(`the range is at most ${MAX_RANGE_DAYS} days`);
  return { from: new Date(Math.floor(from.getTime() / HOUR) * HOUR), to };
}

const csvCell = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

function toCsv(rows: UsageRowOut[], groupBy: UsageQuery['group_by']): string {
  const cols = groupBy === 'service' ? ['ref', 'service', 'metric', 'value'] : ['ref', 'period', 'service', 'metric', 'value'];
  const lines = rows.map((r) => cols.map((c) => csvCell(r[c as keyof UsageRowOut])).join(','));
  return [cols.join(','), ...lines].join('\n') + '\n';
}

export function usageDomain(db: UsageDb) {
  /** ref null: every project */
  async function report(ref: string | null, q: UsageQuery): Promise<{ csv: string } | { json: unknown }> {
    if (ref !== null && !(await db.projectExists(ref))) throw platformErrors.projectNotFound(ref);
    const { from, to } = rangeOf(q);
    const range = { ref, from, to, peaks: PEAK_METRICS };
    const [found, totals] = await Promise.all([db.rows({ ...range, groupBy: q.group_by, limit: q.limit }), db.totals(range)]);
    const truncated = found.length > q.limit;
    const rows = truncated ? found.slice(0, q.limit) : found;
    if (q.format === 'csv') return { csv: toCsv(rows, q.group_by) };
    const shaped = ref === null ? rows : rows.map(({ ref: _r, ...rest }) => rest);
    return { json: { ...(ref ? { ref } : {}), from: from.toISOString(), to: to.toISOString(), group_by: q.group_by, totals, rows: shaped, truncated } };
  }
  return { report };
}

export type UsageDomain = ReturnType<typeof usageDomain>;
