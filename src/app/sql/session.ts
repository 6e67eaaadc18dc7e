/**
 * A WebSocket session on a tenant's database that the Worker can always stop: the SQL endpoint
 * and migrations run the agent's SQL only through one of these.
 *
 * - Its backend's pid is learned first, so a deadline can cancel or terminate it from outside
 *   (src/app/sql/deadline.ts), and the statement timeout is set for the session (not just the
 *   transaction), so a COMMIT in the agent's SQL does not drop it.
 * - It follows PostgreSQL's transaction status (each ReadyForQuery), so the caller can tell the
 *   truth about what may have been committed when something fails.
 * - It bounds the bytes the database may send for one round trip: the driver holds each protocol
 *   message whole in memory before it can be parsed, so one huge value, or millions of rows, would
 *   otherwise have to fit in the Worker before any cap could look at it. Past the budget the
 *   socket is dropped and the backend terminated.
 */
import type { PoolClient } from '@neondatabase/serverless';
import { DEADLINE_GRACE_MS, terminateBackend, underDeadline, type Backend } from './deadline';
import { sqlPool, type SqlEnv } from './driver';

export interface SessionOptions {
  /** The account's statement timeout: set server-side for the session, and the default deadline. */
  statementTimeoutMs: number;
  /** Most bytes the database may send for one `run`. */
  wireBudgetBytes: number;
  /** A statement to open the session with, in the same round trip (e.g. `begin isolation level …`). */
  begin?: string;
}

/** The database sent more than the session's budget; the socket was dropped. */
export class WireBudgetExceeded extends Error {
  override readonly name = 'WireBudgetExceeded';
  constructor(
    readonly budgetBytes: number,
    /** Whether PostgreSQL confirmed the backend exited. */
    readonly stopped: boolean,
  ) {
    super(`the database sent more than ${budgetBytes} bytes`);
  }
}

/** What the driver's client exposes of its protocol connection (node-postgres's `Connection`). */
interface ProtocolConnection {
  on(event: 'readyForQuery', listener: (msg: { status: string }) => void): void;
  stream: { on(event: 'data', listener: (chunk: Uint8Array) => void): void; destroy(): void };
}

export interface SqlSession {
  readonly client: PoolClient;
  readonly backend: Backend;
  /** True once PostgreSQL reported no transaction in progress after one had begun: the SQL ended it. */
  readonly leftTransaction: boolean;
  /**
   * One round trip of the agent's SQL under a deadline (default: the statement timeout plus
   * a little grace). Rejects with `DeadlineExceeded` past it, `WireBudgetExceeded` past the byte
   * budget, or as the work does.
   */
  run<T>(work: () => Promise<T>, ms?: number): Promise<T>;
}

/** The deadline of one round trip given the statement timeout. */
export const deadlineFor = (statementTimeoutMs: number) => statementTimeoutMs + DEADLINE_GRACE_MS;

export async function withSqlSession<T>(
  env: SqlEnv,
  uri: string,
  opts: SessionOptions,
  work: (session: SqlSession) => Promise<T>,
): Promise<T> {
  const pool = sqlPool(env, uri);
  let client: PoolClient | undefined;
  try {
    client = await pool.connect();
    const connection = (client as unknown as { connection: ProtocolConnection }).connection;

    let began = false;
    let leftTransaction = false;
    connection.on('readyForQuery', (msg) => {
      if (msg.status === 'I') leftTransaction ||= began;
      else began = true;
    });

    // Counted per `run`: what one round trip of the agent's SQL makes the database send.
    let received = 0;
    let overBudget = false;
    connection.stream.on('data', (chunk) => {
      received += chunk.byteLength;
      if (received > opts.wireBudgetBytes && !overBudget) {
        overBudget = true;
        connection.stream.destroy();
      }
    });

    // The timeout is an integer from the account's policy, so it can be spelled in the text.
    const timeout = String(Math.trunc(opts.statementTimeoutMs));
    const opening = `${opts.begin ? `${opts.begin}; ` : ''}select pg_backend_pid() as pid, set_config('statement_timeout', '${timeout}', false)`;
    const results = (await client.query(opening)) as unknown;
    const last = (Array.isArray(results) ? results.at(-1) : results) as { rows: { pid: number }[] };
    const backend: Backend = { env, uri, pid: last.rows[0]!.pid };

    return await work({
      client,
      backend,
      get leftTransaction() {
        return leftTransaction;
      },
      async run<R>(task: () => Promise<R>, ms = deadlineFor(opts.statementTimeoutMs)) {
        received = 0;
        let value: R | undefined;
        try {
          value = await underDeadline(backend, ms, task());
        } catch (err) {
          if (!overBudget) throw err;
        }
        if (overBudget) throw new WireBudgetExceeded(opts.wireBudgetBytes, await terminateBackend(backend));
        return value as R;
      },
    });
  } finally {
    // Never reused: the connection goes, and with it any transaction still open on it.
    client?.release(true);
    await pool.end().catch(() => {});
  }
}
