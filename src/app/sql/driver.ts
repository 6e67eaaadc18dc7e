import { neon, Pool, type NeonQueryFunction, type PoolClient } from '@neondatabase/serverless';
import { configureSqlDriver, type SqlEnv } from '../../neon/sql-ready';

/** The driver's setup is in the Neon layer (src/neon/sql-ready.ts), shared with the warm pool. */
export { configureSqlDriver, type SqlEnv };

/** SQL over HTTP: one round trip per query or transaction, nothing to close. */
export function sqlOverHttp(env: SqlEnv, connectionString: string): NeonQueryFunction<false, false> {
  configureSqlDriver(env);
  return neon(connectionString);
}

/**
 * A WebSocket `Pool` for sessions and interactive transactions. In workerd it must be created,
 * used and ended within one request; call `end()` when done.
 */
export function sqlPool(env: SqlEnv, connectionString: string, max = 1): Pool {
  configureSqlDriver(env);
  // A compute that is waking answers in a few seconds; one that never answers is a 503, not a hang.
  const pool = new Pool({ connectionString, max, connectionTimeoutMillis: 15_000 });
  // A socket can report its close ("Network connection lost") after the pool has let the client
  // go; with no listener that event is an uncaught exception that fails the whole request.
  // Errors during a query still reject that query's promise.
  pool.on('error', () => {});
  pool.on('connect', (client: PoolClient) => client.on('error', () => {}));
  return pool;
}
