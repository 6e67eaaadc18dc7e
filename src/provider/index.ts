import { placeProject, providerAccount, providerAccounts, type ProviderEnv } from './accounts';
import { NeonClient } from './client';
import { DEFAULT_OPTIONS, type ProviderOptions } from './http';

export { DEFAULT_ACCOUNT_ID, placeProject, providerAccount, providerAccounts } from './accounts';
export type { ProviderAccount, ProviderEnv } from './accounts';
export { NeonClient } from './client';
export type { ConnectionUriInput, CreateBranchInput, CreatedBranch, CreatedProject, CreateProjectInput } from './types';
export { ProviderOperationError, ProviderRequestError } from './errors';
export { DEFAULT_OPTIONS } from './http';
export type { ProviderOptions } from './http';

/** The client for the account a database lives on (its stored provider account id). */
export function neonClient(env: ProviderEnv, accountId: string, options: Partial<ProviderOptions> = {}): NeonClient {
  return new NeonClient(providerAccount(env, accountId), { ...DEFAULT_OPTIONS, ...options });
}

/** A client on the account where a new project should go (see `placeProject`). */
export function placedClient(env: ProviderEnv, load?: Record<string, number>, options: Partial<ProviderOptions> = {}): NeonClient {
  return new NeonClient(placeProject(providerAccounts(env), load), { ...DEFAULT_OPTIONS, ...options });
}
