/**
 * What one account may store, and for how long (durable-objects/SCHEMA.md). The account object
 * enforces these; the API's documentation quotes them.
 */

export const MIGRATION_LIMITS = Object.freeze({
  /** Undecided migrations (each holds a live branch) an account may have at once. */
  maxLive: 10,
  /** How long a decided migration (applied, discarded, failed, expired) stays readable. */
  retentionMs: 30 * 24 * 3_600_000,
  /** Decided migrations kept at most, newest first: each may hold a megabyte of SQL. */
  maxFinished: 500,
});

/**
 * At most `maxActive` live sessions at once; a finished one is forgotten `retentionMs` after
 * its deadline (its databases were swept long before).
 */
export const SESSION_LIMITS = { maxActive: 1_000, retentionMs: 30 * 24 * 3_600_000 };
export type SessionLimits = typeof SESSION_LIMITS;

/** The event log keeps the newest 100,000 events of an account, for at most 90 days. */
export const EVENT_LIMITS = { max: 100_000, retentionMs: 90 * 24 * 3_600_000 };
