import { Failure } from '../core/errors';

/**
 * Provider accounts: one Neon API key each, with its own organization and rate budget.
 * Throughput grows with their number, so new projects are spread across them and every
 * database remembers the account that holds it.
 */
export interface ProviderAccount {
  /** Stable name, stored with each database; never the key. */
  id: string;
  /** Neon API v2 base, e.g. https://console.neon.tech/api/v2 */
  url: string;
  key: string;
}

/** The part of the Worker's env the provider layer reads. `NEON_ACCOUNTS` is an optional secret. */
export interface ProviderEnv {
  NEON_API_URL: string;
  NEON_API_KEY: string;
  NEON_ACCOUNTS?: string;
}

/** Id of the account made from `NEON_API_URL` + `NEON_API_KEY` when `NEON_ACCOUNTS` is not set. */
export const DEFAULT_ACCOUNT_ID = 'default';

const misconfigured = (why: string) =>
  // An operator mistake, not the agent's: 500, and the message never echoes the secret.
  new Failure('provider_misconfigured', `NEON_ACCOUNTS is invalid: ${why}`);

function parseAccounts(raw: string): ProviderAccount[] {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw misconfigured('not JSON');
  }
  if (!Array.isArray(value) || value.length === 0) throw misconfigured('expected a non-empty JSON array of {id, url, key}');
  const seen = new Set<string>();
  return value.map((item, i) => {
    const { id, url, key } = (item ?? {}) as Record<string, unknown>;
    if (typeof id !== 'string' || !/^[a-z0-9_-]{1,40}$/i.test(id))
      throw misconfigured(`entry ${i}: id must be 1-40 letters, digits, _ or -`);
    if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw misconfigured(`entry ${i} (${id}): url must be http(s)`);
    if (typeof key !== 'string' || key === '') throw misconfigured(`entry ${i} (${id}): key is missing`);
    if (seen.has(id)) throw misconfigured(`duplicate id ${id}`);
    seen.add(id);
    return { id, url: url.replace(/\/+$/, ''), key };
  });
}

const cache = new Map<string, ProviderAccount[]>();

/** Every configured provider account, parsed once per isolate. */
export function providerAccounts(env: ProviderEnv): ProviderAccount[] {
  const raw = env.NEON_ACCOUNTS?.trim();
  const cacheKey = raw || `${env.NEON_API_URL}\n${env.NEON_API_KEY}`;
  let accounts = cache.get(cacheKey);
  if (!accounts) {
    accounts = raw ? parseAccounts(raw) : [{ id: DEFAULT_ACCOUNT_ID, url: env.NEON_API_URL.replace(/\/+$/, ''), key: env.NEON_API_KEY }];
    cache.set(cacheKey, accounts);
  }
  return accounts;
}

/** The account a database was placed on. Unknown ids are an operator error (an account was removed). */
export function providerAccount(env: ProviderEnv, id: string): ProviderAccount {
  const found = providerAccounts(env).find((a) => a.id === id);
  if (!found) throw new Failure('provider_account_unknown', `provider account "${id}" is not configured`);
  return found;
}

let roundRobin = 0;

/**
 * Where a new project goes. With `load` (projects per account id, as the caller knows it) the
 * least-loaded account wins, ties by configuration order; without it, round-robin per isolate,
 * which spreads evenly enough when many isolates place independently.
 */
export function placeProject(accounts: readonly ProviderAccount[], load?: Readonly<Record<string, number>>): ProviderAccount {
  if (accounts.length === 0) throw new Failure('provider_misconfigured', 'no provider account is configured');
  if (load) {
    let best = accounts[0];
    for (const a of accounts) if ((load[a.id] ?? 0) < (load[best.id] ?? 0)) best = a;
    return best;
  }
  return accounts[roundRobin++ % accounts.length];
}
