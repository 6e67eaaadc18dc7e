/**
 * The lifecycle of a database record, as a transition table (ARCHITECTURE.md, "Lifecycle").
 * durable-objects/transitions.ts is the one writer of a record's state and asks this table
 * first: a move it does not list is a bug, and fails as one.
 */
export const DATABASE_STATES = ['provisioning', 'ready', 'deleting', 'deleted', 'failed', 'claimed'] as const;
export type DatabaseState = (typeof DATABASE_STATES)[number];

/** Which states may follow each state. Staying `deleting` is a retry of the delete. */
export const TRANSITIONS: { readonly [S in DatabaseState]: readonly DatabaseState[] } = {
  // The saga completes (ready) or rolls back (failed); the sweeper deletes a crashed one.
  provisioning: ['ready', 'failed', 'deleting'],
  // Deleted by its owner, its lease, its session, or because the provider lost it; or claimed
  // into the user's own Neon account.
  ready: ['deleting', 'claimed'],
  // Gone at the provider (deleted), retried, or a crashed create found to have made nothing (failed).
  deleting: ['deleting', 'deleted', 'failed'],
  deleted: [],
  failed: [],
  // The user's own now: dblease never expires, sweeps or deletes it again.
  claimed: [],
};

export const canTransition = (from: DatabaseState, to: DatabaseState): boolean => TRANSITIONS[from].includes(to);

/** A move the table forbids: a bug in the caller, never an answer to a request. */
export class IllegalTransition extends Error {
  constructor(
    readonly databaseId: string,
    readonly from: DatabaseState,
    readonly to: DatabaseState,
  ) {
    super(`illegal transition of ${databaseId}: ${from} → ${to}`);
    this.name = 'IllegalTransition';
  }
}
