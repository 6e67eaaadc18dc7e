/**
 * Interactive Postgres sessions for migrations. A migration needs what SQL over HTTP cannot
 * give: several statements in one string (the simple query protocol), and decisions made inside
 * an open transaction (compare the parent's fingerprint, then run the SQL, then commit). So it
 * uses the SQL endpoint's stoppable WebSocket session (src/app/sql/session.ts): the agent's scripts,
 * the snapshots read around them and the COMMIT each run under the Worker's deadline, which
 * cancels, then terminates, the backend in PostgreSQL whatever the script did to its
 * statement timeout.
 */
import type { PoolClient } from '@neondatabase/serverless';
import { DeadlineExceeded } from '../sql/deadline';
import type { SqlEnv } from '../sql/driver';
import { wireBudget } from '../sql/execute';
import { pgErrorFields, sqlFailure, type SqlLimits } from '../sql/failures';
import { withSqlSession, type SqlSession } from '../sql/session';
import { PgQueryClass, type PgResult } from '../sql/statement';

export type { SqlSession } from '../sql/session';

export function withSession<T>(env: SqlEnv, uri: string, limits: SqlLimits, work: (session: SqlSession) => Promise<T>): Promise<T> {
  return withSqlSession(env, uri, { statementTimeoutMs: limits.statementTimeoutMs, wireBudgetBytes: wireBudget(limits) }, work);
}

/**
 * Runs `work` in one transaction. It commits when `work` returns `{ commit: true }`, and rolls
 * back otherwise, or when `work` throws. A COMMIT that fails is thrown as its Failure, saying
 * whether it may have committed (a COMMIT stopped at the deadline after it began may have).
 */
export async function inTransaction<T>(
  session: SqlSession,
  limits: SqlLimits,
  work: () => Promise<{ commit: boolean; value: T }>,
): Promise<T> {
  await session.client.query('begin');
  let outcome: { commit: boolean; value: T };
  try {
    outcome = await work();
  } catch (err) {
    // Bounded too: after a deadline the session may be stuck behind a statement that will not stop.
    await session.run(() => session.client.query('rollback')).catch(() => {});
    throw err;
  }
  if (!outcome.commit) {
    await session.run(() => session.client.query('rollback'));
    return outcome.value;
  }
  try {
    await session.run(() => session.client.query('commit'));
  } catch (err) {
    // Finished after the deadline: it did commit.
    if (err instanceof DeadlineExceeded && err.late && 'value' in err.late) return outcome.value;
    const refused = pgErrorFields(err instanceof DeadlineExceeded ? (err.late as { error?: unknown } | null)?.error : err) !== null;
    throw sqlFailure(err, limits, { committed: refused ? false : 'unknown', phase: 'commit' });
  }
  return outcome.value;
}

/** Rows kept per statement of a script: a verification shows this many; the rest are counted, not held. */
export const SCRIPT_ROWS_KEPT = 20;

export interface ScriptResult {
  command: string;
  rows: unknown[];
  fields: { name: string }[];
}

function script(client: PoolClient, sql: string): Promise<ScriptResult[]> {
  // No parameters, so the simple query protocol: any number of statements in the one string.
  const query = new PgQueryClass({ text: sql });
  const kept = new Map<PgResult, unknown[]>();
  query.on('row', (row: unknown, result: PgResult) => {
    const rows = kept.get(result) ?? [];
    if (rows.length < SCRIPT_ROWS_KEPT) rows.push(row);
    kept.set(result, rows);
  });
  return new Promise((resolve, reject) => {
    query.on('error', reject);
    query.on('end', (results: PgResult | PgResult[]) => {
      // One result per statement, or a bare result for a single statement.
      const list = Array.isArray(results) ? results : [results];
      resolve(list.map((r) => ({ command: r.command, rows: kept.get(r) ?? [], fields: r.fields })));
    });
    client.query(query as never);
  });
}

/** The agent's SQL as one string under the deadline: the whole script within the statement timeout. */
export const runScript = (session: SqlSession, sql: string) => session.run(() => script(session.client, sql));

/**
 * The open transaction's id: `assign` gives it one first. The same id before and after a script
 * means the script ran inside that one transaction; a COMMIT or ROLLBACK in it would have ended it.
 */
export const transactionId = (session: SqlSession, assign: boolean) =>
  session.run(
    async () =>
      (
        await session.client.query<{ xid: string | null }>(
          `select ${assign ? 'pg_current_xact_id()' : 'pg_current_xact_id_if_assigned()'}::text as xid`,
        )
      ).rows[0]!.xid,
  );
