// GET …/ai/usage: totals over a date range, grouped by day, model, key or user, or the latest records; as
// JSON or CSV. Dates are UTC; `to` is exclusive when it has a time, and a bare date includes that whole day.
import { z } from 'zod';
import type { UsageDb } from '../db/usage.js';
import { aiErrors } from '../errors.js';

export const UsageQuery = z.object({
  from: z.string().max(40).optional(),
  to: z.string().max(40).optional(),
  group_by: z.enum(['day', 'model', 'key', 'user']).optional(),
  format: z.enum(['json', 'csv']).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(100),
});

export type UsageQuery = z.infer<typeof UsageQuery>;

const DAY = 86_400_000;

function parseDate(text: string, what: string, endOfDay: boolean): Date {
  const bareDay = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const d = new Date(bareDay ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(d.getTime())) throw aiErrors.badDate(what);
  return bareDay && endOfDay ? new Date(d.getTime() + DAY) : d;
}

const csvCell = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function toCsv(rows: Record<string, unknown>[], columns?: string[]): string {
  const cols = columns ?? Object.keys(rows[0] ?? {});
  return [cols.join(','), ...rows.map((r) => cols.map((c) => csvCell(r[c])).join(','))].join('\n') + '\n';
}

const GROUP_COLUMNS = ['group', 'requests', 'errors', 'input_tokens', 'output_tokens', 'cached_tokens', 'cost_usd'];

export function usageReport(db: UsageDb) {
  return {
    async report(ref: string, q: UsageQuery) {
      const to = q.to ? parseDate(q.to, 'to', true) : new Date(Date.now() + 1000);
      const from = q.from ? parseDate(q.from, 'from', false) : new Date(to.getTime() - 30 * DAY);
      const [totals, data] = await Promise.all([
        db.totals(ref, from, to),
        q.group_by ? db.grouped(ref, from, to, q.group_by) : db.records(ref, from, to, q.limit),
      ]);
      if (q.format === 'csv') {
        const columns = q.group_by ? (q.group_by === 'key' ? [...GROUP_COLUMNS.slice(0, 1), 'key_name', ...GROUP_COLUMNS.slice(1)] : GROUP_COLUMNS) : undefined;
        return { csv: toCsv(data as Record<string, unknown>[], columns) };
      }
      return { json: { from: from.toISOString(), to: to.toISOString(), group_by: q.group_by ?? null, totals, data } };
    },
  };
}

export type UsageReport = ReturnType<typeof usageReport>;
