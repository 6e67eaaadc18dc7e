/**
 * The operator's configuration, from Worker vars:
 *
 * - `DBLEASE_POLICY_MAX`: JSON object with any of the policy knobs (src/core/policy/policy.ts); each
 *   is the maximum owners may set and the value accounts start with. Missing knobs take the
 *   defaults of src/core/policy/policy.ts. Example: `{"max_active_databases": 200, "monthly_spend_cap_usd": 100}`.
 * - `DBLEASE_PRICES`: JSON object with any of the price-table fields (src/core/policy/cost.ts).
 *
 * A var that is not valid JSON of the right shape is a deployment error: it fails loudly (500,
 * logged) rather than silently falling back to defaults the operator did not choose.
 */
import { Failure } from '../errors';
import { DEFAULT_PRICES, type PriceTable } from './cost';
import { DEFAULT_POLICY, POLICY_MINIMUM, isIntegerField, type Policy, type PolicyField } from './policy';

export interface OperatorConfig {
  maxima: Policy;
  prices: PriceTable;
}

type ConfigEnv = { DBLEASE_POLICY_MAX?: string; DBLEASE_PRICES?: string };

const misconfigured = (message: string) => new Failure('misconfigured', message);

function parseObject(name: string, raw: string | undefined): Record<string, unknown> {
  if (raw === undefined || raw.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw misconfigured(`${name} is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw misconfigured(`${name} must be a JSON object`);
  return value as Record<string, unknown>;
}

export function parsePolicyMaxima(raw: string | undefined): Policy {
  const given = parseObject('DBLEASE_POLICY_MAX', raw);
  const out: Policy = { ...DEFAULT_POLICY };
  for (const [key, value] of Object.entries(given)) {
    if (!(key in DEFAULT_POLICY)) throw misconfigured(`DBLEASE_POLICY_MAX: unknown knob ${key}`);
    const field = key as PolicyField;
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      value >= POLICY_MINIMUM[field] &&
      (!isIntegerField(field) || Number.isInteger(value));
    if (!ok) throw misconfigured(`DBLEASE_POLICY_MAX.${key} must be a number >= ${POLICY_MINIMUM[field]}`);
    out[field] = value as number;
  }
  out.default_ttl_seconds = Math.min(out.default_ttl_seconds, out.max_ttl_seconds);
  return out;
}

export function parsePrices(raw: string | undefined): PriceTable {
  const given = parseObject('DBLEASE_PRICES', raw);
  const out: PriceTable = { ...DEFAULT_PRICES };
  for (const [key, value] of Object.entries(given)) {
    if (!(key in DEFAULT_PRICES)) throw misconfigured(`DBLEASE_PRICES: unknown field ${key}`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw misconfigured(`DBLEASE_PRICES.${key} must be a number >= 0`);
    }
    out[key as keyof PriceTable] = value;
  }
  return out;
}

let cached: { key: string; config: OperatorConfig } | undefined;

/** Parsed once per isolate per distinct pair of var values. */
export function operatorConfig(env: ConfigEnv): OperatorConfig {
  const key = `${env.DBLEASE_POLICY_MAX ?? ''}\u0000${env.DBLEASE_PRICES ?? ''}`;
  if (cached?.key !== key) {
    cached = { key, config: { maxima: parsePolicyMaxima(env.DBLEASE_POLICY_MAX), prices: parsePrices(env.DBLEASE_PRICES) } };
  }
  return cached.config;
}
