/** A migration record (what the account object keeps) as the wire's `Migration`. */
import type { MigrationRecord } from '../../../durable-objects/account';
import type { Migration } from '../schemas/migrations';

const parse = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

/** The branch's lease ended (swept or deleted) while the migration still waited for a decision. */
export const isExpired = (m: MigrationRecord) =>
  (m.state === 'ready' || m.state === 'verify_failed') && (m.branch_state === 'deleting' || m.branch_state === 'deleted');

type ErrorJson = Record<string, unknown>;

/** PostgreSQL's own error: its message and fields can quote the data the SQL touched. */
const isPgError = (e: ErrorJson) => e.code === 'sql_error';

/** An error as a token without the `sql` scope sees it: PostgreSQL's words and fields withheld. */
function withoutData(e: ErrorJson): ErrorJson {
  if (!isPgError(e)) return e;
  return {
    type: e.type,
    code: e.code,
    message: 'PostgreSQL refused the SQL; its message and details are shown to tokens with the sql scope',
  };
}

/**
 * `detail`: whether the caller may see what the SQL read or what PostgreSQL said about the data
 * (a token with the `sql` scope, which could run the SQL itself). Without it, the record still
 * says what was tried and how it ended, but not the verification's rows or PostgreSQL's error.
 */
export function toMigration(m: MigrationRecord, opts: { detail: boolean } = { detail: true }): Migration {
  const verification = parse<NonNullable<Migration['verification']>>(m.verification_json);
  const error = parse<ErrorJson>(m.last_error_json);
  return {
    id: m.id,
    object: 'migration',
    state: isExpired(m) ? 'expired' : m.state,
    database_id: m.database_id,
    branch_id: m.branch_id,
    sql: m.sql,
    verify_sql: m.verify_sql,
    schema_diff: parse(m.diff_json),
    rehearsal: parse(m.rehearsal_json),
    verification:
      opts.detail || !verification
        ? verification
        : { passed: verification.passed, ...(verification.error ? { error: withoutData(verification.error) } : {}) },
    error: opts.detail || !error ? error : withoutData(error),
    expires_at: m.state === 'applied' || m.state === 'discarded' ? null : m.branch_expires_at,
    created_at: m.created_at,
    updated_at: m.updated_at,
    applied_at: m.applied_at,
    discarded_at: m.discarded_at,
  };
}
