import { neonClient, ProviderRequestError, type ClientOptions } from '../../neon/index';
import { regionOfPool } from '../../core/naming';
import { createFreshDatabase, type FreshOptions, type ProvisionedDatabase } from '../../neon/provision';
import { withPassword } from '../../neon/uri';

/** The warm pool of a region (or of `region#shard`). */
export function warmPool(env: Env, pool: string) {
  return env.WARM_POOL.get(env.WARM_POOL.idFromName(pool));
}

/**
 * A fresh database from the region's warm pool, or null when the pool is empty or disabled.
 * The entry is taken atomically by the pool; then its role's password is reset here, so the
 * connection string carries a password no one has seen (the fill-time one stops working). If
 * the reset fails the entry goes back to the pool and the failure is thrown
 * (`providerUnavailable`, or ProviderRequestError if the project is gone).
 */
export async function claimWarmDatabase(
  env: Env,
  pool: string,
  provider: ClientOptions = {},
  claim: { claimant?: { accountId: string; dbId: string }; onProject?: FreshOptions['onProject'] } = {},
): Promise<ProvisionedDatabase | null> {
  const started = Date.now();
  const stub = warmPool(env, pool);
  const entry = await stub.claim(pool, claim.claimant);
  const claimedAt = Date.now();
  if (!entry) return null;
  let password: string;
  try {
    // The project keeps its pool name: the record must point at it before anything else can fail.
    await claim.onProject?.(entry.projectId, entry.accountId);
    password = await neonClient(env, entry.accountId, provider).resetRolePassword(entry.projectId, entry.branchId, entry.roleName);
  } catch (err) {
    const gone = err instanceof ProviderRequestError && err.notFound;
    if (!gone) await stub.release(pool, entry).catch(() => {});
    throw err;
  }
  return {
    accountId: entry.accountId,
    projectId: entry.projectId,
    branchId: entry.branchId,
    endpointId: entry.endpointId,
    roleName: entry.roleName,
    databaseName: entry.databaseName,
    connectionUri: withPassword(entry.uriTemplate, password),
    pooledConnectionUri: withPassword(entry.pooledUriTemplate, password),
    source: 'pool',
    timings: { pool_claim: claimedAt - started, reset_password: Date.now() - claimedAt },
  };
}

/**
 * A fresh database the fastest way there is: from the warm pool when it has one, else created
 * on demand as project `name`. A pool whose claim fails at the provider is not retried on
 * demand: the provider is what failed, and the agent is better told 503 + Retry-After.
 */
export async function acquireFreshDatabase(
  env: Env,
  input: { pool: string; name: string; claimant?: { accountId: string; dbId: string } } & FreshOptions,
): Promise<ProvisionedDatabase> {
  const { pool, name, claimant, ...options } = input;
  let claimed: ProvisionedDatabase | null = null;
  try {
    claimed = await claimWarmDatabase(env, pool, options.provider, { claimant, onProject: options.onProject });
  } catch (err) {
    // A pool project that vanished is the pool's problem, not the agent's: create one instead.
    if (!(err instanceof ProviderRequestError && err.notFound)) throw err;
  }
  const region = regionOfPool(pool);
  return claimed ?? createFreshDatabase(env, name, { regionId: region === 'default' ? undefined : region, ...options });
}
