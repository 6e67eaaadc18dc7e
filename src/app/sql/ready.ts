/** The readiness check lives with the SQL driver's setup in the Neon layer, where the warm pool uses it too. */
export { isTransientSqlError, waitForSql, type ReadyOptions, type ReadyResult } from '../../neon/sql-ready';
