/** How the account's abuse state reads in `GET /v1/account` (README "Abuse"). */
import type { AbuseState } from '../src/core/policy/abuse-state';
import type { Signals } from '../src/core/policy/abuse-signals';
import type { account } from './schema';

export interface TokenSignals extends Signals {
  token_id: string;
  level: AbuseState;
}

/** What the last evaluation saw: stored on the account row as JSON. */
export interface AbuseSignals {
  evaluated_at: string;
  window_hours: number;
  account: Signals;
  /** The creating tokens with the highest level first, at most five. */
  tokens: TokenSignals[];
}

export interface AbuseView {
  state: AbuseState;
  /** Why it is in this state (the last move's reason). */
  reason: string | null;
  since: string | null;
  /** Set by the operator: no moves, no decay, until cleared. */
  pinned: boolean;
  signals: AbuseSignals | null;
  /** The signals over a threshold at the last evaluation. */
  reasons: string[];
}

export function abuseView(row: typeof account.$inferSelect): AbuseView {
  const stored = row.abuseSignals as { signals?: AbuseSignals; reasons?: string[] } | null;
  return {
    state: row.abuseState,
    reason: row.abuseReason,
    since: row.abuseSince ? new Date(row.abuseSince).toISOString() : null,
    pinned: row.abusePinned,
    signals: stored?.signals ?? null,
    reasons: stored?.reasons ?? [],
  };
}
