/**
 * Migrations, for the HTTP routes and the MCP tools alike: prepare (branch through the service
 * layer, so quota, spend and TTL apply; try the SQL there; verify; diff), apply (to the parent,
 * in one transaction, only if its schema is still the one the branch copied), discard. The
 * branch always goes once the migration is decided, and an undecided one expires with it.
 */
import { toFailure, wireJson } from '../http/error-mapping';
import { accountObject } from '../account-client';
import type { AccountPrincipal } from '../../core/auth/principal';
import { hasScope } from '../../core/auth/tokens';
import { needScope } from '../access';
import { branchDatabase, connectionFor, deleteDatabase, type WaitUntil } from '../databases/service';
import { Failure } from '../../core/errors';
import { newId, sha256Hex } from '../../core/ids';
import { unwrap } from '../../core/result';
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
const errorJson = (err: unknown) => JSON.stringify(wireJson(toFailure(err)));

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
  // The parent must be the caller's and ready before anything is tried (404 / 409).
  const [, limits] = await Promise.all([connectionFor(env, principal, databaseId), sqlLimits(env, principal)]);
  const stub = accountObject(env, principal.account_id);
  const admission = {
    request_hash: await sha256Hex(canonicalJson({ databaseId, ...input })),
    token_id: principal.token_id,
    ...(opts.idempotencyKey !== undefined ? { idempotency_key: opts.idempotencyKey } : {}),
  };
  const admitted = unwrap(await stub.admitMigration(admission));
  if (admitted.replay) return { migration: toMigration(admitted.replay), status: 200 };

  // The branch before the record: a refused branch (quota, spend, rate, depth) is thrown as it
  // is and leaves no migration behind. The id is chosen first, for the branch's label.
  const id = newId('mig');
  const labels = { [MIGRATION_LABEL]: id };
  const branch = (
    await branchDatabase(env, ctx, principal, databaseId, { labels, ...(input.ttl_seconds ? { ttl_seconds: input.ttl_seconds } : {}) })
  ).database;
  let recorded;
  try {
    recorded = unwrap(
      await stub.recordMigration({
        id,
        branch_id: branch.id,
        database_id: databaseId,
        sql: input.sql,
        verify_sql: input.verify_sql ?? null,
        ...admission,
      }),
    );
  } catch (err) {
    // Refused after all (a concurrent prepare took the last slot): the branch has no migration.
    await dropBranch(env, ctx, principal, branch.id);
    throw err;
  }
  if (recorded.replayed) {
    // A concurrent prepare with the same key recorded first: its migration is the answer.
    await dropBranch(env, ctx, principal, branch.id);
    return { migration: toMigration(recorded.migration), status: 200 };
  }
  const failed = async (err: unknown) => {
    unwrap(
      await stub.stepMigration(
        id,
        {
          kind: 'prepared',
          state: 'failed',
          branch_id: branch.id,
          parent_fingerprint: null,
          diff_json: null,
          verification_json: null,
          last_error_json: errorJson(err),
        },
        principal.token_id,
      ),
    );
  };

  let outcome;
  try {
    // Through the service layer (scope `sql`), not the branch's `connection`: that is shown only
    // to tokens with `databases:credentials`, which a migration does not need.
    const { uri } = await connectionFor(env, principal, branch.id);
    outcome = await tryOnBranch(env, uri, input.sql, input.verify_sql ?? null, limits);
  } catch (err) {
    await failed(err);
    await dropBranch(env, ctx, principal, branch.id);
    throw err;
  }
  await markUsed(env, principal, branch.id);
  if (!outcome.ok) {
    // The SQL failed and was rolled back: the branch is the parent again, nothing to look at.
    await failed(outcome.error);
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
          rehearsal_json: JSON.stringify(outcome.rehearsal),
        },
        principal.token_id,
      ),
    );
  }
  return { migration: toMigration(unwrap(await stub.getMigration(id))), status: 201 };
}

/**
 * Scope `databases:read`. The verification's rows and PostgreSQL's error detail can quote the
 * database's data, so only a token that could read it with SQL (scope `sql`) sees them.
 */
export async function getMigration(env: Env, principal: AccountPrincipal, id: string): Promise<Migration> {
  needScope(principal, 'databases:read');
  return toMigration(unwrap(await accountObject(env, principal.account_id).getMigration(id)), {
    detail: hasScope(principal.scopes, 'sql'),
  });
}

export async function applyMigration(env: Env, ctx: WaitUntil, principal: AccountPrincipal, id: string): Promise<Migration> {
  needWriteAndSql(principal);
  const stub = accountObject(env, principal.account_id);
  const current = unwrap(await stub.getMigration(id));
  // A retried apply whose first attempt succeeded gets the same answer.
  if (current.state === 'applied') return toMigration(current);
  if (isExpired(current)) throw new Failure('migration_expired', `migration ${id} expired with its branch; prepare it again`);
  if (current.state !== 'ready') {
    throw new Failure('invalid_migration_state', `migration ${id} is ${current.state}; only a ready migration can be applied`, {
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
