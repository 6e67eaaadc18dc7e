/**
 * A branch: a copy-on-write Neon branch in the parent database's project, with its own
 * read-write endpoint. The provider copies the parent's roles WITH their passwords, so the
 * inherited role (which owns the copied data) gets a fresh password before anything is handed
 * out: the parent's credentials never open the child, nor the child's the parent.
 */
import type { AccountPrincipal } from '../auth/principal';
import { invalidFields } from '../errors';
import { SUSPEND_TIMEOUT_SECONDS } from '../pool/names';
import { neonClient, type ProviderRequestError } from '../provider/index';
import type { CreateBranch } from '../schemas/databases';
import { runCreateSaga, type Admitted, type ProvisionHooks, type Provisioned } from './saga';
import type { CreateOptions, Created, WaitUntil } from './service';

async function provisionBranch(
  env: Env,
  tenant: string,
  admitted: Admitted,
  input: CreateBranch,
  hooks: ProvisionHooks,
): Promise<Provisioned> {
  const parent = admitted.parent!;
  const { account, project_id: projectId, branch_id: parentBranchId } = parent.provider;
  if (!account || !projectId || !parentBranchId) throw new Error(`ready database ${parent.id} has no provider ids`);
  const client = neonClient(env, account, { tenant });
  const name = admitted.provider_names.resource;
  // A lost reply leaves a branch we know only by name.
  hooks.undoWith(async () => {
    for (const b of await client.listBranches(projectId)) if (b.name === name) await client.deleteBranch(projectId, b.id);
  });
  const created = await client.createBranch(projectId, {
    parentId: parentBranchId,
    parentTimestamp: input.point_in_time,
    name,
    suspendTimeoutSeconds: SUSPEND_TIMEOUT_SECONDS,
  });
  const branchId = created.branch.id;
  hooks.undoWith(() => client.deleteBranch(projectId, branchId));
  const endpoint = created.endpoints.find((e) => String(e.type) === 'read_write') ?? created.endpoints[0];
  if (!endpoint) throw new Error(`the provider created branch ${branchId} without an endpoint`);
  const facts = {
    provider_account: account,
    project_id: projectId,
    branch_id: branchId,
    endpoint_id: endpoint.id,
    host: endpoint.host,
    role_name: parent.role_name,
    database_name: parent.database_name,
  };
  hooks.note(facts);
  const password = await client.resetRolePassword(projectId, branchId, parent.role_name);
  return { facts, password };
}

export function branchDatabase(
  env: Env,
  ctx: WaitUntil,
  principal: AccountPrincipal,
  parentId: string,
  input: CreateBranch,
  opts: CreateOptions,
): Promise<Created> {
  return runCreateSaga(
    env,
    ctx,
    principal,
    {
      kind: 'branch',
      parentId,
      body: input,
      provision: (admitted, hooks) => provisionBranch(env, principal.account_id, admitted, input, hooks),
      // Point-in-time outside the provider's history (or not offered by it) is the caller's to fix.
      refusal: (err: ProviderRequestError) =>
        input.point_in_time !== undefined && err.status === 400 && /parent_timestamp|point-in-time/i.test(err.message)
          ? invalidFields([{ path: 'point_in_time', message: err.message.replace(/^.*?: provider answered 400[^:]*: /, '') }])
          : undefined,
    },
    opts,
  );
}
