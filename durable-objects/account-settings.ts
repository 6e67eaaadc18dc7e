/** The account row: creation, the owner's policy, abuse state, the summary, and the event log. */
import { asc, desc, eq, gt } from 'drizzle-orm';
import { Failure, invalidFields } from '../src/core/errors';
import { microToUsd, monthOf, usdToMicro } from '../src/core/policy/cost';
import type { OperatorConfig } from '../src/core/policy/operator-config';
import { applyPolicyPatch, resolvePolicy, type Policy, type PolicyOverrides, type PolicyPatch } from '../src/core/policy/policy';
import { account, events, spend } from './schema';
import type { Db, Store } from './store';
import { eventView, type EventView } from './views';
import { abuseView, type AbuseView } from './abuse-view';

export type AbuseState = 'ok' | 'throttled' | 'suspended';

export interface AccountView {
  id: string;
  name: string;
  created_at: string;
  abuse: AbuseView;
  policy: Policy;
  /** The operator's maxima: the most each knob can be raised to. */
  policy_maximum: Policy;
  usage: {
    active_databases: number;
    month: string;
    spent_usd: number;
    reserved_usd: number;
    cap_usd: number;
    spent_micro_usd: number;
    reserved_micro_usd: number;
    cap_micro_usd: number;
  };
}

export function accountRow(db: Db) {
  const row = db.select().from(account).get();
  if (!row) throw new Failure('account_not_found', 'no such account');
  return row;
}

export const effectivePolicy = (db: Db, config: OperatorConfig) => resolvePolicy(accountRow(db).policy as PolicyOverrides, config.maxima);

export function accountView(store: Store, db: Db, config: OperatorConfig, now: number): AccountView {
  const row = accountRow(db);
  const policy = resolvePolicy(row.policy as PolicyOverrides, config.maxima);
  // Read without creating this month's row (a summary must not write): the latest row carries
  // the live reservations; spending restarts at zero in a month not yet touched.
  const month = monthOf(now);
  const latest = db.select().from(spend).orderBy(desc(spend.month)).limit(1).get();
  const spent = latest?.month === month ? latest.spentMicroUsd : 0;
  const reserved = latest?.reservedMicroUsd ?? 0;
  const cap = usdToMicro(policy.monthly_spend_cap_usd);
  return {
    id: row.id,
    name: row.name,
    created_at: new Date(row.createdAt).toISOString(),
    abuse: abuseView(row),
    policy,
    policy_maximum: config.maxima,
    usage: {
      active_databases: store.activeCount(db),
      month,
      spent_usd: microToUsd(spent),
      reserved_usd: microToUsd(reserved),
      cap_usd: microToUsd(cap),
      spent_micro_usd: spent,
      reserved_micro_usd: reserved,
      cap_micro_usd: cap,
    },
  };
}

export function insertAccount(db: Db, id: string, name: string, now: number): void {
  if (db.select().from(account).get()) throw new Failure('account_exists', `account ${id} already exists`);
  db.insert(account).values({ singleton: 1, id, name, createdAt: now, policy: {}, abuseState: 'ok' }).run();
}

/** The owner's patch, checked against the operator's maxima; nothing changes unless all of it is valid. */
export function updatePolicy(store: Store, patch: PolicyPatch, config: OperatorConfig, tokenId: string, now: number) {
  return store.write('update policy', (db) => {
    const row = accountRow(db);
    const applied = applyPolicyPatch(row.policy as PolicyOverrides, patch, config.maxima);
    if (!applied.ok) throw invalidFields(applied.issues);
    db.update(account).set({ policy: applied.overrides }).where(eq(account.singleton, 1)).run();
    store.appendEvent(db, now, 'account.policy_updated', { tokenId, data: { patch } });
    return accountView(store, db, config, now);
  });
}

/** Operator action (and, later, the abuse detector): every move is an event with its reason. */
export function setAbuseState(store: Store, state: AbuseState, reason: string, config: OperatorConfig, now: number) {
  return store.write('set abuse state', (db) => {
    const row = accountRow(db);
    if (row.abuseState !== state) {
      db.update(account).set({ abuseState: state, abuseReason: reason, abuseSince: now }).where(eq(account.singleton, 1)).run();
      store.appendEvent(db, now, 'account.abuse_state', { data: { from: row.abuseState, to: state, reason } });
    }
    return accountView(store, db, config, now);
  });
}

export interface EventPage {
  events: EventView[];
  /** Pass back as `cursor` for the next page; null when this page reached the end. */
  next_cursor: string | null;
}

/** Oldest first, after `cursor` (an event id), so a client can follow the log. */
export function listEvents(store: Store, cursor: string | undefined, limit: number): EventPage {
  let after = 0;
  if (cursor !== undefined) {
    after = Number(cursor);
    if (!Number.isSafeInteger(after) || after < 0) throw invalidFields([{ path: 'cursor', message: 'not an event cursor' }]);
  }
  const size = Math.min(200, Math.max(1, limit));
  const rows = store.read('list events', (db) =>
    db
      .select()
      .from(events)
      .where(gt(events.id, after))
      .orderBy(asc(events.id))
      .limit(size + 1)
      .all(),
  );
  const page = rows.slice(0, size);
  return { events: page.map(eventView), next_cursor: rows.length > size ? String(page[page.length - 1]!.id) : null };
}
