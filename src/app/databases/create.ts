/**
 * POST /v1/databases and POST /v1/databases/:id/branches: both run the one create saga
 * (src/app/databases/saga.ts). A fresh database goes to a region the operator serves.
 */
import type { AccountPrincipal } from '../../core/auth/principal';
import { chooseRegion, regionConfig } from '../../core/policy/regions';
import type { CreateBranch, CreateDatabase } from '../schemas/databases';
import { runCreate } from './saga';
import type { CreateOptions, Created, WaitUntil } from './types';

/** A fresh database, ready to answer `select 1`. Scope `databases:write`. */
export function createDatabase(
  env: Env,
  ctx: WaitUntil,
  principal: AccountPrincipal,
  input: CreateDatabase,
  opts: CreateOptions = {},
): Promise<Created> {
  // The region is checked against the operator's list before anything is admitted (400 naming `region`).
  const region = chooseRegion(regionConfig(env), input.region);
  return runCreate(env, ctx, principal, { kind: 'fresh', region, body: input }, opts);
}

/** A copy-on-write branch of `parentId`, with credentials of its own. Scope `databases:write`. */
export function branchDatabase(
  env: Env,
  ctx: WaitUntil,
  principal: AccountPrincipal,
  parentId: string,
  input: CreateBranch,
  opts: CreateOptions = {},
): Promise<Created> {
  return runCreate(env, ctx, principal, { kind: 'branch', parentId, body: input }, opts);
}
