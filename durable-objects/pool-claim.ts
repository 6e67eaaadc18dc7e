/**
 * A warm-pool claim made by the account object inside the create's admission call
 * (ARCHITECTURE.md, "The claim path"): admit, claim and, when nothing else is owed before the
 * 201, complete, in ONE round trip from the Worker. The pool hands over an entry whose
 * credentials were made and proven at fill time and are still sealed; they are opened here,
 * sealed again for the registry (bound to the database id), and returned once, to the create
 * that answers the agent. No provider call and no query are made on this path.
 */
import type { Sealer } from '../src/core/crypto/sealed';
import { poolPasswordContext, type PoolEntry } from '../src/neon/pool-entry';
import type { AdmitResult } from './admission';
import * as registry from './registry';
import * as sealed from './sealed-records';
import type { Store } from './store';
import type { DatabaseRecord } from './views';

/** Asked of `admitCreate` by a fresh create when the warm pool is enabled. */
export interface PoolClaimRequest {
  /** The pool (region) to claim from. */
  pool: string;
  /**
   * Complete the create in the same call: only when nothing is owed before the 201 (no seed to
   * run, no Idempotency-Key whose response must be stored with the completion).
   */
  complete: boolean;
}

export interface PoolClaimed {
  facts: registry.ProviderFacts & { role_name: string; database_name: string };
  /** The role's password, opened for this one answer (never logged, never stored in plain text). */
  password: string;
  /** When a `select 1` with these credentials last answered (at fill time, or a re-proof at claim). */
  proven_at: number;
  /** The record, now ready, when the claim completed the create. */
  completed: DatabaseRecord | null;
  /** Milliseconds inside the object: the admission checks, the pool's claim, the completion. */
  timings: { admit: number; claim: number; complete: number };
}

/** What admitCreate answers: the admission, and for a fresh create that asked, its claim (null: the pool had none). */
export type CreateAdmission =
  (Extract<AdmitResult, { outcome: 'admitted' }> & { claimed?: PoolClaimed | null }) | Extract<AdmitResult, { outcome: 'replayed' }>;

/**
 * Claims for the admitted database. Any failure before the hand-over is answered as "no entry"
 * (the create goes on demand): the admission stands and the Worker carries on with it. Should
 * the completion itself fail, the entry's project is deleted (it may already be written on the
 * record, so it never goes back to the pool), the admission is rolled back and the error thrown.
 */
export async function claimFromPool(
  env: Env,
  store: Store,
  sealer: () => Promise<Sealer>,
  admitted: Extract<AdmitResult, { outcome: 'admitted' }>,
  request: PoolClaimRequest,
  context: { accountId: string; admitMs: number },
): Promise<PoolClaimed | null> {
  const dbId = admitted.database.id;
  const stub = env.WARM_POOL.get(env.WARM_POOL.idFromName(request.pool));
  const started = Date.now();
  const entry: PoolEntry | null = await stub.claim(request.pool, { accountId: context.accountId, dbId }).catch(() => null);
  if (!entry) return null;
  let password: string;
  try {
    password = await (await sealer()).open(entry.passwordSealed, poolPasswordContext(entry));
  } catch {
    // Sealed under a key no longer configured: it can never be handed out.
    await stub.discard(request.pool, entry).catch(() => {});
    return null;
  }
  const claimedAt = Date.now();
  const facts = {
    provider_account: entry.accountId,
    project_id: entry.projectId,
    branch_id: entry.branchId,
    endpoint_id: entry.endpointId,
    host: new URL(entry.uriTemplate).host,
    role_name: entry.roleName,
    database_name: entry.databaseName,
  };
  try {
    const completed = request.complete
      ? await sealed.completeCreate(store, await sealer(), dbId, { ...facts, password }, undefined, Date.now())
      : (registry.recordProviderFacts(store, dbId, facts), null);
    return {
      facts,
      password,
      proven_at: entry.provenAt,
      completed,
      timings: { admit: context.admitMs, claim: claimedAt - started, complete: Date.now() - claimedAt },
    };
  } catch (err) {
    await stub.discard(request.pool, entry).catch(() => {});
    try {
      registry.failCreate(store, dbId, 'the warm-pool claim could not be completed', Date.now());
    } catch {
      // Left `provisioning`: the sweeper's case, as for any crash mid-create.
    }
    throw err;
  }
}
