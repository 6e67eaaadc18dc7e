/**
 * The per-account provider-action rate: every request that makes dblease call the database
 * provider for an account (a create, a branch, a credentials rotation, a delete) first takes
 * one token from that account's bucket, held in its Durable Object
 * (durable-objects/provider-actions.ts). One token per action, whatever number of provider
 * requests the action needs: the bucket bounds how fast one account can set the provider
 * working, and the shared ProviderBudget's fair shares bound the requests themselves
 * (src/core/policy/budget-math.ts).
 *
 * Operator vars (wrangler.toml): `DBLEASE_PROVIDER_ACTIONS_PER_MINUTE` (default 120) and
 * `DBLEASE_PROVIDER_ACTION_BURST` (default 30). Like the other operator config
 * (operator-config.ts), a value that is not a whole number of at least 1 is a deployment error:
 * it fails loudly rather than silently falling back to a rate the operator did not choose.
 */
import { Failure } from '../errors';
import type { BucketRate } from './token-bucket';

export const DEFAULT_PROVIDER_ACTION_RATE: Readonly<BucketRate> = Object.freeze({ perMinute: 120, burst: 30 });

type RateEnv = { DBLEASE_PROVIDER_ACTIONS_PER_MINUTE?: string; DBLEASE_PROVIDER_ACTION_BURST?: string };

function wholeNumber(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Failure('misconfigured', `${name} must be a whole number >= 1`);
  return n;
}

export function providerActionRate(env: RateEnv): BucketRate {
  return {
    perMinute: wholeNumber(
      'DBLEASE_PROVIDER_ACTIONS_PER_MINUTE',
      env.DBLEASE_PROVIDER_ACTIONS_PER_MINUTE,
      DEFAULT_PROVIDER_ACTION_RATE.perMinute,
    ),
    burst: wholeNumber('DBLEASE_PROVIDER_ACTION_BURST', env.DBLEASE_PROVIDER_ACTION_BURST, DEFAULT_PROVIDER_ACTION_RATE.burst),
  };
}

/** 429 for an account whose provider-action bucket is empty. */
export const providerActionLimited = (retryAfterSeconds: number, rate: BucketRate) =>
  new Failure(
    'provider_action_rate_limited',
    `too many actions at the database provider: the account may create, branch, rotate credentials or delete ${rate.perMinute} times a minute in bursts of ${rate.burst}`,
    { provider_actions_per_minute: rate.perMinute, provider_action_burst: rate.burst },
    retryAfterSeconds,
  );
