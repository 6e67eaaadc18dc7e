/**
 * The one writer of `databases.state` (ARCHITECTURE.md, "Lifecycle"). Every move is checked
 * against the transition table of src/core/state-machine.ts, written with the caller's other
 * columns, and recorded as a `database.<state>` event in the same transaction.
 */
import { eq } from 'drizzle-orm';
import { canTransition, IllegalTransition, type DatabaseState } from '../src/core/state-machine';
import { retireBindings } from './bindings-store';
import { databases } from './schema';
import type { Db, Store } from './store';

type Row = typeof databases.$inferSelect;

export interface TransitionEvent {
  tokenId?: string | null;
  data?: Record<string, unknown>;
}

/** A new record, `provisioning` (admission's insert), with its event. */
export function enterProvisioning(
  store: Store,
  db: Db,
  row: typeof databases.$inferInsert & { state: 'provisioning' },
  now: number,
  event: TransitionEvent = {},
) {
  db.insert(databases).values(row).run();
  store.appendEvent(db, now, 'database.provisioning', { databaseId: row.id, tokenId: event.tokenId ?? null, data: event.data });
}

/** States in which a database's bindings into Workers must go (its lease ended, or it is the user's own now). */
const UNBOUND_STATES: ReadonlySet<DatabaseState> = new Set(['deleting', 'deleted', 'failed', 'claimed']);

/** Moves `row` to `to` with `fields`; the event is written when the state changes. Returns the new row. */
export function transition(
  store: Store,
  db: Db,
  row: Row,
  to: DatabaseState,
  fields: Partial<Row>,
  now: number,
  event: TransitionEvent = {},
): Row {
  if (!canTransition(row.state, to)) throw new IllegalTransition(row.id, row.state, to);
  const update = { ...fields, state: to };
  db.update(databases).set(update).where(eq(databases.id, row.id)).run();
  // The one hook every path out of a lease goes through (expiry, delete, cascade, session end,
  // stopping everything, claim): its bindings are marked for removal in this same transaction.
  if (UNBOUND_STATES.has(to)) retireBindings(store, db, row.id, now, `database ${to}`);
  if (row.state !== to) {
    store.appendEvent(db, now, `database.${to}`, { databaseId: row.id, tokenId: event.tokenId ?? null, data: event.data });
  }
  return { ...row, ...update };
}
