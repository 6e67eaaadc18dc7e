/**
 * THE databases service layer. Every interface of dblease (HTTP routes, MCP tools, the SQL
 * endpoint, migrations, the WorkerEntrypoint service binding) calls these functions and nothing
 * below them, so scopes, isolation (another account's id is 404), idempotency and the
 * provisioning saga are enforced in exactly one place.
 *
 * Every function takes the caller's `AccountPrincipal` (from `accountAuth()` or the binding's
 * own authentication) and checks the scope it needs itself. Failures are thrown as `ApiError`
 * (src/errors.ts); the app's one `onError` turns them into the DESIGN §3 error shape.
 */
import type { AccountPrincipal } from '../auth/principal';
import type { Scope } from '../auth/tokens';
import type { CreateBranch, CreateDatabase, Database } from '../schemas/databases';
import { branchDatabase as runBranch } from './branch';
import { createDatabase as runCreate } from './create';
import { deleteDatabase as runDelete } from './delete';
import * as lease from './lease';

/** What a create or branch returned. */
export interface Created {
  /** With `connection` and `timings`. */
  database: Database;
  /**
   * 201: created by this call. 200: the same `Idempotency-Key` and body were seen before, and
   * `database` is the original response, replayed unchanged.
   */
  status: 201 | 200;
  /** `Server-Timing` header value (admit, provider, ready, total). */
  serverTiming: string;
}

export interface CreateOptions {
  /** The `Idempotency-Key`: the same key and body give the same result for 24 h; another body is 409. */
  idempotencyKey?: string;
}

export interface ListQuery {
  cursor?: string;
  /** 1-100, default 50. */
  limit?: number;
  /** `key:value`. */
  label?: string;
  state?: Database['state'];
  session_id?: string;
}

export interface DatabaseList {
  data: Database[];
  next_cursor: string | null;
}

export interface Deleted {
  /** `deleted`, or `deleting` (with `last_error`) when the provider failed and the sweeper will retry. */
  database: Database;
  /** 200: gone. 202: accepted; the provider delete failed and will be retried by cron. */
  status: 200 | 202;
  /** Seconds until the next retry, with 202. */
  retryAfter?: number;
}

export interface DatabasePatch {
  ttl_seconds?: number;
  labels?: Record<string, string>;
}

/** The context whose `waitUntil` carries clean-up that must not delay the answer. */
export type WaitUntil = Pick<ExecutionContext, 'waitUntil'>;

/** POST /v1/databases: a fresh database (warm pool, else on demand), ready to answer `select 1`. Scope `databases:write`. */
export function createDatabase(
  env: Env,
  ctx: WaitUntil,
  principal: AccountPrincipal,
  input: CreateDatabase,
  opts: CreateOptions = {},
): Promise<Created> {
  return runCreate(env, ctx, principal, input, opts);
}

/** POST /v1/databases/:id/branches: a copy-on-write branch of `parentId`. Scope `databases:write`. */
export function branchDatabase(
  env: Env,
  ctx: WaitUntil,
  principal: AccountPrincipal,
  parentId: string,
  input: CreateBranch,
  opts: CreateOptions = {},
): Promise<Created> {
  return runBranch(env, ctx, principal, parentId, input, opts);
}

/** GET /v1/databases/:id. Scope `databases:read`; `credentials: true` also needs `databases:credentials`. */
export function getDatabase(env: Env, principal: AccountPrincipal, id: string, opts: { credentials?: boolean } = {}): Promise<Database> {
  return lease.getDatabase(env, principal, id, opts);
}

/** GET /v1/databases: newest first, cursor-paginated. Scope `databases:read`. */
export function listDatabases(env: Env, principal: AccountPrincipal, query: ListQuery = {}): Promise<DatabaseList> {
  return lease.listDatabases(env, principal, query);
}

/** PATCH /v1/databases/:id: new TTL (from now, within policy) and/or labels. Scope `databases:write`. */
export function updateDatabase(env: Env, principal: AccountPrincipal, id: string, patch: DatabasePatch): Promise<Database> {
  return lease.updateDatabase(env, principal, id, patch);
}

/** POST /v1/databases/:id/keep: no expiry (within the active quota). Scope `databases:write`. */
export function keepDatabase(env: Env, principal: AccountPrincipal, id: string): Promise<Database> {
  return lease.keepDatabase(env, principal, id);
}

/** DELETE /v1/databases/:id: children need `cascade` (else 409 naming them). Scope `databases:write`. */
export function deleteDatabase(
  env: Env,
  ctx: WaitUntil,
  principal: AccountPrincipal,
  id: string,
  opts: { cascade?: boolean } = {},
): Promise<Deleted> {
  return runDelete(env, ctx, principal, id, opts);
}

/** POST /v1/databases/:id/credentials/rotate: a new password; the old one stops working. Scope `databases:write`. */
export function rotateCredentials(env: Env, principal: AccountPrincipal, id: string): Promise<Database> {
  return lease.rotateCredentials(env, principal, id);
}

/**
 * For the SQL endpoint and migrations: the live connection string of a ready database the
 * principal may use. Needs `scope` (default `sql`). Not ready → 409; unknown or another
 * account's → 404.
 */
export function connectionFor(
  env: Env,
  principal: AccountPrincipal,
  id: string,
  opts: { scope?: Scope } = {},
): Promise<{ uri: string; pooledUri: string; database: Database }> {
  return lease.connectionFor(env, principal, id, opts.scope ?? 'sql');
}
