/**
 * When the warm pool (durable-objects/warm-pool.ts) does its background work. The pool has one
 * alarm, and it is owed for three reasons; `nextPoolAlarm` takes the earliest of them. Pure:
 * `now` and the pool's facts are passed in (ARCHITECTURE.md, "The warm pool's schedule").
 *
 * - **A refill after claims** waits until the claims stop for REFILL_QUIET_MS, and at most
 *   REFILL_MAX_DEFER_MS after the first of them. A burst is served from what the pool holds; if
 *   refills started during it, they would compete with it. That means the provider budget on
 *   Neon, which the burst's misses need for on-demand creates, and every core of the machine on
 *   the local stack, where the provider's work happens too.
 * - **A retry after failed fills** backs off: 5 s, doubling, at most 5 minutes.
 * - **Keeping computes awake.** An awake entry's compute must not reach its idle suspend, which
 *   is SUSPEND_TIMEOUT_SECONDS: pool projects are built like every other (src/neon/provision.ts),
 *   so a claimed database scales to zero as soon as any. So each awake entry is proven again
 *   (`select 1` with its own credentials) every KEEP_AWAKE_EVERY_MS, half that timeout. The
 *   proof also keeps its readiness fresh.
 */
import { SUSPEND_TIMEOUT_SECONDS } from '../naming';

export const REFILL_QUIET_MS = 1_000;
export const REFILL_MAX_DEFER_MS = 5_000;
export const KEEP_AWAKE_EVERY_MS = (SUSPEND_TIMEOUT_SECONDS * 1000) / 2;
/**
 * Proofs due this close together are made by one alarm. Entries are filled over time, so their
 * proofs stay spread out as their fills were, and do not land on one burst of claims all at once.
 */
export const KEEP_AWAKE_BATCH_MS = 5_000;

/**
 * When a refill owed since the claim at `shortSince` starts. The last claim was at
 * `lastClaimAt`: the refill waits until claims have been quiet for `quietMs`, but never past
 * `maxDeferMs` after the first claim.
 */
export function deferredRefillAt(
  shortSince: number,
  lastClaimAt: number,
  quietMs = REFILL_QUIET_MS,
  maxDeferMs = REFILL_MAX_DEFER_MS,
): number {
  return Math.min(lastClaimAt + quietMs, shortSince + maxDeferMs);
}

/** The wait after `failures` consecutive failed fills, so a provider outage is not hammered. */
export function retryDelayMs(failures: number): number {
  return failures <= 0 ? 0 : Math.min(300_000, 5_000 * 2 ** (failures - 1));
}

/** When the next keep-awake proof is owed: `everyMs` after the oldest proof of an awake entry, if any. */
export function keepAwakeDueAt(oldestAwakeProof: number | null, everyMs = KEEP_AWAKE_EVERY_MS): number | null {
  return oldestAwakeProof === null ? null : oldestAwakeProof + everyMs;
}

/** The earliest of what is owed, or null when nothing is. */
export function nextPoolAlarm(owed: readonly (number | null | undefined)[]): number | null {
  const times = owed.filter((t): t is number => typeof t === 'number' && Number.isFinite(t));
  return times.length === 0 ? null : Math.min(...times);
}

/**
 * How many of a pool's entries keep their compute running: `DBLEASE_WARM_POOL_AWAKE`, at most
 * the pool's size. If it is unset or unreadable, none do, because a running compute costs compute
 * hours on Neon.
 */
export function awakeTarget(raw: string | undefined, poolTarget: number): number {
  const n = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isInteger(n) || n < 0) return 0;
  return Math.min(n, poolTarget);
}
