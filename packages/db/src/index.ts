// Postgres access for every service: bounded pools, per-project pool LRU, migrations, request-role helpers.
export { createPool, withTransaction, ident, literal, setRequestRole, type Pool, type PoolClient, type PoolOptions } from './pool.js';
export { ProjectPools, type ProjectPoolsOptions, type ProjectConnection } from './project-pools.js';
export { migrate, migrateDir, readMigrations, type Migration } from './migrate.js';
export { ensureDatabase } from './ensure-database.js';
