/**
 * POST /v1/databases/:id/reset: a branch back to its parent's current state, or to the parent as
 * of `at` (within the parent's history window, src/app/databases/point-in-time.ts). Its id, host, role,
 * password and connection strings stay the same, so an agent's configuration keeps working; its
 * own writes are gone, and the provider ends the sessions open on it (the data under them is
 * replaced). On Neon this is the branch restore API with the parent's branch as the source;
 * the local stack implements the same route (local/neon-api/branching.ts `restore`), keeping the
 * branch's roles and their passwords.
 *
 * Refused with 409: a fresh database (nothing to reset to: `invalid_state`), an anonymised branch
 * (`invalid_state`: its parent's data is not masked), and a branch with live branches of its own
 * (`has_children`: they were taken from the data a reset would replace).
 * Scope `databases:write`; the answer carries `connection` with `databases:credentials`.
 */
import type { AccountPrincipal } from '../../core/auth/principal';
import { hasScope } from '../../core/auth/tokens';
import { Failure } from '../../core/errors';
import { unwrap } from '../../core/result';
import { neonClient } from '../../neon/index';
import { ownAccount, needScope } from '../access';
import { waitForSql } from '../sql/ready';
import { connectionOf } from './existing';
import type { Database, ResetDatabase } from '../schemas/databases';
import { checkResetAt, pointRefusal, since } from './point-in-time';
import { toDatabase } from './view';

const LIVE = new Set(['provisioning', 'ready']);

export async function resetDatabase(env: Env, principal: AccountPrincipal, id: string, input: ResetDatabase = {}): Promise<Database> {
  needScope(principal, 'databases:write');
  const stub = ownAccount(env, principal);
  const { database, password } = unwrap(await stub.getDatabase(id, { include_password: true, provider_action: true }));
  if (database.kind !== 'branch' || !database.parent_id) {
    throw new Failure('invalid_state', `database ${id} is a fresh database: only a branch can be reset to its parent`, {
      state: database.state,
    });
  }
  if (database.state !== 'ready') {
    throw new Failure('invalid_state', `database ${id} is ${database.state}; only a ready branch can be reset`, { state: database.state });
  }
  if (database.anonymized) {
    // Its parent holds the unmasked data, and the agent already holds this branch's credentials:
    // a reset would show it the originals before any masking could run again.
    throw new Failure(
      'invalid_state',
      `database ${id} is an anonymised branch: a reset would bring back its parent's unmasked data; delete it and branch again with the same rules`,
      {
        state: database.state,
        anonymized: true,
      },
    );
  }
  const children = await liveChildren(stub, id);
  if (children.length > 0) {
    throw new Failure('has_children', `database ${id} has branches of its own; delete them before resetting it`, { children });
  }
  const { database: parent } = unwrap(await stub.getDatabase(database.parent_id));
  const at = input.at === undefined ? undefined : checkResetAt(env, input.at, parent, Date.now());
  const { account, project_id: projectId, branch_id: branchId } = database.provider;
  if (!account || !projectId || !branchId || !parent.provider.branch_id) throw new Error(`ready database ${id} has no provider ids`);
  const client = neonClient(env, account, { tenant: principal.account_id });
  await client.restoreBranch(projectId, branchId, parent.provider.branch_id, { sourceTimestamp: at }).catch((err: unknown) => {
    throw (at && pointRefusal(env, err, { point: { kind: 'at', field: 'at', at }, parentSince: since(parent) }, Date.now())) || err;
  });
  const conn = connectionOf(database, password);
  // A 200 means the same connection string opens the reset branch.
  if (conn) await waitForSql(env, conn.direct);
  return toDatabase(database, { connection: hasScope(principal.scopes, 'databases:credentials') ? conn : undefined });
}

async function liveChildren(stub: ReturnType<typeof ownAccount>, id: string): Promise<string[]> {
  const found: string[] = [];
  let cursor: string | undefined;
  do {
    const page = unwrap(await stub.listDatabases({ cursor, limit: 100, states: ['provisioning', 'ready'] }));
    found.push(...page.databases.filter((d) => d.parent_id === id && LIVE.has(d.state)).map((d) => d.id));
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return found;
}
