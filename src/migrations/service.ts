/**
 * Migrations, for the HTTP routes and the MCP tools alike: prepare (branch through the service
 * layer, so quota, spend and TTL apply; try the SQL there; verify; diff), apply (to the parent,
 * in one transaction, only if its schema is still the one the branch copied), discard. The
 * branch always goes once the migration is decided, and an undecided one expires with it.
 */
import { accountObject } from '../account-client';
import type { AccountPrincipal } from '../auth/principal';
import { needScope } from '../databases/access';
import { branchDatabase, connectionFor, deleteDatabase, type WaitUntil } from '../databases/service';
import { ApiError } from '../errors';
import { sha256Hex } from '../ids';
import { unwrap } from '../rpc';
import type { Migration, PrepareMigration } from '../schemas/migrations';
import { markUsed, sqlLimits } from '../sql/endpoint';
import { diffSchemas } from './diff';
import { applyToParent, tryOnBranch } from './run';
import { canonicalJson } from './snapshot';
import { isExpired, toMigration } from './view';

/** The label that ties a migration's branch to it (and tells an owner what the branch is for). */
export const MIGRATION_LABEL = 'dblease.migration';

const LIVE = new Set(['provisioning', 'ready']);

function needWriteAndSql(principal: AccountPrincipal) {
  needScope(principal, 'databases:write');
  needScope(principal, 'sql');
}

/** An error as stored with the migration: the API's own error body. */
const errorJson = (err: unknown) =>
  JSON.stringify(err instanceof ApiError ? err.toJSON() : { type: 'internal', code: 'internal', message: 'internal error' });

/** Deletes the migration's branch; a failure is logged and left to the lease's expiry and the sweeper. */
async function dropBranch(env: Env, ctx: WaitUntil, principal: AccountPrincipal, branchId: string | null) {
  if (!branchId) return;
  try {
    await deleteDatabase(env, ctx, principal, branchId, { cascade: true });
  } catch (err) {
    console.error(JSON.stringify({ at: 'migrations', op: 'drop branch', branch_id: branchId, error: String(err) }));
  }
}

export async function prepareMigration(
  env: Env,
  ctx: WaitUntil,
  principal: AccountPrincipal,
  databaseId: string,
  input: PrepareMigration,
  opts: { idempotencyKey?: string } = {},
): Promise<{ migration: Migration; status: 201 | 200 }> {
  needWriteAndSql(principal);
  // The parent must be the caller's and ready before anything is recorded (404 / 409).
  const [, limits] = await Promise.all([connectionFor(env, principal, databaseId), sqlLimits(env, principal)]);
  const stub = accountObject(env, principal.account_id);
  const requestHash = await sha256Hex(canonicalJson({ databaseId, ...input }));
  const recorded = unwrap(
    await stub.recordMigration({
      database_id: databaseId,
      sql: input.sql,
      verify_sql: input.verify_sql ?? null,
      token_id: principal.token_id,
      request_hash: requestHash,
      ...(opts.idempotencyKey !== undefined ? { idempotency_key: opts.idempotencyKey } : {}),
    }),
  );
  if (recorded.replayed) return { migration: toMigration(recorded.migration), status: 200 };
  const id = recorded.migration.id;
  const failed = async (err: unknown, branchId: string | null) => {
    unwrap(
      await stub.stepMigration(
        id,
        { kind: 'prepared', state: 'failed', branch_id: branchId, parent_fingerprint: null, diff_json: null, verification_json: null, last_error_json: errorJson(err) },
        principal.token_id,
      ),
    );
  };

  let branch;
  try {
    const labels = { [MIGRATION_LABEL]: id };
    branch = (await branchDatabase(env, ctx, principal, databaseId, { labels, ...(input.ttl_seconds ? { ttl_seconds: input.ttl_seconds } : {}) })).database;
  } catch (err) {
    await failed(err, null);
    throw err;
  }
  unwrap(await stub.stepMigration(id, { kind: 'branched', branch_id: branch.id }, principal.token_id));

  let outcome;
  try {
    outcome = await tryOnBranch(env, branch.connection!.direct, input.sql, input.verify_sql ?? null, limits);
  } catch (err) {
    await failed(err, branch.id);
    await dropBranch(env, ctx, principal, branch.id);
    throw err;
  }
  await markUsed(env, principal, branch.id);
  if (!outcome.ok) {
    // The SQL failed and was rolled back: the branch is the parent again, nothing to look at.
    await failed(outcome.error, branch.id);
    await dropBranch(env, ctx, principal, branch.id);
  } else {
    const verified = outcome.verification?.passed ?? true;
    unwrap(
      await stub.stepMigration(
        id,
        {
          kind: 'prepared',
          state: verified ? 'ready' : 'verify_failed',
          branch_id: branch.id,
          parent_fingerprint: outcome.fingerprint,
          diff_json: JSON.stringify(diffSchemas(outcome.before, outcome.after)),
          verification_json: outcome.verification ? JSON.stringify(outcome.verification) : null,
          last_error_json: verified ? null : JSON.stringify(outcome.verification!.error ?? null),
        },
        principal.token_id,
      ),
    );
  }
  return { migration: toMigration(unwrap(await stub.getMigration(id))), status: 201 };
}

export async function getMigration(env: Env, principal: AccountPrincipal, id: string): Promise<Migration> {
  needScope(principal, 'databases:read');
  return toMigration(unwrap(await accountObject(env, principal.account_id).getMigration(id)));
}

export async function applyMigration(env: Env, ctx: WaitUntil, principal: AccountPrincipal, id: string): Promise<Migration> {
  needWriteAndSql(principal);
  const stub = accountObject(env, principal.account_id);
  const current = unwrap(await stub.getMigration(id));
  // A retried apply whose first attempt succeeded gets the same answer.
  if (current.state === 'applied') return toMigration(current);
  if (isExpired(current)) throw new ApiError('gone', 'migration_expired', `migration ${id} expired with its branch; prepare it again`);
  if (current.state !== 'ready') {
    throw new ApiError('conflict', 'invalid_migration_state', `migration ${id} is ${current.state}; only a ready migration can be applied`, {
      state: current.state,
    });
  }
  const [parent, limits] = await Promise.all([connectionFor(env, principal, current.database_id), sqlLimits(env, principal)]);
  const claimed = unwrap(await stub.stepMigration(id, { kind: 'claim_apply' }, principal.token_id));
  try {
    await applyToParent(env, parent.uri, claimed.sql, claimed.parent_fingerprint!, limits);
  } catch (err) {
    unwrap(await stub.stepMigration(id, { kind: 'apply_failed', last_error_json: errorJson(err) }, principal.token_id));
    throw err;
  } finally {
    await markUsed(env, principal, current.database_id);
  }
  unwrap(await stub.stepMigration(id, { kind: 'applied' }, principal.token_id));
  await dropBranch(env, ctx, principal, claimed.branch_id);
  return toMigration(unwrap(await stub.getMigration(id)));
}

export async function discardMigration(env: Env, ctx: WaitUntil, principal: AccountPrincipal, id: string): Promise<Migration> {
  needWriteAndSql(principal);
  const stub = accountObject(env, principal.account_id);
  const discarded = unwrap(await stub.stepMigration(id, { kind: 'discard' }, principal.token_id));
  if (discarded.branch_state && LIVE.has(discarded.branch_state)) await dropBranch(env, ctx, principal, discarded.branch_id);
  return toMigration(unwrap(await stub.getMigration(id)));
}
