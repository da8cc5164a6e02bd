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

/** The first slot strictly after `after`: missed slots are skipped, never caught up. */
export function nextSlot(schedule: string, after: Date): Date {
  return CronExpressionParser.parse(schedule, { tz: 'UTC', currentDate: after }).next().toDate();
}
