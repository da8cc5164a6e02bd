// Postgres access for every service: bounded pools, per-project pool LRU, migrations, request-role helpers, statement parameters.
export { createPool, withClient, withTransaction, ident, literal, setRequestRole, type Pool, type PoolClient, type PoolOptions } from './pool.js';
export { ProjectPools, readOnlyPool, type ProjectPoolsOptions, type ProjectConnection } from './project-pools.js';
export { migrate, migrateDir, readMigrations, type Migration } from './migrate.js';
export { SqlParams } from './params.js';
export { ensureDatabase } from './ensure-database.js';
export { pruneHistory, startHistoryPruner, type HistoryTable, type HistoryPruner, type PruneOptions } from './history.js';
export { asCaller, switchCaller, beginAsCallerSql, callerSettingsEntries, callerSettingsStatement, setConfigSql, type CallerSettings, type AsCallerOptions } from './request-context.js';
export { oneTrip, oneTripMany } from './one-trip.js';
export { DatabaseSilent, Sweeper, SILENCE_GRACE_MS, silenceBound, transactionBound, rollBackOrBroken } from './silence.js';
export { coalesced, batchSize } from './coalesce.js';
export { StatementNames, MAX_PREPARED_PER_CONNECTION } from './statement-names.js';
export { perDatabase, type JobLog } from './per-database.js';
export { analyzeOutgrown, plannerStatistics } from './statistics.js';
