/**
 * The account Durable Object's SQLite schema (one database per account). SCHEMA.md next to this
 * file explains each table and its invariants. Change it here, then run `npm run db:generate`
 * to write a migration into ./migrations; the object applies pending migrations when it starts.
 *
 * Conventions: times are integer milliseconds since the epoch; money is integer micro-dollars
 * (1 USD = 1,000,000) so sums never drift; JSON columns hold plain objects.
 */
import { index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** Exactly one row (`singleton = 1`) once the operator has created the account. */
export const account = sqliteTable('account', {
  singleton: integer('singleton').primaryKey(),
  id: text('id').notNull(),
  name: text('name').notNull(),
  createdAt: integer('created_at').notNull(),
  /** Owner overrides of the operator's maxima; absent keys mean "the maximum". */
  policy: text('policy', { mode: 'json' }).$type<Record<string, number>>().notNull(),
  abuseState: text('abuse_state', { enum: ['ok', 'throttled', 'suspended'] }).notNull(),
  abuseReason: text('abuse_reason'),
  abuseSince: integer('abuse_since'),
  /** Set by the operator: the detector leaves the state alone (no moves, no decay) until cleared. */
  abusePinned: integer('abuse_pinned', { mode: 'boolean' }).notNull().default(false),
  /** The signals and reasons of the last evaluation (durable-objects/abuse.ts), as JSON. */
  abuseSignals: text('abuse_signals', { mode: 'json' }).$type<Record<string, unknown>>(),
  /** History before this time is not held against the account: set by a clear and by decay. */
  abuseForgivenAt: integer('abuse_forgiven_at'),
});

export const tokens = sqliteTable(
  'tokens',
  {
    id: text('id').primaryKey(),
    /** First 16 hex digits of `hash`: the indexed lookup key. The full hash is compared in constant time. */
    lookup: text('lookup').notNull(),
    /** Hex SHA-256 of the token's secret part. The secret itself is never stored. */
    hash: text('hash').notNull(),
    name: text('name').notNull(),
    scopes: text('scopes', { mode: 'json' }).$type<string[]>().notNull(),
    expiresAt: integer('expires_at'),
    maxDatabaseTtlSeconds: integer('max_database_ttl_seconds'),
    /** The token's own monthly spend limit (µ$), below the account's cap; null: the cap alone. */
    monthlySpendLimitMicroUsd: integer('monthly_spend_limit_micro_usd'),
    createdAt: integer('created_at').notNull(),
    /** The token that minted it, or the orchestrator (`orc_…`) that provisioned it. */
    createdBy: text('created_by'),
    revokedAt: integer('revoked_at'),
    lastUsedAt: integer('last_used_at'),
  },
  (t) => [index('tokens_lookup').on(t.lookup)],
);

export { DATABASE_STATES, type DatabaseState } from '../src/core/state-machine';
import { DATABASE_STATES } from '../src/core/state-machine';

export const databases = sqliteTable(
  'databases',
  {
    id: text('id').primaryKey(),
    /** A pending claim (a Neon project transfer request): its id, claim link and expiry; null when none. */
    claimRequestId: text('claim_request_id'),
    claimUrl: text('claim_url'),
    claimExpiresAt: integer('claim_expires_at'),
    state: text('state', { enum: DATABASE_STATES }).notNull(),
    kind: text('kind', { enum: ['fresh', 'branch'] }).notNull(),
    parentId: text('parent_id'),
    /** Provider region (`default`: the provider's default); a branch is in its parent's. */
    region: text('region').notNull(),
    /** 0 for a fresh database, parent's depth + 1 for a branch. */
    depth: integer('depth').notNull(),
    providerAccount: text('provider_account'),
    providerProjectId: text('provider_project_id'),
    providerBranchId: text('provider_branch_id'),
    providerEndpointId: text('provider_endpoint_id'),
    roleName: text('role_name').notNull(),
    databaseName: text('database_name').notNull(),
    host: text('host'),
    /** AES-GCM sealed (see src/core/crypto/sealed.ts); cleared when the database is deleted. */
    passwordSealed: text('password_sealed'),
    labels: text('labels', { mode: 'json' }).$type<Record<string, string>>().notNull(),
    sessionId: text('session_id'),
    tokenId: text('token_id'),
    ttlSeconds: integer('ttl_seconds').notNull(),
    /** Null only while kept. */
    expiresAt: integer('expires_at'),
    kept: integer('kept', { mode: 'boolean' }).notNull(),
    /** The maximum cost of the lease, held against the spend cap while the record is live. */
    reservedMicroUsd: integer('reserved_micro_usd').notNull(),
    /**
     * Booked as actually spent: the provider's consumption figures, priced (cron and the sweep),
     * plus at delete an estimate of the time since them. `spent + reserved` never grows except
     * through a cap-checked reservation, so booking moves money, it never adds any.
     */
    spentMicroUsd: integer('spent_micro_usd').notNull().default(0),
    /** Time up to which `spent` is the provider's figures; null = never reconciled. */
    spentAsOf: integer('spent_as_of'),
    createdAt: integer('created_at').notNull(),
    readyAt: integer('ready_at'),
    deletedAt: integer('deleted_at'),
    lastError: text('last_error'),
    deleteAttempts: integer('delete_attempts').notNull(),
    nextAttemptAt: integer('next_attempt_at'),
    /** Last time SQL ran on it through dblease (SQL endpoint, migrations); null = never: a churn signal. */
    lastUsedAt: integer('last_used_at'),
    /**
     * The provider's last activity on the database's endpoint (a direct connection), when it
     * was after ready: observed before the resource is removed; null = none seen.
     */
    connectedAt: integer('connected_at'),
    /** Last time its credentials were handed out again (GET with the password, rotation); the create is `ready_at`. */
    credentialsFetchedAt: integer('credentials_fetched_at'),
    /** Made with masking rules (src/app/databases/mask.ts): it is never reset to its parent's unmasked data. */
    anonymized: integer('anonymized', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [
    index('databases_state').on(t.state),
    index('databases_created').on(t.createdAt, t.id),
    index('databases_parent').on(t.parentId),
    index('databases_session').on(t.sessionId),
    index('databases_expires').on(t.expiresAt),
  ],
);

export const idempotencyKeys = sqliteTable(
  'idempotency_keys',
  {
    key: text('key').primaryKey(),
    requestHash: text('request_hash').notNull(),
    databaseId: text('database_id').notNull(),
    /** The sealed response of the original request once it finished; null while it is in flight. */
    responseSealed: text('response_sealed'),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('idempotency_expires').on(t.expiresAt), index('idempotency_database').on(t.databaseId)],
);

/** Exactly one row (`singleton = 1`): the create-rate token bucket. */
export const rateBucket = sqliteTable('rate_bucket', {
  singleton: integer('singleton').primaryKey(),
  tokens: real('tokens').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/**
 * Exactly one row (`singleton = 1`): the provider-action token bucket. Creates, branches,
 * credential rotations and deletes each take a token (durable-objects/provider-actions.ts).
 */
export const providerActionBucket = sqliteTable('provider_action_bucket', {
  singleton: integer('singleton').primaryKey(),
  tokens: real('tokens').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

export const spend = sqliteTable('spend', {
  /** `YYYY-MM` (UTC). */
  month: text('month').primaryKey(),
  /** Estimated cost of leases that ended this month; cron replaces it with the provider's figures. */
  spentMicroUsd: integer('spent_micro_usd').notNull(),
  /** Sum of live reservations; carried into the next month's row when it is first touched. */
  reservedMicroUsd: integer('reserved_micro_usd').notNull(),
});

export const events = sqliteTable(
  'events',
  {
    /** Monotonic: the cursor of `GET /v1/events`. */
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull(),
    type: text('type').notNull(),
    databaseId: text('database_id'),
    tokenId: text('token_id'),
    data: text('data', { mode: 'json' }).$type<Record<string, unknown>>(),
  },
  (t) => [index('events_database').on(t.databaseId)],
);

export const MIGRATION_STATES = ['preparing', 'ready', 'verify_failed', 'failed', 'applying', 'applied', 'discarded'] as const;
export type MigrationState = (typeof MIGRATION_STATES)[number];

/** Schema migrations prepared on a branch (src/app/migrations/): applied to the parent, or discarded. */
export const migrations = sqliteTable(
  'migrations',
  {
    id: text('id').primaryKey(),
    state: text('state', { enum: MIGRATION_STATES }).notNull(),
    /** The database the migration is for. */
    databaseId: text('database_id').notNull(),
    /** The branch it was tried on; null until the branch exists. */
    branchId: text('branch_id'),
    sql: text('sql').notNull(),
    verifySql: text('verify_sql'),
    /** SHA-256 of the parent's schema when the branch was taken; apply refuses if it changed. */
    parentFingerprint: text('parent_fingerprint'),
    // The next four are JSON text, kept opaque here: they cross RPC as strings because their
    // nesting is deeper than RPC's type mapping handles (see JsonData in src/core/result.ts).
    /** The schema diff (branch after the SQL against the parent), as returned to the agent. */
    diff: text('diff'),
    /** The verification's outcome, or null without verify_sql. */
    verification: text('verification'),
    /** The last failure (SQL error fields, or a refused apply), as the API's error body. */
    lastError: text('last_error'),
    /** The rehearsal report of the try on the branch (duration, locks, touched tables' rows), JSON text. */
    rehearsal: text('rehearsal'),
    idempotencyKey: text('idempotency_key'),
    requestHash: text('request_hash'),
    tokenId: text('token_id'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    appliedAt: integer('applied_at'),
    discardedAt: integer('discarded_at'),
  },
  (t) => [index('migrations_database').on(t.databaseId), index('migrations_idempotency').on(t.idempotencyKey)],
);

export const SESSION_STATES = ['active', 'ended', 'lapsed'] as const;
export type SessionState = (typeof SESSION_STATES)[number];

/**
 * Agent sessions (durable-objects/sessions.ts): a lease the agent renews by heartbeat. Databases created with
 * its id go when it is ended or lapses (unless kept). `ended`/`lapsed` are final.
 */
export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    state: text('state', { enum: SESSION_STATES }).notNull(),
    /** The session's own budget (µ$) for the databases bound to it; null: no budget of its own. */
    spendLimitMicroUsd: integer('spend_limit_micro_usd'),
    /** Each heartbeat moves `expires_at` to now + this. */
    ttlSeconds: integer('ttl_seconds').notNull(),
    labels: text('labels', { mode: 'json' }).$type<Record<string, string>>().notNull(),
    tokenId: text('token_id'),
    createdAt: integer('created_at').notNull(),
    /** The lease's deadline while active: a heartbeat after it gets 410. */
    expiresAt: integer('expires_at').notNull(),
    lastHeartbeatAt: integer('last_heartbeat_at'),
    endedAt: integer('ended_at'),
  },
  (t) => [index('sessions_state_expires').on(t.state, t.expiresAt)],
);

/**
 * Signed-in dashboard visits (durable-objects/dashboard-auth.ts): the cookie carries the secret,
 * only its SHA-256 is kept, found by `lookup` like a token's. Hours long; ended by sign-out,
 * "stop everything", or when the owner token it was opened with stops working.
 */
export const dashboardSessions = sqliteTable(
  'dashboard_sessions',
  {
    id: text('id').primaryKey(),
    lookup: text('lookup').notNull(),
    hash: text('hash').notNull(),
    /** The owner token pasted to sign in; null when a one-time link opened it. */
    tokenId: text('token_id'),
    /** The form token of this visit (not a credential on its own: it is only checked beside the cookie). */
    csrf: text('csrf').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    endedAt: integer('ended_at'),
  },
  (t) => [index('dashboard_sessions_lookup').on(t.lookup)],
);

/**
 * One-time dashboard sign-in codes, handed out as `dashboard_url` by provisioning: 15 minutes,
 * usable once (`used_at`), stored as SHA-256 only.
 */
export const signInCodes = sqliteTable(
  'sign_in_codes',
  {
    id: text('id').primaryKey(),
    lookup: text('lookup').notNull(),
    hash: text('hash').notNull(),
    /** Who asked for it: the orchestrator (`orc_…`) that provisioned the user. */
    issuedBy: text('issued_by'),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    usedAt: integer('used_at'),
  },
  (t) => [index('sign_in_codes_lookup').on(t.lookup)],
);

export const BINDING_STATES = ['creating', 'active', 'removing', 'removed'] as const;
export type BindingState = (typeof BINDING_STATES)[number];

/**
 * A database wired into a Cloudflare Worker (durable-objects/bindings-store.ts): a secret of a
 * Worker, or a Hyperdrive config (and optionally its binding in a Worker's settings). Each is a
 * record with its own state so its removal at Cloudflare is retried until done, never forgotten.
 */
export const bindings = sqliteTable(
  'bindings',
  {
    id: text('id').primaryKey(),
    databaseId: text('database_id').notNull(),
    type: text('type', { enum: ['worker_secret', 'hyperdrive'] }).notNull(),
    state: text('state', { enum: BINDING_STATES }).notNull(),
    cfAccountId: text('cf_account_id').notNull(),
    scriptName: text('script_name'),
    /** The secret's name, or the Hyperdrive binding's name in the Worker. */
    name: text('name').notNull(),
    pooled: integer('pooled', { mode: 'boolean' }).notNull(),
    /** The Hyperdrive config's name at Cloudflare (`dblease-<account>-<binding>`): how reconciliation knows its own. */
    configName: text('config_name'),
    hyperdriveId: text('hyperdrive_id'),
    tokenId: text('token_id'),
    createdAt: integer('created_at').notNull(),
    removedAt: integer('removed_at'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: integer('next_attempt_at'),
    lastError: text('last_error'),
    /** A worker_secret whose Worker still holds the password before the last rotation: the sweeper writes it again. */
    updatePending: integer('update_pending', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [index('bindings_database').on(t.databaseId), index('bindings_state').on(t.state, t.nextAttemptAt)],
);

/** Exactly one row (`singleton = 1`) once the owner gave dblease a Cloudflare API token. */
export const cloudflareToken = sqliteTable('cloudflare_token', {
  singleton: integer('singleton').primaryKey(),
  /** AES-GCM sealed (context `cf:token`); never returned. */
  tokenSealed: text('token_sealed').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

export const schema = {
  account,
  tokens,
  databases,
  idempotencyKeys,
  rateBucket,
  providerActionBucket,
  spend,
  events,
  migrations,
  sessions,
  dashboardSessions,
  signInCodes,
  bindings,
  cloudflareToken,
};
