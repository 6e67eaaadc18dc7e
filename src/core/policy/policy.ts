/**
 * Account policy: its knobs and their defaults. The operator sets maxima (Worker var
 * `DBLEASE_POLICY_MAX`, defaults below); an owner may lower any knob and raise it again, never
 * past the maximum. An account stores only its owner's overrides, so lowering a maximum later
 * takes effect everywhere at once.
 */
import type { FieldIssue } from '../errors';

export interface Policy {
  default_ttl_seconds: number;
  max_ttl_seconds: number;
  max_active_databases: number;
  creates_per_minute: number;
  create_burst: number;
  max_branch_depth: number;
  /** USD; held internally as integer micro-dollars. */
  monthly_spend_cap_usd: number;
  sql_statement_timeout_ms: number;
  sql_max_rows: number;
  sql_max_bytes: number;
}

export type PolicyField = keyof Policy;

export const DEFAULT_POLICY: Readonly<Policy> = Object.freeze({
  default_ttl_seconds: 3_600,
  max_ttl_seconds: 7 * 24 * 3_600,
  max_active_databases: 50,
  creates_per_minute: 60,
  create_burst: 20,
  max_branch_depth: 64,
  monthly_spend_cap_usd: 20,
  sql_statement_timeout_ms: 10_000,
  sql_max_rows: 10_000,
  sql_max_bytes: 10 * 1024 * 1024,
});

export const POLICY_FIELDS = Object.keys(DEFAULT_POLICY) as PolicyField[];

/** Smallest allowed value per knob: 0 only where "none" is meaningful (no branches, no spend). */
export const POLICY_MINIMUM: Readonly<Record<PolicyField, number>> = Object.freeze({
  ...(Object.fromEntries(POLICY_FIELDS.map((f) => [f, 1])) as Record<PolicyField, number>),
  max_branch_depth: 0,
  monthly_spend_cap_usd: 0,
});

/** Only the spend cap may have a fractional value (cents and below). */
export const isIntegerField = (field: PolicyField) => field !== 'monthly_spend_cap_usd';

export type PolicyOverrides = Partial<Record<PolicyField, number>>;

/** The effective policy: each override clamped to the maximum; the default TTL to the max TTL. */
export function resolvePolicy(overrides: PolicyOverrides, maxima: Policy): Policy {
  const out = { ...maxima };
  for (const field of POLICY_FIELDS) {
    const v = overrides[field];
    if (typeof v === 'number') out[field] = Math.min(v, maxima[field]);
  }
  // An owner who lowers max_ttl below the default TTL has lowered the default too.
  out.default_ttl_seconds = Math.min(out.default_ttl_seconds, out.max_ttl_seconds);
  return out;
}

/** A patch: a number sets an override, null removes it (back to the operator's maximum). */
export type PolicyPatch = Partial<Record<PolicyField, number | null>>;

/**
 * The owner's patch applied to their current overrides, or the fields at fault. Field types are
 * the route schema's job; this checks what depends on the maxima.
 */
export function applyPolicyPatch(
  current: PolicyOverrides,
  patch: PolicyPatch,
  maxima: Policy,
): { ok: true; overrides: PolicyOverrides } | { ok: false; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const next: PolicyOverrides = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    const field = key as PolicyField;
    if (!POLICY_FIELDS.includes(field)) {
      issues.push({ path: key, message: 'unknown policy field' });
      continue;
    }
    if (value === null || value === undefined) {
      delete next[field];
      continue;
    }
    if (!Number.isFinite(value) || (isIntegerField(field) && !Number.isInteger(value))) {
      issues.push({ path: field, message: isIntegerField(field) ? 'must be an integer' : 'must be a number' });
    } else if (value < POLICY_MINIMUM[field]) {
      issues.push({ path: field, message: `must be at least ${POLICY_MINIMUM[field]}` });
    } else if (value > maxima[field]) {
      issues.push({ path: field, message: `exceeds the operator's maximum of ${maxima[field]}` });
    } else {
      next[field] = value;
    }
  }
  if (issues.length === 0) {
    const effective = resolvePolicy(next, maxima);
    const wanted = next.default_ttl_seconds;
    if (patch.default_ttl_seconds != null && wanted !== undefined && wanted > effective.max_ttl_seconds) {
      issues.push({ path: 'default_ttl_seconds', message: `exceeds max_ttl_seconds (${effective.max_ttl_seconds})` });
    }
  }
  return issues.length ? { ok: false, issues } : { ok: true, overrides: next };
}

/** Lower create rate for throttled accounts (abuse state): `fraction` of the policy's, never below one per minute. */
export const THROTTLE_DIVISOR = 4;
export function createRateFor(policy: Policy, abuseState: 'ok' | 'throttled' | 'suspended', fraction = 1 / THROTTLE_DIVISOR) {
  if (abuseState !== 'throttled') return { perMinute: policy.creates_per_minute, burst: policy.create_burst };
  return {
    perMinute: Math.max(1, Math.floor(policy.creates_per_minute * fraction)),
    burst: Math.max(1, Math.floor(policy.create_burst * fraction)),
  };
}
