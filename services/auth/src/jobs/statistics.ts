// Keeps the planner's view of a project's auth tables in step with their growth. The hot statements are prepared
// once per connection and Postgres keeps their generic plan until a table's statistics change: a plan made while a
// new project's refresh_tokens held a hundred rows reads the whole table on every rotation (a hash join over a
// sequential scan), and goes on doing so as the table grows by a row per refresh, until autovacuum next analyzes it,
// up to a minute later. Measured through the fleet (bench/auth) on a fresh project: 1,400–1,900 refreshes/s with
// Postgres at 320–510 µs of CPU each, against 2,974/s and 123 µs once the table is analyzed at its size.
// So a table holding more than twice the rows it held at its last analyze (and at least 1,000 more) is analyzed
// again, checked at most every second per project database while requests use it: analyzed at each doubling, a
// table is analyzed a logarithmic number of times, each a sample of at most 30,000 rows (tenant migration 0016).
import type pg from 'pg';
import type { Logger } from '@basalt/http';
import { statisticsDb } from '../db/statistics.js';
import { perDatabase } from './per-database.js';

const EVERY_MS = 1_000;

export const plannerStatistics = (log: Logger) =>
  perDatabase('auth statistics', EVERY_MS, () => null, async (pool: pg.Pool) => void (await statisticsDb.analyzeOutgrown(pool)), log);
