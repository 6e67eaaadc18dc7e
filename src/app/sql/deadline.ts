/**
 * The statement timeout as a deadline the agent's SQL cannot lift.
 *
 * `statement_timeout` is an ordinary setting: the agent's own SQL may change it (`SET`, `SET
 * LOCAL`, `set_config`, `RESET`, a DO block), or end the transaction whose setting carried it
 * (COMMIT, ROLLBACK), and a role-level default is overridden the same way. So the server-side
 * timeout is only the first line. The Worker also keeps its own clock for every round trip that
 * runs the agent's SQL, and when that runs out it stops the work IN POSTGRESQL, over a second
 * connection with the same credentials (a role may signal its own backends):
 *
 * 1. `pg_cancel_backend(pid)` ends the statement as the timeout would have;
 * 2. if the work has still not ended a second later (PL/pgSQL can catch `query_canceled` and
 *    carry on), `pg_terminate_backend(pid, …)` ends the backend, which no SQL can catch; the
 *    backend rolls back its open transaction as it exits, and the call waits for the exit.
 *
 * Abandoning the request alone is not enough: the backend would keep running, holding its locks
 * and a connection slot, and could even commit later, for as long as the SQL liked. The pid comes
 * from `pg_backend_pid()` on the session before any agent SQL is sent (src/app/sql/session.ts).
 */
import { sqlOverHttp, type SqlEnv } from './driver';

/** Past the cap, the server's own timeout normally answers first; the Worker steps in after this. */
export const DEADLINE_GRACE_MS = 200;
/** How long a cancel has to end the work before the backend is terminated. */
const CANCEL_GRACE_MS = 1_000;
/** How long `pg_terminate_backend` waits for the backend to exit. */
const TERMINATE_WAIT_MS = 3_000;
/** After the backend was terminated, how long its connection has to report it. */
const SETTLE_MS = 1_000;
/** Bound on one signalling round trip over the second connection. */
const SIGNAL_TIMEOUT_MS = 5_000;

/** A session's backend, reachable from outside that session. */
export interface Backend {
  env: SqlEnv;
  uri: string;
  pid: number;
}

/** How the work ended once the deadline had passed: too late, with a value or an error, or not at all. */
export type Late<T> = { value: T } | { error: unknown } | null;

/** The deadline passed. `stopped`: PostgreSQL confirmed that the work ended (or its backend did). */
export class DeadlineExceeded<T = unknown> extends Error {
  override readonly name = 'DeadlineExceeded';
  constructor(
    readonly stopped: boolean,
    readonly late: Late<T>,
  ) {
    super('the deadline passed');
  }
}

type Signal = 'pg_cancel_backend($1)' | `pg_terminate_backend($1, ${number})`;

/** True if PostgreSQL says it signalled the backend; false if it could not be asked or refused. */
async function signal(backend: Backend, call: Signal): Promise<boolean> {
  try {
    const sql = sqlOverHttp(backend.env, backend.uri);
    const rows = (await sql.query(`select ${call} as ok`, [backend.pid], {
      fetchOptions: { signal: AbortSignal.timeout(SIGNAL_TIMEOUT_MS) },
    })) as { ok: boolean }[];
    return rows[0]?.ok === true;
  } catch {
    // Unreachable database, or the backend already gone: the caller judges by the work itself.
    return false;
  }
}

/** Stops the backend outright (used when its connection is being abandoned): true once it exited. */
export const terminateBackend = (backend: Backend) => signal(backend, `pg_terminate_backend($1, ${TERMINATE_WAIT_MS})`);

const sleep = (ms: number) => new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms));

/**
 * Awaits `work`, which runs on `backend`'s session. Within `ms` it resolves or rejects as the
 * work does; past it, the work is cancelled and then terminated as described above, and it
 * rejects with `DeadlineExceeded`, whatever the work did after the deadline (reported in `late`).
 */
export async function underDeadline<T>(backend: Backend, ms: number, work: Promise<T>): Promise<T> {
  let late: Late<T> = null;
  const settled = work.then(
    (value) => {
      late = { value };
      return 'settled' as const;
    },
    (error: unknown) => {
      late = { error };
      return 'settled' as const;
    },
  );
  let timer: ReturnType<typeof setTimeout> | null = null;
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), ms);
  });
  const first = await Promise.race([settled, deadline]);
  if (timer !== null) clearTimeout(timer);
  if (first === 'settled') return work;

  await signal(backend, 'pg_cancel_backend($1)');
  if ((await Promise.race([settled, sleep(CANCEL_GRACE_MS)])) === 'settled') throw new DeadlineExceeded(true, late);
  const terminated = await terminateBackend(backend);
  const ended = (await Promise.race([settled, sleep(SETTLE_MS)])) === 'settled';
  throw new DeadlineExceeded(terminated || ended, late);
}
