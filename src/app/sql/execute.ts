/**
 * Runs an agent's query or batch on one database under the account's caps, over a session the
 * Worker can always stop (src/app/sql/session.ts). Every request is ONE transaction, committed only
 * after its last statement. The statement timeout is PostgreSQL's setting for the session and,
 * whatever the SQL does to that setting, the Worker's deadline on every statement and on the
 * COMMIT, enforced by cancelling or terminating the backend (src/app/sql/deadline.ts). Results keep
 * Neon's SQL-over-HTTP JSON shape.
 *
 * The row and byte caps are counted as rows arrive, nothing past them is kept, and the answer is
 * refused whole, never cut short. A refused answer does not undo what committed, which the error
 * says.
 */
import { DeadlineExceeded } from './deadline';
import type { SqlEnv } from './driver';
import { pgErrorFields, responseTooLarge, rowLimitExceeded, sqlFailure, type Committed, type SqlLimits } from './failures';
import { withSqlSession } from './session';
import { AnswerMeter, runStatement, type SqlResult } from './statement';

export type { SqlResult } from './statement';

export type IsolationLevel = 'read_uncommitted' | 'read_committed' | 'repeatable_read' | 'serializable';

export interface SqlStatement {
  query: string;
  params?: unknown[];
}

export interface SqlOptions {
  /** Rows as arrays in field order (Neon's `Neon-Array-Mode`). */
  array_mode?: boolean;
  /** Batches only. */
  isolation_level?: IsolationLevel;
  read_only?: boolean;
}

export type SqlRequest = (SqlStatement & Pick<SqlOptions, 'array_mode'>) | ({ queries: SqlStatement[] } & SqlOptions);

export type SqlResponse = SqlResult | { results: SqlResult[] };

const ISOLATION: Record<IsolationLevel, string> = {
  read_uncommitted: 'read uncommitted',
  read_committed: 'read committed',
  repeatable_read: 'repeatable read',
  serializable: 'serializable',
};

/** The request's BEGIN: a batch's isolation level and read-only mode, from fixed words only. */
export function beginStatement(request: SqlRequest): string {
  if (!('queries' in request)) return 'begin';
  return [
    'begin',
    request.isolation_level ? `isolation level ${ISOLATION[request.isolation_level]}` : '',
    request.read_only ? 'read only' : '',
  ]
    .filter(Boolean)
    .join(' ');
}

/**
 * Bytes the database may send for one statement. An answer within the caps needs far less: on the
 * wire a value is its text plus 4 bytes and a row 7 more, while its JSON is at least the text
 * plus a separator (so 3 × the byte cap covers even one-digit values), plus the statements'
 * protocol messages. Past this the request is stopped rather than buffered.
 */
export const wireBudget = (limits: SqlLimits) => 3 * limits.maxBytes + 8 * limits.maxRows + 1024 * 1024;

const byteLength = (text: string) => new TextEncoder().encode(text).byteLength;

/** The response, or a cap error: rows counted across the whole batch, bytes as serialized. */
export function enforceCaps(response: SqlResponse, limits: SqlLimits): { body: string } {
  const results = 'results' in response ? response.results : [response];
  const rows = results.reduce((n, r) => n + r.rows.length, 0);
  if (rows > limits.maxRows) throw rowLimitExceeded(limits, rows);
  const body = JSON.stringify(response);
  const bytes = byteLength(body);
  if (bytes > limits.maxBytes) throw responseTooLarge(limits, bytes);
  return { body };
}

/** Runs the request; the answer is Neon's JSON, already serialized and within the caps. */
export async function executeSql(
  env: SqlEnv,
  uri: string,
  request: SqlRequest,
  limits: SqlLimits,
): Promise<{ response: SqlResponse; body: string }> {
  const batch = 'queries' in request;
  const statements = batch ? request.queries : [request];
  const arrayMode = request.array_mode ?? false;
  const meter = new AnswerMeter(limits);
  const session = { statementTimeoutMs: limits.statementTimeoutMs, wireBudgetBytes: wireBudget(limits), begin: beginStatement(request) };
  const results = await withSqlSession(env, uri, session, async (s) => {
    const out: SqlResult[] = [];
    try {
      for (const statement of statements) out.push(await s.run(() => runStatement(s.client, statement, arrayMode, meter)));
    } catch (err) {
      const committed: Committed = s.leftTransaction ? 'unknown' : false;
      // PostgreSQL refused a statement: the session is sound, so end the transaction before answering.
      if (pgErrorFields(err)) await s.run(() => s.client.query('rollback')).catch(() => {});
      throw sqlFailure(err, limits, { committed });
    }
    const left = s.leftTransaction;
    try {
      await s.run(() => s.client.query('commit'));
    } catch (err) {
      // A COMMIT that finished after the deadline did commit: the answer is the truth.
      if (err instanceof DeadlineExceeded && err.late && 'value' in err.late) return out;
      // PostgreSQL's own refusal of the COMMIT (a deferred constraint, a cancel) rolled it back.
      const refused = pgErrorFields(err instanceof DeadlineExceeded ? (err.late as { error?: unknown } | null)?.error : err) !== null;
      throw sqlFailure(err, limits, { committed: !left && refused ? false : 'unknown', phase: 'commit' });
    }
    return out;
  }).catch((err: unknown) => {
    throw sqlFailure(err, limits);
  });
  if (meter.overRows) throw rowLimitExceeded(limits, meter.rows);
  if (meter.overBytes) throw responseTooLarge(limits, meter.valueChars, false);
  const response: SqlResponse = batch ? { results } : results[0]!;
  return { response, ...enforceCaps(response, limits) };
}
