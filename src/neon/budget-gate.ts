/**
 * The provider client's side of the request budget: before each HTTP exchange with the
 * provider, one token from the provider account's ProviderBudget object. When the budget is
 * spent, a foreground caller (an agent's create) waits briefly and then gets 503 with
 * Retry-After; a background caller (sweeps, reconciliation) waits its turn, which is what paces
 * a large sweep at the provider's rate.
 *
 * One RPC per provider call, deliberately not batched: tokens leased in batches would sit
 * unused in idle isolates and, counted when granted, starve the others; and a refill shared
 * across requests would tie one request's I/O to another's lifetime. The RPC costs about a
 * millisecond next to a provider call of tens (see bench/sweep.ts).
 */
import { ProviderUnavailable } from './errors';
import type { Priority } from '../core/policy/budget-math';
import { lifecycleConfig } from '../core/policy/lifecycle-config';

/**
 * The `PROVIDER_BUDGET` binding, as far as the gate needs it. Structural, so the provider layer
 * also type-checks in Node programs (benchmarks) that have no Workers types.
 */
interface BudgetNamespace {
  idFromName(name: string): unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  get(id: any): {
    take(
      want: number,
      priority: Priority,
      holdMs?: number,
      tenant?: string,
    ): Promise<{ granted: number; waitMs: number; grantId?: number; heavy?: true }>;
    release(grantId: number): Promise<void>;
  };
}

export interface BudgetEnv {
  PROVIDER_BUDGET?: BudgetNamespace;
}

export interface GateOptions {
  priority: Priority;
  /** Longest this call may wait for a token before giving up with 503. */
  maxWaitMs: number;
  /**
   * On whose behalf the calls are made: the dblease account id, or `background` for upkeep. A
   * contended budget gives each tenant its fair share (budget-math.ts); without one, the
   * calls are only held to the limits.
   */
  tenant?: string;
}

/** The tenant of all background work (sweeps, reconciliation, pool fills): one, whatever account it is for. */
export const BACKGROUND_TENANT = 'background';

export const FOREGROUND: GateOptions = { priority: 'foreground', maxWaitMs: 2_000 };
export const BACKGROUND: GateOptions = { priority: 'background', maxWaitMs: 120_000, tenant: BACKGROUND_TENANT };

/** The foreground gate's options for calls made on behalf of dblease account `accountId`. */
export const onBehalfOf = (accountId: string | undefined): GateOptions =>
  accountId === undefined ? FOREGROUND : { ...FOREGROUND, tenant: accountId };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Longest a token is held in the second's window if its release never arrives (the isolate
 * died): longer than any one exchange may take (10 s, src/neon/http.ts).
 */
export const MAX_HOLD_MS = 15_000;

/**
 * A `beforeRequest` hook for the provider client, or undefined where no budget is bound. It
 * resolves with the function that reports the exchange's end: the token stays in the budget's
 * second window from grant until then, so requests held up on their way cannot bunch into one
 * second at the provider. The report is not awaited: it costs the caller nothing.
 */
export function budgetGate(
  env: BudgetEnv,
  providerAccountId: string,
  opts: GateOptions = FOREGROUND,
): ((route: string) => Promise<(() => void) | void>) | undefined {
  const ns = env.PROVIDER_BUDGET;
  if (!ns) return undefined;
  return async () => {
    const started = Date.now();
    const stub = ns.get(ns.idFromName(providerAccountId));
    for (;;) {
      let answer: { granted: number; waitMs: number; grantId?: number; heavy?: true };
      try {
        answer = await stub.take(1, opts.priority, MAX_HOLD_MS, opts.tenant);
      } catch (err) {
        // The budget object unreachable must not stop clean-up or creates: the provider's own
        // 429 (retried by the client) still protects it. Logged so an operator sees it.
        console.error(JSON.stringify({ at: 'provider-budget', error: err instanceof Error ? err.message : String(err) }));
        return;
      }
      if (answer.granted > 0) {
        const id = answer.grantId;
        return id === undefined ? undefined : () => void stub.release(id).catch(() => {});
      }
      if (Date.now() - started + answer.waitMs > opts.maxWaitMs) {
        const why = answer.heavy
          ? "this account has had more than its fair share of dblease's request budget at the database provider for now"
          : "dblease's request budget at the database provider is spent for now";
        throw new ProviderUnavailable(why, Math.ceil(answer.waitMs / 1000));
      }
      await sleep(answer.waitMs);
    }
  };
}

/**
 * Provider-client options for background work (sweeps, reconciliation, pool fills): background
 * tokens of the budget, the longer background timeout, and no immediate re-send of a request
 * that got no answer (the caller's own back-off retries it).
 */
export function backgroundProviderOptions(
  env: BudgetEnv & Parameters<typeof lifecycleConfig>[0],
  providerAccountId: string,
): { beforeRequest: ReturnType<typeof budgetGate>; requestTimeoutMs: number; budgetMs: number; retryUnanswered: false } {
  const timeoutMs = lifecycleConfig(env).backgroundRequestTimeoutMs;
  return {
    beforeRequest: budgetGate(env, providerAccountId, BACKGROUND),
    requestTimeoutMs: timeoutMs,
    budgetMs: timeoutMs + 10_000,
    retryUnanswered: false,
  };
}
