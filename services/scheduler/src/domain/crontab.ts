// Crontab schedules in UTC, 5 fields (minute precision) or 6 (seconds first), and the next slot after a time.
import { CronExpressionParser } from 'cron-parser';
import { cronErrors } from '../errors.js';

export function validateSchedule(schedule: string): void {
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) throw cronErrors.invalidSchedule(schedule, `${fields.length} fields`);
  try {
    CronExpressionParser.parse(schedule, { tz: 'UTC' });
  } catch (e) {
    throw cronErrors.invalidSchedule(schedule, (e as Error).message);
  }
}

// A tick advances every due job; parsing each schedule every time was a visible share of the claim transaction.
const parsed = new Map<string, ReturnType<typeof CronExpressionParser.parse>>();

/** The first slot strictly after `after`: missed slots are skipped, never caught up. */
export function nextSlot(schedule: string, after: Date): Date {
  let expr = parsed.get(schedule);
  if (!expr) {
    expr = CronExpressionParser.parse(schedule, { tz: 'UTC', currentDate: after });
    if (parsed.size >= 10_000) parsed.clear();
    parsed.set(schedule, expr);
  } else expr.reset(after);
  return expr.next().toDate();
}
