import { placeProject, providerAccount, providerAccounts, type ProviderEnv } from './accounts';
import { NeonClient } from './client';
import { budgetGate, FOREGROUND, onBehalfOf, type BudgetEnv, type GateOptions } from './budget-gate';
import { DEFAULT_OPTIONS, type ProviderOptions } from './http';

export { DEFAULT_ACCOUNT_ID, placeProject, providerAccount, providerAccounts } from './accounts';
export type { ProviderAccount, ProviderEnv } from './accounts';
export { NeonClient } from './client';
export type { ConnectionUriInput, CreateBranchInput, CreatedBranch, CreatedProject, CreateProjectInput } from './types';
export { ProviderOperationError, ProviderRequestError, ProviderUnavailable } from './errors';
export { DEFAULT_OPTIONS } from './http';
export type { ProviderOptions } from './http';

/** Provider options, and on whose behalf the calls are made. */
export interface ClientOptions extends Partial<ProviderOptions> {
  /**
   * The dblease account the calls are for: its fair share of the request budget when the
   * budget is contended (src/core/policy/budget-math.ts).
   */
  tenant?: string;
}

/**
 * The client for the account a database lives on (its stored provider account id). Every call
 * it makes first takes a token from that account's shared request budget (foreground, for
 * `options.tenant`, unless the caller passes its own `beforeRequest`, as sweeps do with the
 * background gate).
 */
export function neonClient(env: ProviderEnv & BudgetEnv, accountId: string, options: ClientOptions = {}): NeonClient {
  const { tenant, ...provider } = options;
  return new NeonClient(providerAccount(env, accountId), {
    ...DEFAULT_OPTIONS,
    beforeRequest: budgetGate(env, accountId, onBehalfOf(tenant)),
    ...provider,
  });
}

/**
 * A client on the account where a new project should go (see `placeProject`), on its budget too
 * (the foreground share unless `gate` says otherwise: pool fills are background work), for
 * `options.tenant` if the gate names none.
 */
export function placedClient(
  env: ProviderEnv & BudgetEnv,
  load?: Record<string, number>,
  options: ClientOptions = {},
  gate: GateOptions = FOREGROUND,
): NeonClient {
  const { tenant, ...provider } = options;
  const account = placeProject(providerAccounts(env), load);
  const gated = gate.tenant === undefined && tenant !== undefined ? { ...gate, tenant } : gate;
  return new NeonClient(account, { ...DEFAULT_OPTIONS, beforeRequest: budgetGate(env, account.id, gated), ...provider });
}
