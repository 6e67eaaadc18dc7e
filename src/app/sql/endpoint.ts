/**
 * The SQL endpoint's one code path, shared by `POST /v1/databases/:id/sql`, the `run_sql` MCP
 * tool and the service binding's `sql()`: the connection comes from the service layer (which
 * checks the `sql` scope and that the database is the caller's and ready), the caps from the
 * account's policy, and the account object records that the database was used.
 */
import { accountObject } from '../account-client';
import type { AccountPrincipal } from '../../core/auth/principal';
import { connectionFor } from '../databases/service';
import { invalidFields } from '../../core/errors';
import { unwrap } from '../../core/result';
import { executeSql, type SqlRequest, type SqlResponse } from './execute';
import type { SqlLimits } from './failures';
import { paramIssues } from './params';

/** The account's SQL caps (the policy defaults: 10 s, 10,000 rows, 10 MiB unless lowered; README, "Configuration"). */
export async function sqlLimits(env: Env, principal: AccountPrincipal): Promise<SqlLimits> {
  const { policy } = unwrap(await accountObject(env, principal.account_id).getAccount());
  return { statementTimeoutMs: policy.sql_statement_timeout_ms, maxRows: policy.sql_max_rows, maxBytes: policy.sql_max_bytes };
}

/** Best effort: a lost "used" mark must not fail the agent's query (the signal is coarse anyway). */
export async function markUsed(env: Env, principal: AccountPrincipal, dbId: string): Promise<void> {
  try {
    unwrap(await accountObject(env, principal.account_id).markUsed(dbId));
  } catch (err) {
    console.error(JSON.stringify({ at: 'sql', op: 'markUsed', database_id: dbId, error: String(err) }));
  }
}

/** Runs `request` on database `dbId` for `principal`; `body` is the serialized `response`. */
export async function runSql(
  env: Env,
  principal: AccountPrincipal,
  dbId: string,
  request: SqlRequest,
): Promise<{ response: SqlResponse; body: string }> {
  // Checked here rather than in the schema, so every caller gets the parameter's own path (a
  // failed member of the query/batch union would be reported as the whole body).
  const issues = paramIssues(request);
  if (issues.length > 0) throw invalidFields(issues);
  const [conn, limits] = await Promise.all([connectionFor(env, principal, dbId), sqlLimits(env, principal)]);
  // Marked whatever the SQL's outcome: the database was connected to, which is what churn asks.
  const [result] = await Promise.all([executeSql(env, conn.uri, request, limits), markUsed(env, principal, dbId)]);
  return result;
}
