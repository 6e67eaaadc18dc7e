/**
 * The abuse signals: pure functions over an account's own recent history (the databases it
 * created in the window, newest first, bounded; README "Abuse"). Each is computed for the whole
 * account and for each token that created databases, so one leaked or misbehaving token shows up
 * even inside a large honest account.
 *
 * "Used" means dblease's SQL endpoint ran a statement on the database (`used_at`) or the
 * provider saw a connection reach it after it became ready (`connected_at`). Direct use is
 * learnt only before the resource is removed, so a live database's use may not be known yet:
 * the signals count only what is settled (ended databases, and uses that were seen), never a
 * live database as unused.
 */

export interface DatabaseFact {
  id: string;
  token_id: string | null;
  kind: 'fresh' | 'branch';
  parent_id: string | null;
  created_at: number;
  /** Null: it never became ready (a failed create is not the agent's churn). */
  ready_at: number | null;
  /** When it was deleted (expired, deleted, its session ended); null while live. */
  ended_at: number | null;
  ttl_seconds: number;
  used_at: number | null;
  connected_at: number | null;
  /** The last hand-out of its credentials after the create (a fetch, a rotation). */
  credentials_fetched_at: number | null;
}

/** Creates in the last hour, and in the baseline span before it (`baseline_hours` long). */
export interface CreateCounts {
  last_hour: number;
  baseline: number;
  baseline_hours: number;
}

export interface Signals {
  churn: { value: number; ended: number; unused: number };
  credentials_unused: { value: number; fetched: number; unused: number };
  velocity: { creates_last_hour: number; baseline_per_hour: number };
  fan_out: { value: number; parent_id: string | null };
}

export interface FanOutRule {
  short_lived_minutes: number;
}

const share = (part: number, whole: number) => (whole === 0 ? 0 : Math.round((part / whole) * 1000) / 1000);

/** The latest use of either kind, or null when none was ever seen. */
export function lastUse(f: DatabaseFact): number | null {
  if (f.used_at === null) return f.connected_at;
  if (f.connected_at === null) return f.used_at;
  return Math.max(f.used_at, f.connected_at);
}

/** Share of the ended databases (that had become ready) that were never used. */
export function churn(facts: DatabaseFact[]): Signals['churn'] {
  const ended = facts.filter((f) => f.ready_at !== null && f.ended_at !== null);
  const unused = ended.filter((f) => lastUse(f) === null).length;
  return { value: share(unused, ended.length), ended: ended.length, unused };
}

/**
 * Share of credential hand-outs with no use after them. The create hands them out (at ready),
 * so does a later fetch or rotation; the latest hand-out counts. Settled: the database ended
 * (no use can follow any more) or a use after the hand-out was seen.
 */
export function credentialsUnused(facts: DatabaseFact[]): Signals['credentials_unused'] {
  let fetched = 0;
  let unused = 0;
  for (const f of facts) {
    if (f.ready_at === null) continue;
    const handedOut = Math.max(f.ready_at, f.credentials_fetched_at ?? 0);
    const use = lastUse(f);
    const usedAfter = use !== null && use >= handedOut;
    if (usedAfter) fetched += 1;
    else if (f.ended_at !== null) {
      fetched += 1;
      unused += 1;
    }
  }
  return { value: share(unused, fetched), fetched, unused };
}

/** Creates in the last hour against the same account's (or token's) trailing hourly average. */
export function velocity(counts: CreateCounts): Signals['velocity'] {
  const baseline = counts.baseline_hours > 0 ? counts.baseline / counts.baseline_hours : 0;
  return { creates_last_hour: counts.last_hour, baseline_per_hour: Math.round(baseline * 100) / 100 };
}

/**
 * The most branches of one parent that are shallow (no branch of their own in the window),
 * short-lived (a TTL or a life up to `short_lived_minutes`) and never used.
 */
export function fanOut(facts: DatabaseFact[], rule: FanOutRule): Signals['fan_out'] {
  const shortMs = rule.short_lived_minutes * 60_000;
  const parents = new Set(facts.map((f) => f.parent_id).filter((p): p is string => p !== null));
  const perParent = new Map<string, number>();
  for (const f of facts) {
    if (f.kind !== 'branch' || f.parent_id === null || f.ready_at === null) continue;
    if (parents.has(f.id) || lastUse(f) !== null) continue;
    const shortLived = f.ttl_seconds * 1000 <= shortMs || (f.ended_at !== null && f.ended_at - f.ready_at <= shortMs);
    if (shortLived) perParent.set(f.parent_id, (perParent.get(f.parent_id) ?? 0) + 1);
  }
  let best: Signals['fan_out'] = { value: 0, parent_id: null };
  for (const [parent_id, value] of perParent) if (value > best.value) best = { value, parent_id };
  return best;
}

export function signalsOf(facts: DatabaseFact[], counts: CreateCounts, rule: FanOutRule): Signals {
  return { churn: churn(facts), credentials_unused: credentialsUnused(facts), velocity: velocity(counts), fan_out: fanOut(facts, rule) };
}

/** The account's signals, and each creating token's over its own databases and creates. */
export function signalsByToken(facts: DatabaseFact[], counts: Map<string, CreateCounts>, rule: FanOutRule): Map<string, Signals> {
  const byToken = new Map<string, DatabaseFact[]>();
  for (const f of facts) if (f.token_id !== null) byToken.set(f.token_id, [...(byToken.get(f.token_id) ?? []), f]);
  const out = new Map<string, Signals>();
  const none: CreateCounts = { last_hour: 0, baseline: 0, baseline_hours: 0 };
  for (const token of new Set([...byToken.keys(), ...counts.keys()])) {
    out.set(token, signalsOf(byToken.get(token) ?? [], counts.get(token) ?? none, rule));
  }
  return out;
}
