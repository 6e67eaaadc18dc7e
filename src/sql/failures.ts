/**
 * How a failed statement becomes a dblease error. PostgreSQL's refusals are 422s that carry its
 * own fields (SQLSTATE, position, detail, hint…) so an agent can fix its SQL; the SQL caps are
 * 422s naming the cap; a database that cannot be reached is a 503 to retry.
 */
import { ApiError, providerUnavailable } from '../errors';
import { isTransientSqlError } from './ready';

export interface SqlLimits {
  statementTimeoutMs: number;
  maxRows: number;
  maxBytes: number;
}

/** PostgreSQL's error fields as the driver reports them, and their names on the wire. */
const PG_FIELDS = [
  ['code', 'code'],
  ['severity', 'severity'],
  ['position', 'position'],
  ['detail', 'detail'],
  ['hint', 'hint'],
  ['where', 'where'],
  ['schema', 'schema'],
  ['table', 'table'],
  ['column', 'column'],
  ['dataType', 'data_type'],
  ['constraint', 'constraint'],
  ['internalPosition', 'internal_position'],
  ['internalQuery', 'internal_query'],
] as const;

const SQLSTATE = /^[0-9A-Z]{5}$/;
/** 57014 is also a cancel by hand; only the timeout's own message means the cap. */
const isStatementTimeout = (code: unknown, message: string) => code === '57014' && /statement timeout/i.test(message);

export const statementTimeout = (limits: SqlLimits) =>
  new ApiError(
    'unprocessable',
    'statement_timeout',
    `a statement ran longer than the account's ${limits.statementTimeoutMs} ms statement timeout and was cancelled; nothing was committed`,
    { limit_ms: limits.statementTimeoutMs },
  );

/** The caps on the answer are checked once the transaction has ended: say so, writes did happen. */
const RAN = 'The statements did run: any writes were committed; only the answer was refused.';

export const rowLimitExceeded = (limits: SqlLimits, rows: number) =>
  new ApiError(
    'unprocessable',
    'row_limit_exceeded',
    `the result has ${rows} rows, more than the account's limit of ${limits.maxRows}; add a LIMIT or page with WHERE. ${RAN}`,
    { limit_rows: limits.maxRows, rows, committed: true },
  );

export const responseTooLarge = (limits: SqlLimits, bytes?: number) =>
  new ApiError(
    'unprocessable',
    'response_too_large',
    // Without `bytes` the provider refused the answer on its side, after the statements ran or not.
    `the result is larger than the account's limit of ${limits.maxBytes} bytes; select fewer columns or rows. ${bytes !== undefined ? RAN : 'Writes in it may have been committed.'}`,
    { limit_bytes: limits.maxBytes, ...(bytes !== undefined ? { bytes, committed: true } : {}) },
  );

/** PostgreSQL's fields of a driver error, present ones only, or null if it carries no SQLSTATE. */
export function pgErrorFields(err: unknown): Record<string, string> | null {
  const source = err as Record<string, unknown> | null;
  if (!source || typeof source.code !== 'string' || !SQLSTATE.test(source.code)) return null;
  const out: Record<string, string> = {};
  for (const [from, to] of PG_FIELDS) {
    const value = source[from];
    if (value !== undefined && value !== null && value !== '') out[to] = String(value);
  }
  return out;
}

/** The ApiError for a failed SQL request; rethrows what is not about SQL (a 500 then). */
export function sqlFailure(err: unknown, limits: SqlLimits): ApiError {
  if (err instanceof ApiError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  // The driver's own abort (timeout plus grace) means the server-side timeout did not answer in time.
  if (isStatementTimeout(code, message) || (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))) {
    return statementTimeout(limits);
  }
  // Neon's (and the local stack's) SQL over HTTP refuses answers past 10 MiB on its side.
  if (/response is too large|too large/i.test(message) && typeof code !== 'string') return responseTooLarge(limits);
  if (isTransientSqlError(err)) return providerUnavailable(`the database could not be reached: ${message}`, 2);
  const fields = pgErrorFields(err);
  if (fields) {
    // 28P01/3D000: our own stored credentials or names failed, not the agent's SQL.
    if (code === '28P01' || code === '3D000') return providerUnavailable('the database refused its stored credentials; retry shortly', 2);
    return new ApiError('unprocessable', 'sql_error', message, fields);
  }
  throw err;
}
