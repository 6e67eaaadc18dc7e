/**
 * Interactive Postgres sessions for migrations. A migration needs what SQL over HTTP cannot
 * give: several statements in one string (the simple query protocol), and decisions made inside
 * an open transaction (compare the parent's fingerprint, then run the SQL, then commit). So it
 * uses the driver's WebSocket `Client`, opened and closed within the request.
 */
import type { PoolClient } from '@neondatabase/serverless';
import { sqlPool, type SqlEnv } from '../sql/driver';

export async function withSession<T>(env: SqlEnv, uri: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const pool = sqlPool(env, uri);
  try {
    const client = await pool.connect();
    try {
      return await work(client);
    } finally {
      client.release();
    }
  } finally {
    await pool.end().catch(() => {});
  }
}

/**
 * Runs `work` in one transaction with the statement timeout set locally. It commits when
 * `work` returns `{ commit: true }`, and rolls back otherwise, or when `work` throws.
 */
export async function inTransaction<T>(
  client: PoolClient,
  statementTimeoutMs: number,
  work: () => Promise<{ commit: boolean; value: T }>,
): Promise<T> {
  await client.query('begin');
  let outcome: { commit: boolean; value: T };
  try {
    await client.query(`select set_config('statement_timeout', $1, true)`, [String(statementTimeoutMs)]);
    outcome = await work();
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  }
  await client.query(outcome.commit ? 'commit' : 'rollback');
  return outcome.value;
}

/** The agent's SQL as one simple-protocol string: any number of statements, no parameters. */
export async function runScript(client: PoolClient, sql: string) {
  const result = (await client.query(sql)) as unknown;
  // node-postgres returns one result per statement, or a bare result for a single statement.
  return (Array.isArray(result) ? result : [result]) as { rows: unknown[]; command: string; fields: { name: string }[] }[];
}
