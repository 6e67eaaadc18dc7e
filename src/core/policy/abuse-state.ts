/**
 * From signals to a state: which level the signals call for, and the one move (if any) the
 * account's state makes now. Pure; `now` is passed in. README "Abuse" documents the rules.
 */
import type { AbuseThresholds } from './abuse-config';
import type { Signals } from './abuse-signals';

export type AbuseState = 'ok' | 'throttled' | 'suspended';

const RANK: Record<AbuseState, number> = { ok: 0, throttled: 1, suspended: 2 };
const higher = (a: AbuseState, b: AbuseState) => (RANK[a] >= RANK[b] ? a : b);

export interface Verdict {
  level: AbuseState;
  /** One line per signal over a threshold, most severe first. */
  reasons: string[];
}

/** The level one set of signals calls for; `who` prefixes the reasons (`token tok_…: `). */
export function judgeSignals(s: Signals, t: AbuseThresholds, who = ''): Verdict {
  const found: { level: AbuseState; reason: string }[] = [];
  const c = s.churn;
  if (c.ended >= t.churn.suspend_min_ended && c.value >= t.churn.suspend) {
    found.push({
      level: 'suspended',
      reason: `churn: ${c.unused} of ${c.ended} ended databases never used (suspends at ${t.churn.suspend})`,
    });
  } else if (c.ended >= t.churn.min_ended && c.value >= t.churn.throttle) {
    found.push({
      level: 'throttled',
      reason: `churn: ${c.unused} of ${c.ended} ended databases never used (throttles at ${t.churn.throttle})`,
    });
  }
  const k = s.credentials_unused;
  if (k.fetched >= t.credentials_unused.min_fetched && k.value >= t.credentials_unused.throttle) {
    const suspend = k.value >= t.credentials_unused.suspend && k.fetched >= t.credentials_unused.suspend_min_fetched;
    found.push({
      level: suspend ? 'suspended' : 'throttled',
      reason: `credentials unused: ${k.unused} of ${k.fetched} hand-outs never followed by a connection (${suspend ? 'suspends' : 'throttles'} at ${suspend ? t.credentials_unused.suspend : t.credentials_unused.throttle})`,
    });
  }
  const v = s.velocity;
  if (v.creates_last_hour >= t.velocity.throttle_per_hour && v.creates_last_hour >= t.velocity.multiple * v.baseline_per_hour) {
    found.push({
      level: 'throttled',
      reason: `velocity: ${v.creates_last_hour} creates in the last hour, ${t.velocity.multiple}x or more the baseline of ${v.baseline_per_hour}/h (throttles at ${t.velocity.throttle_per_hour}/h)`,
    });
  }
  const f = s.fan_out;
  if (f.value >= t.fan_out.throttle) {
    const suspend = f.value >= t.fan_out.suspend;
    found.push({
      level: suspend ? 'suspended' : 'throttled',
      reason: `fan-out: ${f.value} short-lived unused branches of ${f.parent_id} (${suspend ? 'suspends' : 'throttles'} at ${suspend ? t.fan_out.suspend : t.fan_out.throttle})`,
    });
  }
  found.sort((a, b) => RANK[b.level] - RANK[a.level]);
  return { level: found.reduce<AbuseState>((l, x) => higher(l, x.level), 'ok'), reasons: found.map((x) => who + x.reason) };
}

/** The account's level: the highest of its own signals' and of any one token's. */
export function judge(account: Signals, tokens: Map<string, Signals>, t: AbuseThresholds): Verdict {
  const own = judgeSignals(account, t);
  let level = own.level;
  const reasons = [...own.reasons];
  for (const [tokenId, s] of tokens) {
    const v = judgeSignals(s, t, `token ${tokenId}: `);
    level = higher(level, v.level);
    // A token's reasons add to the account's only where they say more than the account's own.
    if (RANK[v.level] > RANK[own.level]) reasons.push(...v.reasons);
  }
  return { level, reasons };
}

export interface CurrentState {
  state: AbuseState;
  pinned: boolean;
  /** When the state last moved (ms); null if never. */
  since: number | null;
}

export interface Move {
  to: AbuseState;
  reason: string;
  /** A decay to ok forgives the history before it (it is not counted again). */
  forgive: boolean;
}

/**
 * The one move the state makes now, or null. Up: one step at a time (ok → throttled →
 * suspended), so every suspension was a throttle first, each with its own event. Down: only
 * after `quiet_hours` since the last move, to the level the signals call for now. A pinned state
 * never moves by itself.
 */
export function nextMove(current: CurrentState, verdict: Verdict, t: AbuseThresholds, now: number): Move | null {
  if (current.pinned) return null;
  const { state } = current;
  if (RANK[verdict.level] > RANK[state]) {
    return { to: state === 'ok' ? 'throttled' : 'suspended', reason: verdict.reasons.join('; '), forgive: false };
  }
  const quietMs = t.quiet_hours * 3_600_000;
  if (RANK[verdict.level] < RANK[state] && (current.since === null || now - current.since >= quietMs)) {
    const to = verdict.level;
    return {
      to,
      reason: `quiet for ${t.quiet_hours} h since ${state}: ${to === 'ok' ? 'no signal over a threshold' : verdict.reasons.join('; ')}`,
      forgive: to === 'ok',
    };
  }
  return null;
}
