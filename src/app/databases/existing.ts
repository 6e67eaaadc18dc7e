/** Reading and changing existing databases: everything but create and delete. */
import type { DatabaseRecord } from '../../../durable-objects/account';
import type { AccountPrincipal } from '../../core/auth/principal';
import type { Scope } from '../../core/auth/tokens';
import { Failure, invalidFields } from '../../core/errors';
import { neonClient } from '../../neon/index';
import { unwrap } from '../../core/result';
import type { Database } from '../schemas/databases';
import { ownAccount, needScope, tokenCaller } from '../access';
import type { DatabaseList, DatabasePatch, ListQuery } from './types';
import { connection, toDatabase, type Connection } from './view';
import { noticeClaim } from './claim';
import { rewriteSecrets } from '../bindings/rotation';

const notReady = (r: DatabaseRecord) => new Failure('database_not_ready', `database ${r.id} is ${r.state}, not ready`, { state: r.state });

export function connectionOf(r: DatabaseRecord, password: string | null): Connection | undefined {
  if ((r.state !== 'ready' && r.state !== 'claimed') || !r.host || password === null) return undefined;
  return connection({ host: r.host, role: r.role_name, password, database: r.database_name });
}

export async function getDatabase(
  env: Env,
  principal: AccountPrincipal,
  id: string,
  opts: { credentials?: boolean } = {},
): Promise<Database> {
  needScope(principal, 'databases:read');
  if (opts.credentials) needScope(principal, 'databases:credentials');
  const { database: record, password } = unwrap(
    await ownAccount(env, principal).getDatabase(id, { include_password: opts.credentials === true }),
  );
  // A pending claim is settled on the way: accepted at the provider, or expired.
  const database = await noticeClaim(env, principal.account_id, record);
  return toDatabase(database, { connection: connectionOf(database, password) });
}

export async function listDatabases(env: Env, principal: AccountPrincipal, query: ListQuery = {}): Promise<DatabaseList> {
  needScope(principal, 'databases:read');
  let labels: Record<string, string> | undefined;
  if (query.label !== undefined) {
    const at = query.label.indexOf(':');
    if (at < 1) throw invalidFields([{ path: 'label', message: 'label filter is key:value' }]);
    labels = { [query.label.slice(0, at)]: query.label.slice(at + 1) };
  }
  const page = unwrap(
    await ownAccount(env, principal).listDatabases({
      cursor: query.cursor,
      limit: query.limit,
      labels,
      states: query.state ? [query.state] : undefined,
      session_id: query.session_id,
    }),
  );
  return { data: page.databases.map((r) => toDatabase(r)), next_cursor: page.next_cursor };
}

export async function updateDatabase(env: Env, principal: AccountPrincipal, id: string, patch: DatabasePatch): Promise<Database> {
  needScope(principal, 'databases:write');
  return toDatabase(unwrap(await ownAccount(env, principal).changeLease(id, patch, tokenCaller(principal))));
}

export async function keepDatabase(env: Env, principal: AccountPrincipal, id: string): Promise<Database> {
  needScope(principal, 'databases:write');
  return toDatabase(unwrap(await ownAccount(env, principal).keep(id, tokenCaller(principal))));
}

/**
 * A new password at the provider (the old one stops working when the reset's operations finish),
 * for tokens with `databases:write` and `databases:credentials` (the answer carries it),
 * then sealed in the account object. Should the second step fail, the stored password is stale
 * until the next rotation; the agent got a 5xx and rotates again.
 */
export async function rotateCredentials(env: Env, principal: AccountPrincipal, id: string): Promise<Database> {
  needScope(principal, 'databases:write');
  needScope(principal, 'databases:credentials');
  const stub = ownAccount(env, principal);
  const { database } = unwrap(await stub.getDatabase(id, { provider_action: true }));
  const { account, project_id: projectId, branch_id: branchId } = database.provider;
  if (database.state !== 'ready' || !account || !projectId || !branchId) throw notReady(database);
  const password = await neonClient(env, account, { tenant: principal.account_id }).resetRolePassword(
    projectId,
    branchId,
    database.role_name,
  );
  const stored = unwrap(await stub.storePassword(id, password, principal.token_id));
  const conn = connectionOf(stored, password);
  // Workers holding the old connection string as a secret get the new one (src/app/bindings/).
  if (conn) await rewriteSecrets(env, principal, id, conn);
  return toDatabase(stored, { connection: conn });
}

/**
 * For the SQL endpoint and migrations: the live connection string of a ready database the
 * principal may use, with `scope` (default `sql`). Not ready → 409; unknown or another
 * account's → 404.
 */
export async function connectionFor(
  env: Env,
  principal: AccountPrincipal,
  id: string,
  opts: { scope?: Scope } = {},
): Promise<{ uri: string; pooledUri: string; database: Database }> {
  needScope(principal, opts.scope ?? 'sql');
  const { database, password } = unwrap(await ownAccount(env, principal).getDatabase(id, { include_password: true }));
  const conn = connectionOf(database, password);
  if (!conn) throw notReady(database);
  return { uri: conn.direct, pooledUri: conn.pooled, database: toDatabase(database) };
}
