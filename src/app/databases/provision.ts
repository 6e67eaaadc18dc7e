/**
 * Step 2 of the create saga (src/app/databases/saga.ts): the provider resource of a new
 * database, with a password nobody has seen. Each returns what it made; should it fail half way,
 * what it made is named after the record (or went back to the warm pool), so the saga's undo
 * finds it by name.
 *
 * - Fresh: a project of its own, from the region's warm pool when the pool is enabled
 *   (`DBLEASE_WARM_POOL_SIZE` > 0) and has an entry (claimed by the account object at admission,
 *   durable-objects/pool-claim.ts; `fromPoolClaim`), else created on demand and named
 *   `dblease-<account>-<db>`.
 * - Branch: a copy-on-write Neon branch in the parent's project, with its own read-write
 *   endpoint. The provider copies the parent's roles WITH their passwords, so the inherited role
 *   gets a fresh password before anything is handed out: the parent's credentials never open
 *   the child, nor the child's the parent.
 */
import type { AdmitResult, PoolClaimed, ProviderFacts } from '../../../durable-objects/account';
import { SUSPEND_TIMEOUT_SECONDS } from '../../core/naming';
import { DEFAULT_REGION } from '../../core/policy/regions';
import { neonClient } from '../../neon/index';
import { createFreshDatabase } from '../../neon/provision';
import type { BranchPoint } from '../../core/policy/history-window';

export type Admitted = Extract<AdmitResult, { outcome: 'admitted' }>;

/** What the provider step made. */
export interface Provisioned {
  facts: ProviderFacts & { role_name: string; database_name: string };
  password: string;
  /** Where it came from: the warm pool, made on demand (no pool, or the pool was empty), or a branch. */
  source: 'pool' | 'on_demand' | 'branch';
}

export const warmPoolEnabled = (env: Env) => Number(env.DBLEASE_WARM_POOL_SIZE) > 0;

/** A warm-pool entry the account object claimed at admission: credentials made and proven at fill time. */
export const fromPoolClaim = (claimed: PoolClaimed): Provisioned => ({ facts: claimed.facts, password: claimed.password, source: 'pool' });

/** A fresh project made on demand: no warm pool, or it had no entry. */
export async function provisionFresh(env: Env, tenant: string, admitted: Admitted): Promise<Provisioned> {
  const names = admitted.provider_names;
  const region = admitted.database.region;
  const made = await createFreshDatabase(env, names.resource, {
    roleName: names.role,
    databaseName: names.database,
    regionId: region === DEFAULT_REGION ? undefined : region,
    provider: { tenant },
  });
  const uri = new URL(made.connectionUri);
  return {
    facts: {
      provider_account: made.accountId,
      project_id: made.projectId,
      branch_id: made.branchId,
      endpoint_id: made.endpointId,
      host: uri.host,
      role_name: made.roleName,
      database_name: made.databaseName,
    },
    password: decodeURIComponent(uri.password),
    source: made.source,
  };
}

/** `point`: the parent now, as of a time, or at a WAL position (checked by src/app/databases/point-in-time.ts). */
export async function provisionBranch(env: Env, tenant: string, admitted: Admitted, point: BranchPoint): Promise<Provisioned> {
  const parent = admitted.parent!;
  const { account, project_id: projectId, branch_id: parentBranchId } = parent.provider;
  if (!account || !projectId || !parentBranchId) throw new Error(`ready database ${parent.id} has no provider ids`);
  const client = neonClient(env, account, { tenant });
  const created = await client.createBranch(projectId, {
    parentId: parentBranchId,
    parentTimestamp: point.kind === 'at' ? point.at : undefined,
    parentLsn: point.kind === 'lsn' ? point.lsn : undefined,
    name: admitted.provider_names.resource,
    suspendTimeoutSeconds: SUSPEND_TIMEOUT_SECONDS,
  });
  const branchId = created.branch.id;
  const endpoint = created.endpoints.find((e) => String(e.type) === 'read_write') ?? created.endpoints[0];
  if (!endpoint) throw new Error(`the provider created branch ${branchId} without an endpoint`);
  const password = await client.resetRolePassword(projectId, branchId, parent.role_name);
  return {
    facts: {
      provider_account: account,
      project_id: projectId,
      branch_id: branchId,
      endpoint_id: endpoint.id,
      host: endpoint.host,
      role_name: parent.role_name,
      database_name: parent.database_name,
    },
    password,
    source: 'branch',
  };
}
