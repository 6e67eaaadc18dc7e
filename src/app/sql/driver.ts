import { neon, neonConfig, Pool, type NeonQueryFunction, type PoolClient } from '@neondatabase/serverless';

/** The part of the Worker's env the SQL layer reads. */
export interface SqlEnv {
  /** `host:port` of the local stack's SQL proxies; empty in production. */
  NEON_LOCAL_PROXY?: string;
}

let configuredFor: string | undefined;

/**
 * Points @neondatabase/serverless at the local stack's proxies when `NEON_LOCAL_PROXY` is set:
 * SQL over HTTP to `/sql` (the connection string travels unchanged in `Neon-Connection-String`,
 * loopback endpoint host and all) and WebSockets to the `/v2?address=` relay, in clear text
 * because the relay is on this machine. With the variable empty, Neon's defaults stay in force.
 * neonConfig is per isolate, and one isolate serves one env, so setting it once is enough.
 */
export function configureSqlDriver(env: SqlEnv): void {
  const proxy = env.NEON_LOCAL_PROXY?.trim();
  if (!proxy || configuredFor === proxy) return;
  neonConfig.fetchEndpoint = () => `http://${proxy}/sql`;
  neonConfig.wsProxy = (host, port) => `${proxy}/v2?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  // Pipelining the startup only works when the server asks for a cleartext password; ours uses SCRAM.
  neonConfig.pipelineConnect = false;
  configuredFor = proxy;
}

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
