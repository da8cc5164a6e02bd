// The planner statistics of the auth tables: those a table has outgrown are taken anew (tenant migration 0016).
import type { Db } from './users.js';

export const statisticsDb = {
  /** Analyzes the auth tables holding more than twice the rows of their last analyze (and 1,000 more); returns them. */
  async analyzeOutgrown(db: Db): Promise<string[]> {
    const { rows } = await db.query<{ tables: string[] }>({ name: 'auth_analyze_outgrown', text: 'select auth.analyze_outgrown() as tables' });
    return rows[0]!.tables;
  },
};
