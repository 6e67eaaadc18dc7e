/** A migration record (what the account object keeps) as the wire's `Migration`. */
import type { MigrationRecord } from '../../durable-objects/account';
import type { Migration } from '../schemas/migrations';

const parse = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

/** The branch's lease ended (swept or deleted) while the migration still waited for a decision. */
export const isExpired = (m: MigrationRecord) =>
  (m.state === 'ready' || m.state === 'verify_failed') && (m.branch_state === 'deleting' || m.branch_state === 'deleted');

export function toMigration(m: MigrationRecord): Migration {
  return {
    id: m.id,
    object: 'migration',
    state: isExpired(m) ? 'expired' : m.state,
    database_id: m.database_id,
    branch_id: m.branch_id,
    sql: m.sql,
    verify_sql: m.verify_sql,
    schema_diff: parse(m.diff_json),
    verification: parse(m.verification_json),
    error: parse(m.last_error_json),
    expires_at: m.state === 'applied' || m.state === 'discarded' ? null : m.branch_expires_at,
    created_at: m.created_at,
    updated_at: m.updated_at,
    applied_at: m.applied_at,
    discarded_at: m.discarded_at,
  };
}
