import type { Sealer } from '../src/core/crypto/sealed';
import { KEEP_AWAKE_BATCH_MS, KEEP_AWAKE_EVERY_MS } from '../src/core/policy/warm-pool-schedule';
import type { NeonClient } from '../src/neon/client';
import { poolPasswordContext, type PoolEntry } from '../src/neon/pool-entry';
import { waitForSql, type SqlEnv } from '../src/neon/sql-ready';
import { withPassword } from '../src/neon/uri';
import type { PoolStore } from './warm-pool-store';

/**
 * The warm pool's upkeep (durable-objects/warm-pool.ts runs it in each refill): proving entries
 * again, keeping awake entries awake, and clearing away rows that can never be handed out. Each
 * step works on the pool's store and answers for one kind of row; none fills.
 */
export interface PoolUpkeep {
  env: SqlEnv;
  store: PoolStore;
  sealer(): Promise<Sealer>;
  /** The provider client of an account, for background work (it leaves agents' creates their share of the budget). */
  client(providerAccount: string): NeonClient;
  /** Deletes a project the pool no longer holds, without waiting (a failure is reconciliation's orphan). */
  deleteInBackground(entry: { accountId: string; projectId: string }): void;
}

/** A re-proof wakes a suspended compute: well under this on Neon; one that cannot is dropped. */
const REPROOF_TIMEOUT_MS = 5_000;

/** Whether the provider deleted the project; a failure is reported, not thrown. */
export const deleted = (client: NeonClient, projectId: string): Promise<boolean> =>
  client.deleteProject(projectId).then(
    () => true,
    () => false,
  );

/** `select 1` with the entry's own credentials; when it answered, or null if it did not. */
export async function reprove(u: PoolUpkeep, entry: PoolEntry): Promise<number | null> {
  try {
    const password = await (await u.sealer()).open(entry.passwordSealed, poolPasswordContext(entry));
    await waitForSql(u.env, withPassword(entry.uriTemplate, password), { timeoutMs: REPROOF_TIMEOUT_MS });
    return Date.now();
  } catch {
    return null;
  }
}

/**
 * Proves awake entries again before their computes reach the provider's idle suspend: those
 * whose proof is due within KEEP_AWAKE_BATCH_MS. One that fails is dropped and its project
 * deleted, as at a claim.
 */
export async function keepAwake(u: PoolUpkeep): Promise<void> {
  const dueBy = Date.now() + KEEP_AWAKE_BATCH_MS;
  for (const entry of u.store.awakeEntries()) {
    if (entry.provenAt + KEEP_AWAKE_EVERY_MS > dueBy) continue;
    const provenAt = await reprove(u, entry);
    if (provenAt !== null) u.store.setProven(entry.id, provenAt);
    else if (u.store.takeById(entry.id)) u.deleteInBackground(entry);
  }
}

/** Entries from before sealed credentials (a pool upgraded in place) can never be claimed: delete them. */
export async function cleanLegacy(u: PoolUpkeep): Promise<void> {
  for (const e of u.store.legacyEntries()) {
    if (await deleted(u.client(e.accountId), e.projectId)) u.store.forget(e.id);
  }
}

/**
 * After a key rotation (README, "Rotating keys"), entries sealed under a previous key are
 * sealed again under the current one, so removing the previous key strands none. One that
 * opens under no configured key can never be handed out: its project is deleted.
 */
export async function resealStale(u: PoolUpkeep): Promise<void> {
  const sealer = await u.sealer();
  for (const e of u.store.readyEntries()) {
    if (!sealer.isStale(e.passwordSealed)) continue;
    const context = poolPasswordContext(e);
    const password = await sealer.open(e.passwordSealed, context).catch(() => null);
    if (password === null) {
      u.store.forget(e.id);
      u.deleteInBackground(e);
      continue;
    }
    u.store.replaceSeal(e.id, e.passwordSealed, await sealer.seal(password, context));
  }
}

/** Fills that an earlier incarnation left half done (not in `live`): delete their projects, drop the rows. */
export async function cleanStranded(u: PoolUpkeep, live: ReadonlySet<string>): Promise<void> {
  for (const s of u.store.strandedFills(live)) {
    // Keep the row if the delete failed, so the next refill tries again.
    if (s.projectId && s.accountId && !(await deleted(u.client(s.accountId), s.projectId))) continue;
    u.store.forget(s.id);
  }
}
