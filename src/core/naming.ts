/**
 * Names dblease gives provider resources. Reconciliation recognises dblease's projects by the
 * `dblease-` prefix, and warm-pool projects by `dblease-pool-`, so these must not change lightly.
 */
export const PROJECT_PREFIX = 'dblease-';
export const POOL_PROJECT_PREFIX = 'dblease-pool-';

/** The project owner role: dblease keeps it to itself (it never owns the agent's database for long). */
export const OWNER_ROLE = 'dblease_admin';

/** The role and database handed to the agent in a fresh project. */
export const AGENT_ROLE = 'agent';
export const AGENT_DATABASE = 'neondb';

/** Scale-to-zero after a minute idle: Neon's minimum, as half of agents' computes live under 10 s. */
export const SUSPEND_TIMEOUT_SECONDS = 60;

/**
 * The provider region a warm pool serves. A pool is named after its region; `region#shard`
 * names a separate pool in the same region (tests use it to get a pool of their own), and
 * `default` means the provider's default region.
 */
export const regionOfPool = (pool: string) => pool.split('#', 1)[0];

const hex = (text: string) => [...new TextEncoder().encode(text)].map((b) => b.toString(16).padStart(2, '0')).join('');

/**
 * `dblease-pool-<entry>-<pool name in hex>`: the pool is in the name, so reconciliation can ask
 * the pool of any pool project about it, configured or not (pool names may hold `#`).
 */
export const poolProjectName = (entryId: string, pool: string) => `${POOL_PROJECT_PREFIX}${entryId}-${hex(pool)}`;

const POOL_NAME = /^dblease-pool-([a-z0-9]+)-((?:[0-9a-f]{2})+)$/;

/** The entry and pool a pool project is named after, or null (not a pool project, or named before pools were). */
export function parsePoolProjectName(name: string): { entryId: string; pool: string } | null {
  const m = POOL_NAME.exec(name);
  if (!m) return null;
  const bytes = Uint8Array.from(m[2]!.match(/../g)!, (h) => parseInt(h, 16));
  return { entryId: m[1]!, pool: new TextDecoder().decode(bytes) };
}

/** A short random id, lower-case letters and digits (valid in project names and role names). */
export function shortId(length = 12): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

export interface ProviderNames {
  /** Neon project name (fresh) or branch name (branch). */
  resource: string;
  role: string;
  database: string;
}

/**
 * `dblease-<accountId>-<dbId>` (56 characters; Neon allows 256 for project and branch names):
 * the reconciler can tie any provider resource to its account object and record.
 */
export const providerNames = (accountId: string, dbId: string, databaseName: string): ProviderNames => ({
  resource: `dblease-${accountId}-${dbId}`,
  role: `dblease_${dbId}`,
  database: databaseName,
});

/** The database name inside a fresh database; branches inherit their parent's. */
export const FRESH_DATABASE_NAME = 'dblease';

const NAME = /^dblease-(acc_[0-9a-z]{20})-(db_[0-9a-z]{20})$/;

/** The account and database a provider resource is named after, or null if it is not such a name. */
export function parseResourceName(name: string): { accountId: string; dbId: string } | null {
  const m = NAME.exec(name);
  return m ? { accountId: m[1]!, dbId: m[2]! } : null;
}
