/**
 * The operator's hand on abuse detection (README "Abuse"): clear an account back to ok (its
 * history so far forgiven), optionally pinned there, or pin any state. The routes check the
 * operator token; the account object writes the move and its event.
 */
import { unwrap } from '../../core/result';
import type { AbuseState } from '../../core/policy/abuse-state';
import { accountObject } from '../account-client';

export async function clearAbuse(env: Env, accountId: string, input: { pin: boolean; reason?: string }) {
  const reason = input.reason ?? 'cleared by the operator';
  return unwrap(await accountObject(env, accountId).setAbuseByOperator({ state: 'ok', pin: input.pin, reason }));
}

export async function pinAbuse(env: Env, accountId: string, input: { state: AbuseState; reason: string }) {
  return unwrap(await accountObject(env, accountId).setAbuseByOperator({ state: input.state, pin: true, reason: input.reason }));
}
