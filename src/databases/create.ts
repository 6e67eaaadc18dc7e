/**
 * A fresh database: a provider project of its own. From the region's warm pool when the pool is
 * enabled (`DBLEASE_WARM_POOL_SIZE` > 0) and has an entry, else created on demand and named
 * `dblease-<account>-<db>`. Either way its role's password is one nobody has seen.
 */
import type { AccountPrincipal } from '../auth/principal';
import { invalidFields } from '../errors';
import { acquireFreshDatabase } from '../pool/claim';
import { createFreshDatabase } from '../pool/provision';
import { neonClient, providerAccounts, type ProviderRequestError } from '../provider/index';
import { chooseRegion, DEFAULT_REGION, regionConfig } from '../policy/regions';
import type { CreateDatabase } from '../schemas/databases';
import { runCreateSaga, type Admitted, type ProvisionHooks, type Provisioned } from './saga';
import type { CreateOptions, Created, WaitUntil } from './service';

export const warmPoolEnabled = (env: Env) => Number(env.DBLEASE_WARM_POOL_SIZE) > 0;

/** The region a request asks for, if the operator serves it (400 otherwise), else the default. */
export const regionFor = (env: Env, requested?: string) => chooseRegion(regionConfig(env), requested);

/** Deletes a project whose creation reply was lost: it can only be found by its name. */
async function deleteByName(env: Env, name: string, tenant: string): Promise<void> {
  for (const account of providerAccounts(env)) {
    const client = neonClient(env, account.id, { tenant });
    for (const p of await client.listProjects({ search: name })) if (p.name === name) await client.deleteProject(p.id);
  }
}

async function provisionFresh(env: Env, accountId: string, admitted: Admitted, hooks: ProvisionHooks): Promise<Provisioned> {
  const names = admitted.provider_names;
  const region = admitted.database.region;
  const regionId = region === DEFAULT_REGION ? undefined : region;
  hooks.undoWith(() => deleteByName(env, names.resource, accountId));
  const options = {
    roleName: names.role,
    databaseName: names.database,
    regionId,
    provider: { tenant: accountId },
    onProject: (projectId: string, accountId: string) => hooks.note({ provider_account: accountId, project_id: projectId }),
  };
  const made = warmPoolEnabled(env)
    ? await acquireFreshDatabase(env, {
        pool: region,
        name: names.resource,
        claimant: { accountId, dbId: admitted.database.id },
        ...options,
      })
    : await createFreshDatabase(env, names.resource, options);
  hooks.undoWith(() => neonClient(env, made.accountId, { tenant: accountId }).deleteProject(made.projectId));
  const uri = new URL(made.connectionUri);
  const facts = {
    provider_account: made.accountId,
    project_id: made.projectId,
    branch_id: made.branchId,
    endpoint_id: made.endpointId,
    host: uri.host,
    role_name: made.roleName,
    database_name: made.databaseName,
  };
  // A pool project's name does not carry this record's ids: the claim noted its project at once
  // (onProject); the rest of the facts now.
  if (made.source === 'pool') hooks.note(facts);
  return { facts, password: decodeURIComponent(uri.password) };
}

export function createDatabase(
  env: Env,
  ctx: WaitUntil,
  principal: AccountPrincipal,
  input: CreateDatabase,
  opts: CreateOptions,
): Promise<Created> {
  return runCreateSaga(
    env,
    ctx,
    principal,
    {
      kind: 'fresh',
      body: input,
      region: regionFor(env, input.region),
      provision: (admitted, hooks) => provisionFresh(env, principal.account_id, admitted, hooks),
      refusal: (err: ProviderRequestError) =>
        err.status === 400 && /region/i.test(err.message)
          ? invalidFields([{ path: 'region', message: 'not a region this deployment serves' }])
          : undefined,
    },
    opts,
  );
}
