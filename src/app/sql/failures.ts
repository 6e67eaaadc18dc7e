/**
 * How a failed statement becomes a dblease error. PostgreSQL's refusals are 422s that carry its
 * own fields (SQLSTATE, position, detail, hint…) so an agent can fix its SQL; the SQL caps are
 * 422s naming the cap; a database that cannot be reached is a 503 to retry.
 *
 * Every message says what may have been committed, and never claims less than could be true:
 * a request runs in one transaction that is only committed at its end, so a failure before then
 * committed nothing, unless the agent's own SQL ended that transaction part way (COMMIT,
 * ROLLBACK: what ran after it committed statement by statement), or the failure came while
 * committing, when the outcome cannot be known.
 */
import { Failure, providerUnavailable } from '../../core/errors';
import { DeadlineExceeded } from './deadline';
import { isTransientSqlError } from './ready';
import { WireBudgetExceeded } from './session';

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

/** What a failed request may have left committed: nothing, or it cannot be said. */
export type Committed = false | 'unknown';

/** Where the failure came: while the request's statements ran, or in its final COMMIT. */
export type Phase = 'statements' | 'commit';

export interface FailureContext {
  committed: Committed;
  phase?: Phase;
}

const NOTHING: FailureContext = { committed: false };

function committedNote({ committed, phase }: FailureContext): string {
  if (committed === false) return 'nothing was committed';
  if (phase === 'commit') return 'whether the transaction was committed is unknown';
  return (
    "this request's SQL ended its transaction part way (COMMIT or ROLLBACK), so what ran after that " +
    'committed statement by statement: some of it may have been committed'
  );
}

export const statementTimeout = (limits: SqlLimits, ctx: FailureContext = NOTHING, stopped = true) =>
  new Failure(
    'statement_timeout',
    `a statement ran longer than the account's ${limits.statementTimeoutMs} ms statement timeout and ` +
      (stopped ? 'was cancelled in PostgreSQL' : 'was signalled to stop, but PostgreSQL did not confirm that it stopped') +
      `; ${committedNote(ctx)}`,
    { limit_ms: limits.statementTimeoutMs, committed: ctx.committed },
  );

/** The caps on the answer are checked once the transaction has ended: say so, writes did happen. */
const RAN = 'The statements ran to the end and their transaction was committed; only the answer was refused.';

export const rowLimitExceeded = (limits: SqlLimits, rows: number) =>
  new Failure(
    'row_limit_exceeded',
    `the result has ${rows} rows, more than the account's limit of ${limits.maxRows}; add a LIMIT or page with WHERE. ${RAN}`,
    { limit_rows: limits.maxRows, rows, committed: true },
  );

/** `exact`: `bytes` is the serialized answer's size; otherwise a lower bound counted as rows came. */
export const responseTooLarge = (limits: SqlLimits, bytes: number, exact = true) =>
  new Failure(
    'response_too_large',
    `the result is ${exact ? '' : 'at least '}${bytes} bytes, more than the account's limit of ${limits.maxBytes} bytes; select fewer columns or rows. ${RAN}`,
    { limit_bytes: limits.maxBytes, bytes, committed: true },
  );

/** The database sent more than the session's byte budget, so the request was stopped where it was. */
export const wireBudgetExceeded = (limits: SqlLimits, budgetBytes: number, ctx: FailureContext) =>
  new Failure(
    'response_too_large',
    `the database sent more than ${budgetBytes} bytes, far past the account's limit of ${limits.maxBytes} bytes for an answer, ` +
      `so the request was stopped part way; ${committedNote(ctx)}. Select fewer columns or rows`,
    { limit_bytes: limits.maxBytes, committed: ctx.committed },
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

/**
 * The Failure for a failed SQL request; rethrows what is not about SQL (a 500 then). `ctx` is
 * what the caller knows of the transaction when it failed (default: nothing committed).
 */
export function sqlFailure(err: unknown, limits: SqlLimits, ctx: FailureContext = NOTHING): Failure {
  if (err instanceof Failure) return err;
  if (err instanceof DeadlineExceeded) return statementTimeout(limits, ctx, err.stopped);
  if (err instanceof WireBudgetExceeded) return wireBudgetExceeded(limits, err.budgetBytes, ctx);
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  if (isStatementTimeout(code, message)) return statementTimeout(limits, ctx);
  if (isTransientSqlError(err)) {
    return providerUnavailable(`the database could not be reached: ${message}; ${committedNote(ctx)}`, 2);
  }
  const fields = pgErrorFields(err);
  if (fields) {
    // 28P01/3D000: our own stored credentials or names failed, not the agent's SQL.
    if (code === '28P01' || code === '3D000') return providerUnavailable('the database refused its stored credentials; retry shortly', 2);
    const note = ctx.committed === false ? '' : ` (${committedNote(ctx)})`;
    return new Failure('sql_error', `${message}${note}`, fields);
  }
  throw err;
}
