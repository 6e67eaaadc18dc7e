/**
 * The admission checks of a create, as pure functions over numbers the account Durable Object
 * reads from its storage. Each returns the refusal (a Failure) or the admitted value; the
 * object runs them in a fixed order (idempotency, TTL, quota, rate, depth, spend) and writes
 * nothing unless all pass.
 */
import { Failure, invalidFields } from '../errors';
import type { Result } from '../result';
import { microToUsd, withinSpendCap, type SpendCheck } from './cost';
import type { Policy } from './policy';

/** A check's verdict, as data: the value, or the refusal as a `DomainError`. */
export type Check<T> = Result<T>;
const pass = <T>(value: T): Check<T> => ({ ok: true, value });
const refuse = (failure: Failure): Check<never> => ({ ok: false, error: failure.toJSON() });

/**
 * The lease's TTL: the requested one, or the policy's default clamped to the token's maximum.
 * `field` names the input in errors (`ttl_seconds` on create and update).
 */
export function checkTtl(
  requested: number | undefined,
  policy: Policy,
  tokenMaxTtlSeconds: number | null,
  field = 'ttl_seconds',
): Check<number> {
  const tokenMax = tokenMaxTtlSeconds ?? Infinity;
  if (requested === undefined) return pass(Math.min(policy.default_ttl_seconds, tokenMax));
  if (!Number.isInteger(requested) || requested <= 0) {
    return refuse(invalidFields([{ path: field, message: 'must be a positive integer number of seconds' }]));
  }
  if (requested > policy.max_ttl_seconds) {
    return refuse(invalidFields([{ path: field, message: `exceeds the account's maximum TTL of ${policy.max_ttl_seconds} seconds` }]));
  }
  if (requested > tokenMax) {
    return refuse(invalidFields([{ path: field, message: `exceeds this token's maximum TTL of ${tokenMax} seconds` }]));
  }
  return pass(requested);
}

/**
 * Active databases (provisioning + ready) against the quota. `retryAfterSeconds` is when the
 * earliest lease ends, so an agent knows when a slot may free up.
 */
export function checkQuota(active: number, policy: Policy, retryAfterSeconds: number): Check<void> {
  if (active < policy.max_active_databases) return pass(undefined);
  return refuse(
    new Failure(
      'quota_exceeded',
      `the account already has ${active} active databases (maximum ${policy.max_active_databases})`,
      { max_active_databases: policy.max_active_databases, active_databases: active },
      retryAfterSeconds,
    ),
  );
}

export function checkDepth(parentDepth: number, policy: Policy): Check<number> {
  const depth = parentDepth + 1;
  if (depth <= policy.max_branch_depth) return pass(depth);
  return refuse(
    new Failure('branch_depth_exceeded', `a branch here would be at depth ${depth} (maximum ${policy.max_branch_depth})`, {
      depth,
      max_branch_depth: policy.max_branch_depth,
    }),
  );
}

export function checkSpend(s: SpendCheck): Check<void> {
  if (withinSpendCap(s)) return pass(undefined);
  return refuse(
    new Failure(
      'spend_cap_exceeded',
      `this lease could cost up to $${microToUsd(s.requestedMicroUsd)}, which would take the month past its cap of $${microToUsd(s.capMicroUsd)}`,
      {
        cap_micro_usd: s.capMicroUsd,
        spent_micro_usd: s.spentMicroUsd,
        reserved_micro_usd: s.reservedMicroUsd,
        requested_micro_usd: s.requestedMicroUsd,
        available_micro_usd: Math.max(0, s.capMicroUsd - s.spentMicroUsd - s.reservedMicroUsd),
      },
    ),
  );
}

/**
 * A limit below the account's cap: a token's month (402 `token_spend_limit`) or a session's
 * budget (402 `session_spend_limit`). `usedMicroUsd` is what its databases hold now, reserved
 * and spent; the lease's maximum cost must fit in what is left.
 */
export function checkLimit(
  kind: 'token' | 'session',
  s: { limitMicroUsd: number; usedMicroUsd: number; requestedMicroUsd: number },
): Check<void> {
  if (s.usedMicroUsd + s.requestedMicroUsd <= s.limitMicroUsd) return pass(undefined);
  const what = kind === 'token' ? "this token's month" : "the session's budget";
  return refuse(
    new Failure(
      kind === 'token' ? 'token_spend_limit' : 'session_spend_limit',
      `this lease could cost up to $${microToUsd(s.requestedMicroUsd)}, which would take ${what} past its limit of $${microToUsd(s.limitMicroUsd)}`,
      {
        limit_micro_usd: s.limitMicroUsd,
        used_micro_usd: s.usedMicroUsd,
        requested_micro_usd: s.requestedMicroUsd,
        available_micro_usd: Math.max(0, s.limitMicroUsd - s.usedMicroUsd),
      },
    ),
  );
}

export const rateLimited = (retryAfterSeconds: number, rate: { perMinute: number; burst: number }) =>
  new Failure(
    'create_rate_limited',
    `too many creates: the account may create ${rate.perMinute} databases a minute in bursts of ${rate.burst}`,
    { creates_per_minute: rate.perMinute, create_burst: rate.burst },
    retryAfterSeconds,
  );
