// Store: the database handle (PostgreSQL or PGlite) and its migrations runner.
export { openStore, withConnection } from './database.js';
export {
  executeNamed,
  preparedStatementsEnabled,
  statementTemplate,
  usePreparedStatements,
} from './named-statements.js';
export type { Placeholders } from './named-statements.js';
export type { Database, Executor, Store, StoreOptions, Transaction } from './database.js';
export {
  arrayLiteral,
  MIGRATION_LOCK_KEY,
  migrationsFolder,
  rowsOf,
  runMigrations,
} from './migrate.js';
export type { MigrationResult } from './migrate.js';
export { DatabaseUnavailableError, isDatabaseUnavailable } from './unavailable.js';
export {
  isRetryableConflict,
  isUnstorableText,
  uniqueViolation,
  UNSTORABLE_TEXT_MESSAGE,
} from './db-errors.js';
export { apiKeys, core } from './schema.js';
export { runClusterJobOnce, scheduleClusterJob } from './cluster-job.js';
export type { ClusterJob } from './cluster-job.js';
