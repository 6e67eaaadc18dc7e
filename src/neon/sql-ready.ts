import { neon, neonConfig } from '@neondatabase/serverless';
import { providerUnavailable } from '../core/errors';

/**
 * The SQL driver's setup and the readiness check: Neon's own driver, so it sits with the Neon
 * layer, where the warm pool (durable-objects/warm-pool.ts) proves its entries at fill time and
 * the app (src/app/sql/) runs agents' SQL.
 */

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

/**
 * SQLSTATEs that mean "not yet" rather than "no": the compute is starting, or the connection
 * to it dropped on the way. A wrong password (28P01), a missing database (3D000) or bad SQL are
 * answers, returned to the caller at once.
 */
const TRANSIENT_SQLSTATE = /^(57P03|08\d\d\d|53300|57P01)$/;

/** Whether a failed query is worth repeating while a compute wakes. */
export function isTransientSqlError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code !== '') return TRANSIENT_SQLSTATE.test(code);
  // No SQLSTATE: the request never reached Postgres (network, timeout, proxy 5xx).
  const name = err.name;
  const source = (err as { sourceError?: unknown }).sourceError;
  return (
    name === 'TimeoutError' ||
    name === 'AbortError' ||
    source instanceof Error ||
    /HTTP status 5\d\d|fetch failed|network|connect/i.test(err.message)
  );
}

export interface ReadyOptions {
  /** Bound on all attempts together. A suspended Neon compute starts in well under 5 s. */
  timeoutMs?: number;
  /** Bound on one attempt. */
  attemptTimeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface ReadyResult {
  attempts: number;
  ms: number;
}

/**
 * Runs `select 1` until the database answers: what "ready" means for an agent. Retries only
 * transient failures, at 50 ms doubling to 800 ms; other failures are thrown as they are (they
 * carry a SQLSTATE the caller can act on), and running out of time is `providerUnavailable`.
 */
export async function waitForSql(env: SqlEnv, connectionString: string, options: ReadyOptions = {}): Promise<ReadyResult> {
  configureSqlDriver(env);
  const timeoutMs = options.timeoutMs ?? 15_000;
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 5_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    const left = timeoutMs - (Date.now() - started);
    try {
      const sql = neon(connectionString, { fetchOptions: { signal: AbortSignal.timeout(Math.max(1, Math.min(attemptTimeoutMs, left))) } });
      await sql`select 1`;
      return { attempts: attempt, ms: Date.now() - started };
    } catch (err) {
      if (!isTransientSqlError(err)) throw err;
      const delay = Math.min(800, 50 * 2 ** (attempt - 1));
      if (Date.now() - started + delay >= timeoutMs) {
        throw providerUnavailable(`the database did not accept connections within ${timeoutMs} ms`, 5);
      }
      await sleep(delay);
    }
  }
}
